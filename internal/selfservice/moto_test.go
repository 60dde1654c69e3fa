package selfservice

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
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
	return withDetail(t, loadEvent(t), func(d map[string]any) { d["RepositoryName"] = name })
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
	want.Changes = []string{}
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
	for i, r := range results {
		if r.RepositoryURI != results[0].RepositoryURI || !r.Created {
			t.Errorf("request %d: got %+v, want the same created repository", i, r)
		}
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
