// Package registry reads and writes Amazon ECR repositories for the reconcile
// core. It turns the SDK's shapes into plain values and its modelled errors into
// three conditions the core branches on: ErrNotFound, ErrAlreadyExists and
// ErrNotEmpty.
package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// API is the part of the ECR client this package calls. *ecr.Client satisfies
// it; tests may substitute a fake.
type API interface {
	DescribeRepositories(ctx context.Context, params *ecr.DescribeRepositoriesInput,
		optFns ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	CreateRepository(ctx context.Context, params *ecr.CreateRepositoryInput,
		optFns ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error)
	PutImageScanningConfiguration(ctx context.Context,
		params *ecr.PutImageScanningConfigurationInput,
		optFns ...func(*ecr.Options)) (*ecr.PutImageScanningConfigurationOutput, error)
	PutImageTagMutability(ctx context.Context, params *ecr.PutImageTagMutabilityInput,
		optFns ...func(*ecr.Options)) (*ecr.PutImageTagMutabilityOutput, error)
	GetLifecyclePolicy(ctx context.Context, params *ecr.GetLifecyclePolicyInput,
		optFns ...func(*ecr.Options)) (*ecr.GetLifecyclePolicyOutput, error)
	PutLifecyclePolicy(ctx context.Context, params *ecr.PutLifecyclePolicyInput,
		optFns ...func(*ecr.Options)) (*ecr.PutLifecyclePolicyOutput, error)
	DeleteLifecyclePolicy(ctx context.Context, params *ecr.DeleteLifecyclePolicyInput,
		optFns ...func(*ecr.Options)) (*ecr.DeleteLifecyclePolicyOutput, error)
	GetRepositoryPolicy(ctx context.Context, params *ecr.GetRepositoryPolicyInput,
		optFns ...func(*ecr.Options)) (*ecr.GetRepositoryPolicyOutput, error)
	SetRepositoryPolicy(ctx context.Context, params *ecr.SetRepositoryPolicyInput,
		optFns ...func(*ecr.Options)) (*ecr.SetRepositoryPolicyOutput, error)
	DeleteRepositoryPolicy(ctx context.Context, params *ecr.DeleteRepositoryPolicyInput,
		optFns ...func(*ecr.Options)) (*ecr.DeleteRepositoryPolicyOutput, error)
	ListTagsForResource(ctx context.Context, params *ecr.ListTagsForResourceInput,
		optFns ...func(*ecr.Options)) (*ecr.ListTagsForResourceOutput, error)
	TagResource(ctx context.Context, params *ecr.TagResourceInput,
		optFns ...func(*ecr.Options)) (*ecr.TagResourceOutput, error)
	UntagResource(ctx context.Context, params *ecr.UntagResourceInput,
		optFns ...func(*ecr.Options)) (*ecr.UntagResourceOutput, error)
	DeleteRepository(ctx context.Context, params *ecr.DeleteRepositoryInput,
		optFns ...func(*ecr.Options)) (*ecr.DeleteRepositoryOutput, error)
	ListImages(ctx context.Context, params *ecr.ListImagesInput,
		optFns ...func(*ecr.Options)) (*ecr.ListImagesOutput, error)
}

// The conditions the core branches on. Errors returned by Registry match them
// with errors.Is and still match the SDK's modelled type with errors.As.
var (
	// ErrNotFound: the repository does not exist.
	ErrNotFound = errors.New("repository not found")
	// ErrAlreadyExists: a repository with that name exists already.
	ErrAlreadyExists = errors.New("repository already exists")
	// ErrNotEmpty: the repository holds images and deletion was not forced.
	ErrNotEmpty = errors.New("repository not empty")
)

// Encryption types and the defaults ECR applies to what a create leaves out.
const (
	EncryptionAES256  = string(types.EncryptionTypeAes256)
	EncryptionKMS     = string(types.EncryptionTypeKms)
	EncryptionKMSDSSE = string(types.EncryptionTypeKmsDsse)
	// MutabilityMutable is the tag mutability of a repository created without one.
	MutabilityMutable = string(types.ImageTagMutabilityMutable)
)

// settleAttempts and settleMaxBackoff bound how long a call made right after a
// create waits for the new repository to become visible: ECR is eventually
// consistent, and for a second or two may answer RepositoryNotFoundException.
const (
	settleAttempts   = 6
	settleMaxBackoff = 2 * time.Second
)

// listImagesPage is the most image ids one ListImages call returns.
const listImagesPage = 1000

// Repository is what ECR reports about one repository.
type Repository struct {
	Name, ARN, URI, RegistryID string
	ScanOnPush                 bool
	TagMutability              string
	// MutabilityExclusions is empty unless TagMutability is one of the
	// _WITH_EXCLUSION values.
	MutabilityExclusions []ExclusionFilter
	// EncryptionType is AES256 when ECR reports no encryption configuration.
	EncryptionType string
	// KMSKey is the key ECR reports, as given at creation (an ARN, a key id or
	// an alias), or the default key's ARN; empty for AES256.
	KMSKey string
}

// ExclusionFilter is one image tag mutability exclusion filter.
type ExclusionFilter struct {
	Filter     string
	FilterType string // WILDCARD
}

// CreateInput describes a repository to create. Zero values leave the setting
// to ECR's default, except ScanOnPush, which is always sent.
type CreateInput struct {
	Name                 string
	ScanOnPush           bool
	TagMutability        string
	MutabilityExclusions []ExclusionFilter
	EncryptionType       string
	KMSKey               string
	// Tags are set by the create itself, so a repository is never visible
	// without them.
	Tags map[string]string
}

// Registry reads and writes repositories in the caller's default registry.
// It is safe for concurrent use.
type Registry struct {
	api  API
	opts []func(*ecr.Options)
}

// New returns a Registry that calls api.
func New(api API) *Registry {
	return &Registry{api: api}
}

// Settling returns a Registry for calls about a repository that was created a
// moment ago, by this process or a concurrent one. Its calls treat
// RepositoryNotFoundException as retryable, with at least six attempts and
// the client's backoff capped at two seconds, so ECR's eventual consistency
// right after a create is absorbed by the SDK's retryer. Calls that end in
// not-found after that still return ErrNotFound.
func (r *Registry) Settling() *Registry {
	settle := func(o *ecr.Options) {
		if o.Retryer == nil {
			return
		}
		rt := retry.AddWithErrorCodes(o.Retryer,
			(&types.RepositoryNotFoundException{}).ErrorCode())
		if rt.MaxAttempts() < settleAttempts {
			rt = retry.AddWithMaxAttempts(rt, settleAttempts)
		}
		if v2, ok := rt.(aws.RetryerV2); ok {
			rt = cappedDelay{RetryerV2: v2, max: settleMaxBackoff}
		}
		o.Retryer = rt
		// A per-call RetryMaxAttempts would replace the attempts set above.
		o.RetryMaxAttempts = 0
	}
	return &Registry{api: r.api, opts: append(slices.Clip(r.opts), settle)}
}

// cappedDelay is a retryer whose delays between attempts are at most max.
type cappedDelay struct {
	aws.RetryerV2
	max time.Duration
}

// RetryDelay returns the wrapped retryer's delay, capped at max.
func (c cappedDelay) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, err := c.RetryerV2.RetryDelay(attempt, err)
	return min(d, c.max), err
}

// FindRepositoryByName describes the repository called name. It returns
// ErrNotFound when there is none.
func (r *Registry) FindRepositoryByName(ctx context.Context, name string) (*Repository, error) {
	out, err := r.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
		RepositoryNames: []string{name},
	}, r.opts...)
	if err != nil {
		return nil, fmt.Errorf("reading ECR repository %q: %w", name, classify(err))
	}
	for _, repo := range out.Repositories {
		if aws.ToString(repo.RepositoryName) == name {
			return flattenRepository(repo), nil
		}
	}
	return nil, fmt.Errorf("reading ECR repository %q: %w", name, ErrNotFound)
}

// CreateRepository creates a repository with every setting in in, in one
// call. It returns ErrAlreadyExists when the name is taken.
func (r *Registry) CreateRepository(ctx context.Context, in CreateInput) (*Repository, error) {
	input := &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(in.Name),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{
			ScanOnPush: in.ScanOnPush,
		},
		ImageTagMutability:                 types.ImageTagMutability(in.TagMutability),
		ImageTagMutabilityExclusionFilters: expandExclusionFilters(in.MutabilityExclusions),
		Tags:                               expandTags(in.Tags),
	}
	if in.EncryptionType != "" {
		input.EncryptionConfiguration = &types.EncryptionConfiguration{
			EncryptionType: types.EncryptionType(in.EncryptionType),
		}
		if in.KMSKey != "" {
			input.EncryptionConfiguration.KmsKey = aws.String(in.KMSKey)
		}
	}
	out, err := r.api.CreateRepository(ctx, input, r.opts...)
	if err != nil {
		return nil, fmt.Errorf("creating ECR repository %q: %w", in.Name, classify(err))
	}
	if out.Repository == nil {
		return nil, fmt.Errorf("creating ECR repository %q: response has no repository", in.Name)
	}
	return flattenRepository(*out.Repository), nil
}

// PutScanOnPush turns scanning on push on or off.
func (r *Registry) PutScanOnPush(ctx context.Context, name string, on bool) error {
	_, err := r.api.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{
		RepositoryName:             aws.String(name),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: on},
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("updating scanning of ECR repository %q: %w", name, classify(err))
	}
	return nil
}

// PutTagMutability sets the tag mutability and its exclusion filters, which
// ECR replaces as a whole.
func (r *Registry) PutTagMutability(ctx context.Context, name, mutability string,
	filters []ExclusionFilter) error {
	_, err := r.api.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName:                     aws.String(name),
		ImageTagMutability:                 types.ImageTagMutability(mutability),
		ImageTagMutabilityExclusionFilters: expandExclusionFilters(filters),
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("updating tag mutability of ECR repository %q: %w", name, classify(err))
	}
	return nil
}

// LifecyclePolicy returns the repository's lifecycle policy text, or "" when it
// has none. It returns ErrNotFound when the repository does not exist.
func (r *Registry) LifecyclePolicy(ctx context.Context, name string) (string, error) {
	out, err := r.api.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{
		RepositoryName: aws.String(name),
	}, r.opts...)
	if _, ok := errors.AsType[*types.LifecyclePolicyNotFoundException](err); ok {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading lifecycle policy of ECR repository %q: %w", name,
			classify(err))
	}
	return aws.ToString(out.LifecyclePolicyText), nil
}

// PutLifecyclePolicy replaces the repository's lifecycle policy with text.
func (r *Registry) PutLifecyclePolicy(ctx context.Context, name, text string) error {
	_, err := r.api.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{
		RepositoryName:      aws.String(name),
		LifecyclePolicyText: aws.String(text),
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("writing lifecycle policy of ECR repository %q: %w", name,
			classify(err))
	}
	return nil
}

// DeleteLifecyclePolicy removes the repository's lifecycle policy. A policy
// that is already gone is not an error.
func (r *Registry) DeleteLifecyclePolicy(ctx context.Context, name string) error {
	_, err := r.api.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{
		RepositoryName: aws.String(name),
	}, r.opts...)
	if _, ok := errors.AsType[*types.LifecyclePolicyNotFoundException](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting lifecycle policy of ECR repository %q: %w", name,
			classify(err))
	}
	return nil
}

// RepositoryPolicy returns the repository's policy text, or "" when it has
// none. It returns ErrNotFound when the repository does not exist.
func (r *Registry) RepositoryPolicy(ctx context.Context, name string) (string, error) {
	out, err := r.api.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{
		RepositoryName: aws.String(name),
	}, r.opts...)
	if _, ok := errors.AsType[*types.RepositoryPolicyNotFoundException](err); ok {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading policy of ECR repository %q: %w", name, classify(err))
	}
	return aws.ToString(out.PolicyText), nil
}

// SetRepositoryPolicy replaces the repository's policy with text.
func (r *Registry) SetRepositoryPolicy(ctx context.Context, name, text string) error {
	_, err := r.api.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{
		RepositoryName: aws.String(name),
		PolicyText:     aws.String(text),
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("writing policy of ECR repository %q: %w", name, classify(err))
	}
	return nil
}

// DeleteRepositoryPolicy removes the repository's policy. A policy that is
// already gone is not an error.
func (r *Registry) DeleteRepositoryPolicy(ctx context.Context, name string) error {
	_, err := r.api.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{
		RepositoryName: aws.String(name),
	}, r.opts...)
	if _, ok := errors.AsType[*types.RepositoryPolicyNotFoundException](err); ok {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting policy of ECR repository %q: %w", name, classify(err))
	}
	return nil
}

// Tags returns the tags of the repository with the given ARN.
func (r *Registry) Tags(ctx context.Context, arn string) (map[string]string, error) {
	out, err := r.api.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{
		ResourceArn: aws.String(arn),
	}, r.opts...)
	if err != nil {
		return nil, fmt.Errorf("reading tags of ECR repository %q: %w", nameOf(arn),
			classify(err))
	}
	return flattenTags(out.Tags), nil
}

// Tag adds tags to the repository with the given ARN, replacing the values of
// keys it has already.
func (r *Registry) Tag(ctx context.Context, arn string, tags map[string]string) error {
	_, err := r.api.TagResource(ctx, &ecr.TagResourceInput{
		ResourceArn: aws.String(arn),
		Tags:        expandTags(tags),
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("tagging ECR repository %q: %w", nameOf(arn), classify(err))
	}
	return nil
}

// Untag removes the tags with the given keys from the repository with the
// given ARN.
func (r *Registry) Untag(ctx context.Context, arn string, keys []string) error {
	_, err := r.api.UntagResource(ctx, &ecr.UntagResourceInput{
		ResourceArn: aws.String(arn),
		TagKeys:     keys,
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("untagging ECR repository %q: %w", nameOf(arn), classify(err))
	}
	return nil
}

// DeleteRepository deletes the repository, and its images when force is true.
// It returns ErrNotEmpty when the repository holds images and force is false,
// and ErrNotFound when it does not exist.
func (r *Registry) DeleteRepository(ctx context.Context, name string, force bool) error {
	_, err := r.api.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{
		RepositoryName: aws.String(name),
		Force:          force,
	}, r.opts...)
	if err != nil {
		return fmt.Errorf("deleting ECR repository %q: %w", name, classify(err))
	}
	return nil
}

// ImageCount counts the repository's images with one ListImages call, so it is
// exact up to 1000; more reports that there are at least that many.
func (r *Registry) ImageCount(ctx context.Context, name string) (n int, more bool, err error) {
	out, err := r.api.ListImages(ctx, &ecr.ListImagesInput{
		RepositoryName: aws.String(name),
		MaxResults:     aws.Int32(listImagesPage),
	}, r.opts...)
	if err != nil {
		return 0, false, fmt.Errorf("listing images of ECR repository %q: %w", name,
			classify(err))
	}
	return len(out.ImageIds), out.NextToken != nil, nil
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

// classify marks err with ErrNotFound, ErrAlreadyExists or ErrNotEmpty when its
// modelled type means one of them, and returns other errors unchanged.
func classify(err error) error {
	if _, ok := errors.AsType[*types.RepositoryNotFoundException](err); ok {
		return &condition{ErrNotFound, err}
	}
	if _, ok := errors.AsType[*types.RepositoryAlreadyExistsException](err); ok {
		return &condition{ErrAlreadyExists, err}
	}
	if _, ok := errors.AsType[*types.RepositoryNotEmptyException](err); ok {
		return &condition{ErrNotEmpty, err}
	}
	return err
}

// flattenRepository turns the SDK's repository into a Repository.
func flattenRepository(in types.Repository) *Repository {
	out := &Repository{
		Name:           aws.ToString(in.RepositoryName),
		ARN:            aws.ToString(in.RepositoryArn),
		URI:            aws.ToString(in.RepositoryUri),
		RegistryID:     aws.ToString(in.RegistryId),
		TagMutability:  string(in.ImageTagMutability),
		EncryptionType: EncryptionAES256,
	}
	if out.TagMutability == "" {
		out.TagMutability = MutabilityMutable
	}
	if in.ImageScanningConfiguration != nil {
		out.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	for _, f := range in.ImageTagMutabilityExclusionFilters {
		out.MutabilityExclusions = append(out.MutabilityExclusions, ExclusionFilter{
			Filter:     aws.ToString(f.Filter),
			FilterType: string(f.FilterType),
		})
	}
	if e := in.EncryptionConfiguration; e != nil && e.EncryptionType != "" {
		out.EncryptionType = string(e.EncryptionType)
		out.KMSKey = aws.ToString(e.KmsKey)
	}
	return out
}

// expandExclusionFilters turns filters into the SDK's shape; nil stays nil.
func expandExclusionFilters(in []ExclusionFilter) []types.ImageTagMutabilityExclusionFilter {
	var out []types.ImageTagMutabilityExclusionFilter
	for _, f := range in {
		out = append(out, types.ImageTagMutabilityExclusionFilter{
			Filter:     aws.String(f.Filter),
			FilterType: types.ImageTagMutabilityExclusionFilterType(f.FilterType),
		})
	}
	return out
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

// flattenTags turns the SDK's tags into a map.
func flattenTags(in []types.Tag) map[string]string {
	out := make(map[string]string, len(in))
	for _, t := range in {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// nameOf returns the repository name in a repository ARN, or the ARN itself
// when it has no "repository/" part.
func nameOf(arn string) string {
	if _, name, ok := strings.Cut(arn, ":repository/"); ok {
		return name
	}
	return arn
}
