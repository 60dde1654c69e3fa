// Package params reads and writes the String parameters in AWS Systems Manager
// Parameter Store that hold repository URIs. It turns the SDK's modelled errors
// into the two conditions the reconcile core branches on: ErrNotFound and
// ErrAlreadyExists.
package params

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// API is the part of the SSM client this package calls. *ssm.Client satisfies
// it; tests may substitute a fake.
type API interface {
	GetParameter(ctx context.Context, params *ssm.GetParameterInput,
		optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, params *ssm.PutParameterInput,
		optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(ctx context.Context, params *ssm.DeleteParameterInput,
		optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
	ListTagsForResource(ctx context.Context, params *ssm.ListTagsForResourceInput,
		optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	AddTagsToResource(ctx context.Context, params *ssm.AddTagsToResourceInput,
		optFns ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
}

// The conditions the core branches on. Errors returned by Store match them
// with errors.Is and still match the SDK's modelled type with errors.As.
var (
	// ErrNotFound: the parameter does not exist.
	ErrNotFound = errors.New("parameter not found")
	// ErrAlreadyExists: a create found the parameter written already.
	ErrAlreadyExists = errors.New("parameter already exists")
)

// Parameter is one parameter's current value.
type Parameter struct {
	Name, Value string
	Version     int64
}

// Store reads and writes parameters. It is safe for concurrent use.
type Store struct {
	api API
}

// New returns a Store that calls api.
func New(api API) *Store {
	return &Store{api: api}
}

// Get returns the parameter called name, or ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (*Parameter, error) {
	out, err := s.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("reading SSM parameter %q: %w", name, classify(err))
	}
	if out.Parameter == nil {
		return nil, fmt.Errorf("reading SSM parameter %q: %w", name, ErrNotFound)
	}
	return &Parameter{
		Name:    aws.ToString(out.Parameter.Name),
		Value:   aws.ToString(out.Parameter.Value),
		Version: out.Parameter.Version,
	}, nil
}

// Create writes a new String parameter with its tags in one call, so it is
// never visible without them. It returns ErrAlreadyExists when the parameter
// exists, and then writes nothing.
func (s *Store) Create(ctx context.Context, name, value string, tags map[string]string) error {
	_, err := s.api.PutParameter(ctx, &ssm.PutParameterInput{
		Name:      aws.String(name),
		Value:     aws.String(value),
		Type:      types.ParameterTypeString,
		Overwrite: aws.Bool(false),
		Tags:      expandTags(tags),
	})
	if err != nil {
		return fmt.Errorf("creating SSM parameter %q: %w", name, classify(err))
	}
	return nil
}

// Overwrite writes a new version of an existing String parameter. Its tags
// are kept; SSM refuses tags together with Overwrite, so AddTags sets them.
func (s *Store) Overwrite(ctx context.Context, name, value string) error {
	_, err := s.api.PutParameter(ctx, &ssm.PutParameterInput{
		Name:      aws.String(name),
		Value:     aws.String(value),
		Type:      types.ParameterTypeString,
		Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("writing SSM parameter %q: %w", name, classify(err))
	}
	return nil
}

// Delete deletes the parameter called name. It returns ErrNotFound when there
// is none.
func (s *Store) Delete(ctx context.Context, name string) error {
	_, err := s.api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("deleting SSM parameter %q: %w", name, classify(err))
	}
	return nil
}

// Tags returns the tags of the parameter called name. It returns ErrNotFound
// when the parameter does not exist.
func (s *Store) Tags(ctx context.Context, name string) (map[string]string, error) {
	out, err := s.api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceId:   aws.String(name),
		ResourceType: types.ResourceTypeForTaggingParameter,
	})
	if err != nil {
		return nil, fmt.Errorf("reading tags of SSM parameter %q: %w", name, classify(err))
	}
	tags := make(map[string]string, len(out.TagList))
	for _, t := range out.TagList {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// AddTags adds tags to the parameter called name, replacing the values of keys
// it has already.
func (s *Store) AddTags(ctx context.Context, name string, tags map[string]string) error {
	_, err := s.api.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
		ResourceId:   aws.String(name),
		ResourceType: types.ResourceTypeForTaggingParameter,
		Tags:         expandTags(tags),
	})
	if err != nil {
		return fmt.Errorf("tagging SSM parameter %q: %w", name, classify(err))
	}
	return nil
}

// condition marks an SDK error with the sentinel it stands for, keeping the
// SDK's message and its modelled type reachable with errors.As.
type condition struct {
	sentinel, err error
}

// Error returns the SDK's message.
func (c *condition) Error() string { return c.err.Error() }

// Unwrap returns both the sentinel and the SDK error.
func (c *condition) Unwrap() []error { return []error{c.sentinel, c.err} }

// classify marks err with ErrNotFound or ErrAlreadyExists when its modelled
// type means one of them, and returns other errors unchanged. SSM answers a
// tag request for a missing parameter with InvalidResourceId.
func classify(err error) error {
	if _, ok := errors.AsType[*types.ParameterNotFound](err); ok {
		return &condition{ErrNotFound, err}
	}
	if _, ok := errors.AsType[*types.InvalidResourceId](err); ok {
		return &condition{ErrNotFound, err}
	}
	if _, ok := errors.AsType[*types.ParameterAlreadyExists](err); ok {
		return &condition{ErrAlreadyExists, err}
	}
	return err
}

// expandTags turns tags into the SDK's shape, sorted by key so requests are
// deterministic.
func expandTags(in map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range slices.Sorted(maps.Keys(in)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(in[k])})
	}
	return out
}
