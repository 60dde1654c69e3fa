package selfservice

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/registry"
	"github.com/ecr-stack/ecr-stack/internal/request"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// motoHandler returns a Handler backed by the real core against moto, behind
// a counting proxy, with a parameter prefix of its own.
func motoHandler(t *testing.T) (*Handler, *testsupport.Proxy, Config) {
	t.Helper()
	proxy := testsupport.NewProxy(t, testsupport.Moto(t).URL)
	cfg := testsupport.AWSConfig(t, proxy.URL)
	core := reconcile.New(registry.New(ecr.NewFromConfig(cfg)), params.New(ssm.NewFromConfig(cfg)), nil)
	c := Config{Scope: request.Scope{ParameterPrefix: "/" + testsupport.UniqueName(t, 60)}}
	return New(core, c, nil), proxy, c
}

// requestFor returns the sample event asking for repository name.
func requestFor(t *testing.T, name string) events.EventBridgeEvent {
	t.Helper()
	return testsupport.WithDetail(t, loadEvent(t), func(d map[string]any) { d["RepositoryName"] = name })
}

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestMotoTwice")
}

func TestMotoTwice(t *testing.T) {
	h, proxy, cfg := motoHandler(t)
	name := "ss/" + testsupport.UniqueName(t, 60)
	ev := requestFor(t, name)
	ctx := context.Background()

	first, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	param := cfg.Scope.ParameterPrefix + "/" + name + "/uri"
	if !first.Created || first.Adopted || first.ParameterName != param || len(first.Changes) == 0 {
		t.Errorf("first: got %+v, want created with changes and parameter %q", first, param)
	}

	proxy.Reset()
	second, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatalf("second: %v", err)
	}
	want := first
	want.Created, want.Adopted, want.Changes = false, true, []string{}
	if !reflect.DeepEqual(second, want) {
		t.Errorf("second: got %+v, want %+v", second, want)
	}
	for op, n := range proxy.Counts() {
		if !isRead(op) {
			t.Errorf("second: got %d calls of %s, want no writes", n, op)
		}
	}

	out, err := ssm.NewFromConfig(testsupport.AWSConfig(t, testsupport.Moto(t).URL)).GetParameter(ctx,
		&ssm.GetParameterInput{Name: aws.String(param)})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(out.Parameter.Value); v != first.RepositoryURI || out.Parameter.Version != 1 {
		t.Errorf("got parameter %q version %d, want %q version 1", v, out.Parameter.Version,
			first.RepositoryURI)
	}
}

// isRead reports whether op only reads.
func isRead(op string) bool {
	switch op {
	case "ECR.DescribeRepositories", "ECR.GetLifecyclePolicy", "ECR.GetRepositoryPolicy",
		"ECR.ListTagsForResource", "SSM.GetParameter", "SSM.ListTagsForResource":
		return true
	}
	return false
}

func TestMotoConcurrent(t *testing.T) {
	h, _, cfg := motoHandler(t)
	name := "ss/" + testsupport.UniqueName(t, 60)
	ev := requestFor(t, name)

	const n = 20
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = h.Handle(context.Background(), ev) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	created := 0
	for i, r := range results {
		if r.RepositoryURI != results[0].RepositoryURI || r.Created == r.Adopted {
			t.Errorf("request %d: got %+v, want the same repository, created or adopted", i, r)
		}
		if r.Created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("got %d requests that created the repository, want 1", created)
	}

	direct := testsupport.AWSConfig(t, testsupport.Moto(t).URL)
	param := cfg.Scope.ParameterName(request.Repository{Name: name})
	hist, err := ssm.NewFromConfig(direct).GetParameterHistory(context.Background(),
		&ssm.GetParameterHistoryInput{Name: aws.String(param)})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Parameters) != 1 {
		b, _ := json.Marshal(hist.Parameters)
		t.Errorf("got %d parameter versions %s, want 1", len(hist.Parameters), b)
	}
}

// TestMotoStackOwned sends a request for a repository that a CloudFormation
// stack created: it is refused before any write, naming the owner.
func TestMotoStackOwned(t *testing.T) {
	h, proxy, _ := motoHandler(t)
	name := "ss/" + testsupport.UniqueName(t, 60)
	const stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/platform/1/Repository"
	const keepTen = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any",` +
		`"countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}`
	ctx := context.Background()
	direct := ecr.NewFromConfig(testsupport.AWSConfig(t, testsupport.Moto(t).URL))
	_, err := direct.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(name),
		Tags: []ecrtypes.Tag{{Key: aws.String(reconcile.OwnerTag),
			Value: aws.String(stack)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = direct.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{
		RepositoryName: aws.String(name), LifecyclePolicyText: aws.String(keepTen)})
	if err != nil {
		t.Fatal(err)
	}
	proxy.Reset()

	// The sample's detail names a lifecycle policy of its own.
	_, err = h.Handle(ctx, requestFor(t, name))

	want := `ensuring ECR repository "` + name + `": RepositoryName: names a repository that` +
		` belongs to another owner: its ecr-stack:owner tag names "` + stack + `"`
	if !errors.Is(err, reconcile.ErrOwnedByOther) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v,\nwant ErrOwnedByOther starting %s", err, want)
	}
	for op, n := range proxy.Counts() {
		if !isRead(op) {
			t.Errorf("got %d calls of %s, want no writes", n, op)
		}
	}
	out, err := direct.GetLifecyclePolicy(ctx,
		&ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.LifecyclePolicyText); !strings.Contains(got, `"countNumber":10`) {
		t.Errorf("got lifecycle policy %s, want the stack's kept", got)
	}
}

// TestMotoStackAdopts follows a repository that self-service created through
// a stack's custom resource adopting it: self-service is refused while the
// stack manages it, and served again once the stack's Delete released it.
func TestMotoStackAdopts(t *testing.T) {
	h, proxy, cfg := motoHandler(t)
	name := "ss/" + testsupport.UniqueName(t, 60)
	ev := requestFor(t, name)
	const stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/platform/1/Repository"
	ctx := context.Background()
	direct := testsupport.AWSConfig(t, testsupport.Moto(t).URL)
	// The custom resource's calls: its own owner, owners not respected.
	stackCore := reconcile.New(registry.New(ecr.NewFromConfig(direct)),
		params.New(ssm.NewFromConfig(direct)), nil)
	stackParam := cfg.Scope.ParameterPrefix + "/stack/" + name + "/uri"

	if res, err := h.Handle(ctx, ev); err != nil || !res.Created {
		t.Fatalf("self-service create: got %+v, %v, want created", res, err)
	}

	adopted, err := stackCore.Ensure(ctx, reconcile.EnsureInput{
		Want: request.Repository{Name: name}, Owner: stack, ParameterName: stackParam,
	})
	if err != nil || adopted.Created {
		t.Fatalf("stack adopt: got %+v, %v, want adopted", adopted, err)
	}

	proxy.Reset()
	_, err = h.Handle(ctx, ev)
	want := `ensuring ECR repository "` + name + `": RepositoryName: names a repository that` +
		` belongs to another owner: its ecr-stack:managed-by tag names "` + stack + `"`
	if !errors.Is(err, reconcile.ErrOwnedByOther) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("self-service while adopted: got %v,\nwant ErrOwnedByOther starting %s",
			err, want)
	}
	for op, n := range proxy.Counts() {
		if !isRead(op) {
			t.Errorf("self-service while adopted: got %d calls of %s, want no writes", n, op)
		}
	}

	del, err := stackCore.Delete(ctx, reconcile.DeleteInput{Repository: name, Owner: stack,
		ParameterName: stackParam})
	if err != nil || !del.Released || del.RepositoryDeleted {
		t.Fatalf("stack delete: got %+v, %v, want released", del, err)
	}

	res, err := h.Handle(ctx, ev)
	if err != nil {
		t.Fatalf("self-service after release: got %v, want success", err)
	}
	if res.Created || !res.Adopted {
		t.Errorf("self-service after release: got %+v, want its repository found", res)
	}
	tags, err := registry.New(ecr.NewFromConfig(direct)).Tags(ctx,
		"arn:aws:ecr:us-east-1:123456789012:repository/"+name)
	if err != nil {
		t.Fatal(err)
	}
	maps.DeleteFunc(tags, func(k, _ string) bool {
		return !strings.HasPrefix(k, request.ReservedTagPrefix)
	})
	if wantTags := map[string]string{reconcile.OwnerTag: Owner}; !maps.Equal(tags, wantTags) {
		t.Errorf("got reserved tags %v, want %v", tags, wantTags)
	}
}
