package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecr-stack/ecr-stack/internal/registry"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// The real client satisfies API.
var _ registry.API = (*ecr.Client)(nil)

// newRegistry returns a Registry on the shared moto behind a recording
// proxy, and the configuration that reaches moto directly for fixtures.
func newRegistry(t *testing.T) (*registry.Registry, *testsupport.Proxy, aws.Config) {
	t.Helper()
	m := testsupport.Moto(t)
	p := testsupport.NewProxy(t, m.URL)
	reg := registry.New(ecr.NewFromConfig(testsupport.AWSConfig(t, p.URL)))
	return reg, p, testsupport.AWSConfig(t, m.URL)
}

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestRepositoryLifecycle")
}

// TestRepositoryLifecycle runs every Registry method against moto, with the
// conditions its errors stand for.
func TestRepositoryLifecycle(t *testing.T) {
	reg, _, direct := newRegistry(t)
	ctx := context.Background()
	name := "team/" + testsupport.UniqueName(t, 40)

	_, err := reg.FindRepositoryByName(ctx, name)
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("got %v before the create, want ErrNotFound", err)
	}
	if _, ok := errors.AsType[*types.RepositoryNotFoundException](err); !ok {
		t.Errorf("got %T, want it to wrap *types.RepositoryNotFoundException", err)
	}
	if want := `reading ECR repository "` + name + `": `; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got message %q, want it to start with %q", err, want)
	}

	in := registry.CreateInput{
		Name:          name,
		ScanOnPush:    true,
		TagMutability: "IMMUTABLE_WITH_EXCLUSION",
		MutabilityExclusions: []registry.ExclusionFilter{
			{Filter: "latest", FilterType: "WILDCARD"},
		},
		EncryptionType: registry.EncryptionKMS,
		KMSKey:         "1234abcd-12ab-34cd-56ef-1234567890ab",
		Tags:           map[string]string{"team": "a", "env": "dev"},
	}
	created, err := reg.CreateRepository(ctx, in)
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	found, err := reg.FindRepositoryByName(ctx, name)
	if err != nil {
		t.Fatalf("FindRepositoryByName: %v", err)
	}
	for _, r := range []*registry.Repository{created, found} {
		want := registry.Repository{
			Name:                 name,
			ARN:                  "arn:aws:ecr:us-east-1:123456789012:repository/" + name,
			URI:                  "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + name,
			RegistryID:           "123456789012",
			ScanOnPush:           true,
			TagMutability:        in.TagMutability,
			MutabilityExclusions: in.MutabilityExclusions,
			EncryptionType:       in.EncryptionType,
			KMSKey:               in.KMSKey,
		}
		if !equalRepository(*r, want) {
			t.Errorf("got %+v, want %+v", *r, want)
		}
	}

	_, err = reg.CreateRepository(ctx, registry.CreateInput{Name: name})
	if !errors.Is(err, registry.ErrAlreadyExists) {
		t.Errorf("got %v from a second create, want ErrAlreadyExists", err)
	}

	tags, err := reg.Tags(ctx, found.ARN)
	if err != nil {
		t.Fatalf("Tags: %v", err)
	}
	if got, want := tags, map[string]string{"team": "a", "env": "dev"}; !maps.Equal(got, want) {
		t.Errorf("got tags %v, want %v", got, want)
	}
	if err := reg.Tag(ctx, found.ARN, map[string]string{"env": "prod", "new": "x"}); err != nil {
		t.Fatalf("Tag: %v", err)
	}
	if err := reg.Untag(ctx, found.ARN, []string{"team"}); err != nil {
		t.Fatalf("Untag: %v", err)
	}
	tags, err = reg.Tags(ctx, found.ARN)
	if err != nil {
		t.Fatalf("Tags: %v", err)
	}
	if got, want := tags, map[string]string{"env": "prod", "new": "x"}; !maps.Equal(got, want) {
		t.Errorf("got tags %v, want %v", got, want)
	}

	if err := reg.PutScanOnPush(ctx, name, true); err != nil {
		t.Errorf("PutScanOnPush: %v", err)
	}
	if err := reg.PutTagMutability(ctx, name, "IMMUTABLE", nil); err != nil {
		t.Fatalf("PutTagMutability: %v", err)
	}
	found, err = reg.FindRepositoryByName(ctx, name)
	if err != nil {
		t.Fatalf("FindRepositoryByName: %v", err)
	}
	if found.TagMutability != "IMMUTABLE" || len(found.MutabilityExclusions) != 0 {
		t.Errorf("got mutability %s %v, want IMMUTABLE without filters", found.TagMutability,
			found.MutabilityExclusions)
	}

	policies := []struct {
		name   string
		get    func(context.Context, string) (string, error)
		put    func(context.Context, string, string) error
		delete func(context.Context, string) error
		text   string
	}{
		{
			name: "lifecycle", get: reg.LifecyclePolicy, put: reg.PutLifecyclePolicy,
			delete: reg.DeleteLifecyclePolicy,
			text: `{"rules":[{"action":{"type":"expire"},"rulePriority":1,"selection":` +
				`{"countNumber":5,"countType":"imageCountMoreThan","tagStatus":"any"}}]}`,
		},
		{
			name: "repository", get: reg.RepositoryPolicy, put: reg.SetRepositoryPolicy,
			delete: reg.DeleteRepositoryPolicy,
			text: `{"Statement":[{"Action":["ecr:BatchGetImage"],"Effect":"Allow",` +
				`"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Sid":"pull"}],` +
				`"Version":"2012-10-17"}`,
		},
	}
	for _, p := range policies {
		t.Run(p.name+" policy", func(t *testing.T) {
			if got, err := p.get(ctx, name); err != nil || got != "" {
				t.Errorf("got %q, %v before the put, want \"\", nil", got, err)
			}
			if err := p.put(ctx, name, p.text); err != nil {
				t.Fatalf("put: %v", err)
			}
			if got, err := p.get(ctx, name); err != nil || !sameJSON(t, got, p.text) {
				t.Errorf("got %q, %v, want %q", got, err, p.text)
			}
			for i := range 2 {
				if err := p.delete(ctx, name); err != nil {
					t.Errorf("got %v from delete %d, want nil", err, i+1)
				}
			}
			if _, err := p.get(ctx, "missing/"+name); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("got %v for a missing repository, want ErrNotFound", err)
			}
		})
	}

	testsupport.PushImage(t, direct, name, "v1")
	n, more, err := reg.ImageCount(ctx, name)
	if err != nil || n != 1 || more {
		t.Errorf("got %d, %t, %v images, want 1, false, nil", n, more, err)
	}
	err = reg.DeleteRepository(ctx, name, false)
	if !errors.Is(err, registry.ErrNotEmpty) {
		t.Errorf("got %v deleting a repository with an image, want ErrNotEmpty", err)
	}
	if want := `deleting ECR repository "` + name + `": `; err == nil ||
		!strings.HasPrefix(err.Error(), want) {
		t.Errorf("got message %q, want it to start with %q", err, want)
	}
	if err := reg.DeleteRepository(ctx, name, true); err != nil {
		t.Fatalf("DeleteRepository with force: %v", err)
	}
	if err := reg.DeleteRepository(ctx, name, true); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("got %v deleting it again, want ErrNotFound", err)
	}
}

// TestSettling checks that only a settling Registry retries not-found, and
// for a bounded number of attempts.
func TestSettling(t *testing.T) {
	reg, proxy, _ := newRegistry(t)
	ctx := context.Background()
	name := testsupport.UniqueName(t, 40)
	if _, err := reg.CreateRepository(ctx, registry.CreateInput{Name: name}); err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	notYet := testsupport.APIError(400, "RepositoryNotFoundException", "not visible yet")

	tests := []struct {
		name     string
		reg      *registry.Registry
		faults   int
		wantErr  error
		wantCall int
	}{
		{name: "plain fails at once", reg: reg, faults: 2, wantErr: registry.ErrNotFound,
			wantCall: 1},
		{name: "settling absorbs", reg: reg.Settling(), faults: 4, wantCall: 5},
		{name: "settling gives up", reg: reg.Settling(), faults: 10,
			wantErr: registry.ErrNotFound, wantCall: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.Reset()
			proxy.Fail("ECR.DescribeRepositories", tt.faults, notYet)
			_, err := tt.reg.FindRepositoryByName(ctx, name)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if got := proxy.Count("ECR.DescribeRepositories"); got != tt.wantCall {
				t.Errorf("got %d calls, want %d", got, tt.wantCall)
			}
		})
	}
}

// fakeAPI records the inputs of the calls that moto cannot check; the other
// methods panic.
type fakeAPI struct {
	registry.API
	create *ecr.CreateRepositoryInput
	scan   *ecr.PutImageScanningConfigurationInput
}

// CreateRepository records in.
func (f *fakeAPI) CreateRepository(_ context.Context, in *ecr.CreateRepositoryInput,
	_ ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error) {
	f.create = in
	return &ecr.CreateRepositoryOutput{Repository: &types.Repository{
		RepositoryName: in.RepositoryName,
	}}, nil
}

// PutImageScanningConfiguration records in.
func (f *fakeAPI) PutImageScanningConfiguration(_ context.Context,
	in *ecr.PutImageScanningConfigurationInput,
	_ ...func(*ecr.Options)) (*ecr.PutImageScanningConfigurationOutput, error) {
	f.scan = in
	return &ecr.PutImageScanningConfigurationOutput{}, nil
}

// TestScanOnPushFalse checks that false is sent as a setting rather than left
// out, which moto cannot tell apart.
func TestScanOnPushFalse(t *testing.T) {
	f := &fakeAPI{}
	reg := registry.New(f)
	ctx := context.Background()
	if _, err := reg.CreateRepository(ctx, registry.CreateInput{Name: "a"}); err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if err := reg.PutScanOnPush(ctx, "a", false); err != nil {
		t.Fatalf("PutScanOnPush: %v", err)
	}
	if c := f.create.ImageScanningConfiguration; c == nil || c.ScanOnPush {
		t.Errorf("got create scanning %+v, want ScanOnPush false", c)
	}
	if c := f.scan.ImageScanningConfiguration; c == nil || c.ScanOnPush {
		t.Errorf("got put scanning %+v, want ScanOnPush false", c)
	}
	if f.create.EncryptionConfiguration != nil {
		t.Errorf("got encryption %+v, want none sent", f.create.EncryptionConfiguration)
	}
}

// equalRepository compares two repositories field by field.
func equalRepository(a, b registry.Repository) bool {
	return a.Name == b.Name && a.ARN == b.ARN && a.URI == b.URI &&
		a.RegistryID == b.RegistryID && a.ScanOnPush == b.ScanOnPush &&
		a.TagMutability == b.TagMutability && a.EncryptionType == b.EncryptionType &&
		a.KMSKey == b.KMSKey && slices.Equal(a.MutabilityExclusions, b.MutabilityExclusions)
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("parsing %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("parsing %q: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
