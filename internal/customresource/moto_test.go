package customresource

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/registry"
	"github.com/ecr-stack/ecr-stack/internal/request"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// stack is one CloudFormation stack's view of a custom resource against
// moto: it sends requests to a Handler backed by the real core and reads the
// answers from a ResponseServer, and it inspects ECR and SSM directly.
type stack struct {
	t      *testing.T
	h      *Handler
	core   *reconcile.Core
	srv    *testsupport.ResponseServer
	proxy  *testsupport.Proxy
	ecr    *ecr.Client
	ssm    *ssm.Client
	prefix string
	id     string // the stack id
	n      int    // requests sent
}

// newStack returns a stack whose handler reaches moto through a counting
// proxy, with its own parameter prefix and stack id.
func newStack(t *testing.T) *stack {
	t.Helper()
	m := testsupport.Moto(t)
	proxy := testsupport.NewProxy(t, m.URL)
	cfg := testsupport.AWSConfig(t, proxy.URL)
	direct := testsupport.AWSConfig(t, m.URL)
	log, _ := newLogger()
	core := reconcile.New(registry.New(ecr.NewFromConfig(cfg)), params.New(ssm.NewFromConfig(cfg)), log)
	prefix := "/" + testsupport.UniqueName(t, 60)
	s := &stack{
		t:      t,
		core:   core,
		srv:    testsupport.NewResponseServer(t),
		proxy:  proxy,
		ecr:    ecr.NewFromConfig(direct),
		ssm:    ssm.NewFromConfig(direct),
		prefix: prefix,
		id: "arn:aws:cloudformation:us-east-1:123456789012:stack/" +
			testsupport.UniqueName(t, 100) + "/00000000-0000-0000-0000-000000000000",
	}
	s.limit()
	return s
}

// limit gives the stack's resource a new handler that allows only
// repositories whose names start with one of prefixes (any name without
// prefixes), as a change of the function's configuration would.
func (s *stack) limit(prefixes ...string) {
	log, _ := newLogger()
	s.h = New(s.core, Options{
		Scope:     request.Scope{ParameterPrefix: s.prefix, RepositoryPrefixes: prefixes},
		Logger:    log,
		LogStream: testStream,
	})
}

// send sends a request of kind for a resource with props (and, for an
// update, old), to physical id, and returns CloudFormation's answer.
func (s *stack) send(kind cfn.RequestType, physicalID string,
	props, old map[string]any) cfn.Response {
	s.t.Helper()
	s.n++
	ev := cfn.Event{
		RequestType:           kind,
		RequestID:             "request-" + string(rune('a'+s.n)),
		ResponseURL:           s.srv.URL + "/response?X-Amz-Signature=secret",
		ResourceType:          "Custom::EcrRepository",
		PhysicalResourceID:    physicalID,
		LogicalResourceID:     "Repository",
		StackID:               s.id,
		ResourceProperties:    props,
		OldResourceProperties: old,
	}
	before := len(s.srv.Requests())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.h.Handle(ctx, ev); err != nil {
		s.t.Fatalf("Handle: %v", err)
	}
	reqs := s.srv.Requests()
	if len(reqs) != before+1 {
		s.t.Fatalf("got %d answers, want 1", len(reqs)-before)
	}
	var r cfn.Response
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &r); err != nil {
		s.t.Fatal(err)
	}
	return r
}

// owner is the owner the stack's resource records.
func (s *stack) owner() string { return s.id + "/Repository" }

// repository describes name, or returns nil when it does not exist.
func (s *stack) repository(name string) *ecrtypes.Repository {
	s.t.Helper()
	out, err := s.ecr.DescribeRepositories(context.Background(),
		&ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	var nf *ecrtypes.RepositoryNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		s.t.Fatalf("describing %q: %v", name, err)
	}
	return &out.Repositories[0]
}

// parameter returns the value of the parameter called name, or "" when it
// does not exist.
func (s *stack) parameter(name string) string {
	s.t.Helper()
	out, err := s.ssm.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil {
		s.t.Fatalf("reading parameter %q: %v", name, err)
	}
	return aws.ToString(out.Parameter.Value)
}

// putParameter writes a parameter directly, as someone outside this stack
// would.
func (s *stack) putParameter(name, value string, tags map[string]string) {
	s.t.Helper()
	in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
		Type: ssmtypes.ParameterTypeString}
	for k, v := range tags {
		in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := s.ssm.PutParameter(context.Background(), in); err != nil {
		s.t.Fatalf("writing parameter %q: %v", name, err)
	}
}

// tags returns the tags of the repository arn.
func (s *stack) tags(arn string) map[string]string {
	s.t.Helper()
	out, err := s.ecr.ListTagsForResource(context.Background(),
		&ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		s.t.Fatal(err)
	}
	m := map[string]string{}
	for _, tag := range out.Tags {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

// props returns CloudFormation-style properties (every scalar a string) for
// repository name.
func props(name string, edit func(map[string]any)) map[string]any {
	p := map[string]any{
		"ServiceToken":               "arn:aws:lambda:us-east-1:123456789012:function:ensure-repo",
		"RepositoryName":             name,
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": "true"},
		"ImageTagMutability":         "IMMUTABLE",
		"LifecyclePolicy": map[string]any{"LifecyclePolicyText": `{"rules":[{"rulePriority":1,` +
			`"description":"expire untagged","selection":{"tagStatus":"untagged",` +
			`"countType":"sinceImagePushed","countUnit":"days","countNumber":14},` +
			`"action":{"type":"expire"}}]}`},
		"Tags":          []any{map[string]any{"Key": "team", "Value": "example-team"}},
		"EmptyOnDelete": "false",
	}
	if edit != nil {
		edit(p)
	}
	return p
}

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestMotoLifecycle")
}

func TestMotoLifecycle(t *testing.T) {
	s := newStack(t)
	name := "cr/" + testsupport.UniqueName(t, 60)
	param := s.prefix + "/" + name + "/uri"
	created := props(name, nil)

	got := s.send(cfn.RequestCreate, "", created, nil)
	if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != name {
		t.Fatalf("create: got %s %q %q, want SUCCESS %q", got.Status, got.PhysicalResourceID,
			got.Reason, name)
	}
	repo := s.repository(name)
	if repo == nil {
		t.Fatal("create: got no repository")
	}
	uri := aws.ToString(repo.RepositoryUri)
	want := map[string]any{"Arn": aws.ToString(repo.RepositoryArn), "RepositoryUri": uri,
		"RegistryId": aws.ToString(repo.RegistryId), "UriParameterName": param}
	if !maps.Equal(got.Data, want) {
		t.Errorf("create: got data %v, want %v", got.Data, want)
	}
	if repo.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutable {
		t.Errorf("create: got mutability %s, want IMMUTABLE", repo.ImageTagMutability)
	}
	if v := s.parameter(param); v != uri {
		t.Errorf("create: got parameter %q, want %q", v, uri)
	}
	if tags := s.tags(aws.ToString(repo.RepositoryArn)); tags[reconcile.OwnerTag] != s.owner() ||
		tags["team"] != "example-team" {
		t.Errorf("create: got tags %v, want owner %q and team", tags, s.owner())
	}

	t.Run("update changing settings", func(t *testing.T) {
		updated := props(name, func(p map[string]any) {
			p["ImageTagMutability"] = "MUTABLE"
			delete(p, "LifecyclePolicy")
			p["Tags"] = []any{map[string]any{"Key": "tier", "Value": "gold"}}
		})
		got := s.send(cfn.RequestUpdate, name, updated, created)
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != name {
			t.Fatalf("got %s %q %q, want SUCCESS %q", got.Status, got.PhysicalResourceID,
				got.Reason, name)
		}
		repo := s.repository(name)
		if repo.ImageTagMutability != ecrtypes.ImageTagMutabilityMutable {
			t.Errorf("got mutability %s, want MUTABLE", repo.ImageTagMutability)
		}
		_, err := s.ecr.GetLifecyclePolicy(context.Background(),
			&ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(name)})
		var nf *ecrtypes.LifecyclePolicyNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("got lifecycle policy error %v, want it removed", err)
		}
		tags := s.tags(aws.ToString(repo.RepositoryArn))
		if _, ok := tags["team"]; ok || tags["tier"] != "gold" || tags[reconcile.OwnerTag] != s.owner() {
			t.Errorf("got tags %v, want tier and the owner, not team", tags)
		}
		created = updated
	})

	t.Run("update moving the parameter", func(t *testing.T) {
		moved := s.prefix + "/moved/" + name
		updated := props(name, func(p map[string]any) {
			maps.Copy(p, created)
			p["UriParameterName"] = moved
		})
		got := s.send(cfn.RequestUpdate, name, updated, created)
		if got.Status != cfn.StatusSuccess || got.Data["UriParameterName"] != moved {
			t.Fatalf("got %s %v %q, want SUCCESS with %q", got.Status, got.Data, got.Reason, moved)
		}
		if v := s.parameter(moved); v != uri {
			t.Errorf("got new parameter %q, want %q", v, uri)
		}
		if v := s.parameter(param); v != "" {
			t.Errorf("got old parameter %q, want it removed", v)
		}
		created, param = updated, moved
	})

	t.Run("delete with images", func(t *testing.T) {
		testsupport.PushImage(t, testsupport.AWSConfig(t, testsupport.Moto(t).URL), name, "1.0")
		got := s.send(cfn.RequestDelete, name, created, nil)
		wantReason := `deleting ECR repository "` + name + `": repository is not empty: it holds` +
			` 1 image and EmptyOnDelete is false, so nothing was deleted` + suffix
		if got.Status != cfn.StatusFailed || got.Reason != wantReason {
			t.Errorf("got %s %q, want FAILED %q", got.Status, got.Reason, wantReason)
		}
		if s.repository(name) == nil || s.parameter(param) == "" {
			t.Error("got the repository or parameter deleted, want both kept")
		}
	})

	t.Run("delete with EmptyOnDelete", func(t *testing.T) {
		emptied := props(name, func(p map[string]any) {
			maps.Copy(p, created)
			p["EmptyOnDelete"] = "true"
		})
		got := s.send(cfn.RequestDelete, name, emptied, nil)
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != name {
			t.Fatalf("got %s %q %q, want SUCCESS", got.Status, got.PhysicalResourceID, got.Reason)
		}
		if s.repository(name) != nil || s.parameter(param) != "" {
			t.Error("got the repository or parameter kept, want both deleted")
		}
	})

	t.Run("delete again", func(t *testing.T) {
		got := s.send(cfn.RequestDelete, name, created, nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("got %s %q, want SUCCESS for a repository already gone", got.Status, got.Reason)
		}
	})
}

func TestMotoDeleteRules(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()

	t.Run("adopted repository is released", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		if _, err := s.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if got := s.send(cfn.RequestCreate, "", props(name, nil), nil); got.Status != cfn.StatusSuccess {
			t.Fatalf("create: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		param := s.prefix + "/" + name + "/uri"
		got := s.send(cfn.RequestDelete, name, props(name, nil), nil)
		if got.Status != cfn.StatusSuccess {
			t.Fatalf("delete: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if s.repository(name) == nil {
			t.Error("got the adopted repository deleted, want it kept")
		}
		if v := s.parameter(param); v != "" {
			t.Errorf("got parameter %q, want the one this resource wrote removed", v)
		}
	})

	t.Run("somebody else's repository", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		if _, err := s.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName: aws.String(name),
			Tags:           []ecrtypes.Tag{{Key: aws.String(reconcile.OwnerTag), Value: aws.String("other")}},
		}); err != nil {
			t.Fatal(err)
		}
		got := s.send(cfn.RequestDelete, name, props(name, func(p map[string]any) {
			p["EmptyOnDelete"] = "true"
		}), nil)
		if got.Status != cfn.StatusSuccess || s.repository(name) == nil {
			t.Errorf("got %s %q, repository kept %v; want SUCCESS and kept", got.Status, got.Reason,
				s.repository(name) != nil)
		}
	})

	t.Run("failed create, then rollback", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		// An existing AES256 repository cannot become KMS-encrypted.
		if _, err := s.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		kms := props(name, func(p map[string]any) {
			p["EncryptionConfiguration"] = map[string]any{"EncryptionType": "KMS"}
			p["EmptyOnDelete"] = "true"
		})
		got := s.send(cfn.RequestCreate, "", kms, nil)
		if got.Status != cfn.StatusFailed || !IsMarker(got.PhysicalResourceID) ||
			!strings.Contains(got.Reason,
				"EncryptionConfiguration.EncryptionType: cannot change in place: ") {
			t.Fatalf("create: got %s %q %q, want FAILED with a marker and the encryption refusal",
				got.Status, got.PhysicalResourceID, got.Reason)
		}
		s.proxy.Reset()
		got = s.send(cfn.RequestDelete, got.PhysicalResourceID, kms, nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("rollback: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if calls := s.proxy.Calls(); len(calls) != 0 {
			t.Errorf("rollback: got AWS calls %v, want none", calls)
		}
		if s.repository(name) == nil {
			t.Error("rollback: got the repository deleted, want it kept")
		}
	})

	t.Run("create failing after the repository was created, then rollback", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		s.proxy.Fail("ECR.PutLifecyclePolicy", testsupport.Always,
			testsupport.Throttle("ThrottlingException"))
		got := s.send(cfn.RequestCreate, "", props(name, nil), nil)
		s.proxy.Reset()
		if got.Status != cfn.StatusFailed || got.PhysicalResourceID != name ||
			!strings.Contains(got.Reason, "PutLifecyclePolicy") {
			t.Fatalf("create: got %s %q %q, want FAILED with physical id %q naming"+
				" PutLifecyclePolicy", got.Status, got.PhysicalResourceID, got.Reason, name)
		}
		if s.repository(name) == nil {
			t.Fatal("create: got no repository, want the one created before the failure")
		}
		got = s.send(cfn.RequestDelete, got.PhysicalResourceID, props(name, nil), nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("rollback: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if s.repository(name) != nil {
			t.Error("rollback: got the repository kept, want it deleted")
		}
	})

	t.Run("create failing on a parameter not tagged for it, then rollback", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		param := s.prefix + "/" + name + "/uri"
		s.putParameter(param, "something else", nil)
		s.proxy.Reset()
		got := s.send(cfn.RequestCreate, "", props(name, nil), nil)
		wantReason := `writing SSM parameter "` + param + `": UriParameterName: names a` +
			` parameter that belongs to another repository or owner: it has no` +
			` ecr-stack:repository tag and holds "something else", which cannot be the URI of` +
			` repository "` + name + `" before the repository exists; repository "` + name +
			`" was not created and nothing was written to the parameter` + suffix
		if got.Status != cfn.StatusFailed || !IsMarker(got.PhysicalResourceID) ||
			got.Reason != wantReason {
			t.Fatalf("create: got %s %q %q,\nwant FAILED with a marker and %q", got.Status,
				got.PhysicalResourceID, got.Reason, wantReason)
		}
		if s.repository(name) != nil {
			t.Error("create: got a repository, want none created")
		}
		got = s.send(cfn.RequestDelete, got.PhysicalResourceID, props(name, nil), nil)
		if got.Status != cfn.StatusSuccess || s.parameter(param) != "something else" {
			t.Errorf("rollback: got %s %q, parameter %q; want SUCCESS and the parameter kept",
				got.Status, got.Reason, s.parameter(param))
		}
	})

	t.Run("create failing on another owner's parameter, then rollback", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		param := s.prefix + "/" + name + "/uri"
		s.putParameter(param, "stale", map[string]string{reconcile.OwnerTag: "another stack",
			reconcile.RepositoryTag: name})
		got := s.send(cfn.RequestCreate, "", props(name, nil), nil)
		if got.Status != cfn.StatusFailed || got.PhysicalResourceID != name ||
			!strings.Contains(got.Reason, `UriParameterName: names a parameter that belongs to`) {
			t.Fatalf("create: got %s %q %q, want FAILED with physical id %q naming"+
				" UriParameterName", got.Status, got.PhysicalResourceID, got.Reason, name)
		}
		got = s.send(cfn.RequestDelete, got.PhysicalResourceID, props(name, nil), nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("rollback: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if s.repository(name) != nil {
			t.Error("rollback: got the repository kept, want it deleted")
		}
		if v := s.parameter(param); v != "stale" {
			t.Errorf("rollback: got parameter %q, want the other owner's kept", v)
		}
	})

	t.Run("self-service repository is adopted", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		if _, err := s.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName: aws.String(name),
			Tags: []ecrtypes.Tag{{Key: aws.String(reconcile.OwnerTag),
				Value: aws.String("self-service")}},
		}); err != nil {
			t.Fatal(err)
		}
		got := s.send(cfn.RequestCreate, "", props(name, nil), nil)
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != name {
			t.Fatalf("create: got %s %q %q, want SUCCESS", got.Status, got.PhysicalResourceID,
				got.Reason)
		}
		if m := s.repository(name).ImageTagMutability; m != ecrtypes.ImageTagMutabilityImmutable {
			t.Errorf("create: got mutability %s, want IMMUTABLE converged", m)
		}
		got = s.send(cfn.RequestDelete, name, props(name, func(p map[string]any) {
			p["EmptyOnDelete"] = "true"
		}), nil)
		if got.Status != cfn.StatusSuccess || s.repository(name) == nil {
			t.Errorf("delete: got %s %q, want SUCCESS and the repository released", got.Status,
				got.Reason)
		}
	})

	t.Run("failed create of bad properties, then rollback", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		s.proxy.Reset()
		bad := props(name, func(p map[string]any) { p["ImageTagMutability"] = "SOMETIMES" })
		got := s.send(cfn.RequestCreate, "", bad, nil)
		if got.Status != cfn.StatusFailed || !IsMarker(got.PhysicalResourceID) {
			t.Fatalf("create: got %s %q, want FAILED with a marker", got.Status, got.PhysicalResourceID)
		}
		got = s.send(cfn.RequestDelete, got.PhysicalResourceID, bad, nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("rollback: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if calls := s.proxy.Calls(); len(calls) != 0 {
			t.Errorf("got AWS calls %v, want none", calls)
		}
	})

	t.Run("replacement keeps the old repository's images", func(t *testing.T) {
		old := "cr/" + testsupport.UniqueName(t, 50)
		renamed := old + "-renamed"
		oldProps := props(old, func(p map[string]any) { p["UriParameterName"] = s.prefix + "/" + old })
		if got := s.send(cfn.RequestCreate, "", oldProps, nil); got.Status != cfn.StatusSuccess {
			t.Fatalf("create: got %s %q", got.Status, got.Reason)
		}
		testsupport.PushImage(t, testsupport.AWSConfig(t, testsupport.Moto(t).URL), old, "1.0")
		newProps := props(renamed, func(p map[string]any) { p["UriParameterName"] = s.prefix + "/" + old })
		got := s.send(cfn.RequestUpdate, old, newProps, oldProps)
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != renamed {
			t.Fatalf("update: got %s %q %q, want SUCCESS %q", got.Status, got.PhysicalResourceID,
				got.Reason, renamed)
		}
		newURI := aws.ToString(s.repository(renamed).RepositoryUri)
		if v := s.parameter(s.prefix + "/" + old); v != newURI {
			t.Errorf("got parameter %q, want the new repository's %q", v, newURI)
		}
		// CloudFormation's clean-up of the old physical id.
		got = s.send(cfn.RequestDelete, old, oldProps, nil)
		if got.Status != cfn.StatusFailed || !strings.Contains(got.Reason, "repository is not empty") {
			t.Errorf("clean-up: got %s %q, want FAILED not empty", got.Status, got.Reason)
		}
		if s.repository(old) == nil {
			t.Error("clean-up: got the old repository deleted, want it kept with its image")
		}
		if v := s.parameter(s.prefix + "/" + old); v != newURI {
			t.Errorf("clean-up: got parameter %q, want it kept for the new repository", v)
		}
	})
}

// TestMotoScope checks that requests outside the allowed prefixes are refused
// before any AWS call, and that deleting a resource outside them touches
// nothing and succeeds.
func TestMotoScope(t *testing.T) {
	s := newStack(t)
	s.limit("cr-in/")
	rule := `RepositoryName: must start with one of the allowed prefixes "cr-in/"`

	t.Run("create outside the prefixes, then rollback", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		s.proxy.Reset()
		got := s.send(cfn.RequestCreate, "", props(name, nil), nil)
		if got.Status != cfn.StatusFailed || !IsMarker(got.PhysicalResourceID) ||
			got.Reason != rule+suffix {
			t.Fatalf("create: got %s %q %q, want FAILED with a marker and %q", got.Status,
				got.PhysicalResourceID, got.Reason, rule+suffix)
		}
		got = s.send(cfn.RequestDelete, got.PhysicalResourceID, props(name, nil), nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("rollback: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if calls := s.proxy.Calls(); len(calls) != 0 {
			t.Errorf("got AWS calls %v, want none", calls)
		}
		if s.repository(name) != nil {
			t.Error("got a repository, want none")
		}
	})

	t.Run("parameter outside the parameter prefix", func(t *testing.T) {
		name := "cr-in/" + testsupport.UniqueName(t, 60)
		s.proxy.Reset()
		got := s.send(cfn.RequestCreate, "", props(name, func(p map[string]any) {
			p["UriParameterName"] = "/elsewhere/" + name
		}), nil)
		want := `UriParameterName: must start with the parameter prefix "` + s.prefix + `/"` +
			suffix
		if got.Status != cfn.StatusFailed || got.Reason != want {
			t.Errorf("create: got %s %q, want FAILED %q", got.Status, got.Reason, want)
		}
		if calls := s.proxy.Calls(); len(calls) != 0 {
			t.Errorf("got AWS calls %v, want none", calls)
		}
	})

	t.Run("resource left outside by narrower prefixes", func(t *testing.T) {
		name := "cr/" + testsupport.UniqueName(t, 60)
		param := s.prefix + "/" + name + "/uri"
		s.limit()
		got := s.send(cfn.RequestCreate, "", props(name, nil), nil)
		if got.Status != cfn.StatusSuccess {
			t.Fatalf("create: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		s.limit("cr-in/")
		s.proxy.Reset()

		got = s.send(cfn.RequestUpdate, name, props(name, func(p map[string]any) {
			p["ImageTagMutability"] = "MUTABLE"
		}), props(name, nil))
		if got.Status != cfn.StatusFailed || got.PhysicalResourceID != name ||
			got.Reason != rule+suffix {
			t.Errorf("update: got %s %q %q, want FAILED %q with %q", got.Status,
				got.PhysicalResourceID, got.Reason, name, rule+suffix)
		}
		got = s.send(cfn.RequestDelete, name, props(name, nil), nil)
		if got.Status != cfn.StatusSuccess {
			t.Errorf("delete: got %s %q, want SUCCESS", got.Status, got.Reason)
		}
		if calls := s.proxy.Calls(); len(calls) != 0 {
			t.Errorf("got AWS calls %v, want none", calls)
		}
		repo := s.repository(name)
		if repo == nil {
			t.Fatal("got the repository deleted, want it kept")
		}
		if repo.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutable {
			t.Errorf("got mutability %s, want IMMUTABLE kept", repo.ImageTagMutability)
		}
		if v := s.parameter(param); v != aws.ToString(repo.RepositoryUri) {
			t.Errorf("got parameter %q, want it kept", v)
		}
	})
}

func TestMotoDeadline(t *testing.T) {
	s := newStack(t)
	name := "cr/" + testsupport.UniqueName(t, 60)
	s.proxy.Fail("ECR.CreateRepository", testsupport.Always, testsupport.Hang)

	ev := cfn.Event{
		RequestType:        cfn.RequestCreate,
		RequestID:          "deadline",
		ResponseURL:        s.srv.URL + "/response?X-Amz-Signature=secret",
		LogicalResourceID:  "Repository",
		StackID:            s.id,
		ResourceProperties: props(name, nil),
	}
	deadline := time.Now().Add(3 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if _, err := s.h.Handle(ctx, ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	reqs := s.srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d answers, want 1", len(reqs))
	}
	var got cfn.Response
	if err := json.Unmarshal(reqs[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != cfn.StatusFailed || !strings.HasPrefix(got.Reason,
		`timed out while ensuring repository "`+name+`": `) ||
		!strings.Contains(got.Reason, "CreateRepository") {
		t.Errorf("got %s %q, want FAILED timed out naming CreateRepository", got.Status, got.Reason)
	}
	if time.Now().After(deadline) {
		t.Error("got the answer after the deadline, want it before")
	}
	if !slices.Contains(s.proxy.Calls(), "ECR.CreateRepository") {
		t.Errorf("got calls %v, want CreateRepository among them", s.proxy.Calls())
	}
}
