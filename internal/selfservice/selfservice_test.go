package selfservice

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// fakeCore records ensures and answers with result or err.
type fakeCore struct {
	mu      sync.Mutex
	ensures []reconcile.EnsureInput
	result  func(in reconcile.EnsureInput) reconcile.Result
	err     error
}

// Ensure records in and answers.
func (f *fakeCore) Ensure(_ context.Context, in reconcile.EnsureInput) (reconcile.Result, error) {
	f.mu.Lock()
	f.ensures = append(f.ensures, in)
	f.mu.Unlock()
	if f.err != nil {
		return reconcile.Result{}, f.err
	}
	if f.result != nil {
		return f.result(in), nil
	}
	return reconcile.Result{
		Repository:    in.Want.Name,
		ARN:           "arn:aws:ecr:us-east-1:123456789012:repository/" + in.Want.Name,
		URI:           "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + in.Want.Name,
		RegistryID:    "123456789012",
		ParameterName: in.ParameterName,
		Created:       true,
		CreatedNow:    true,
		Changes:       []string{"created repository", "wrote parameter"},
	}, nil
}

// loadEvent reads events/ensure-repo-self-service.json into the type Handle
// takes.
func loadEvent(t *testing.T) events.EventBridgeEvent {
	t.Helper()
	return testsupport.Event[events.EventBridgeEvent](t, "ensure-repo-self-service.json")
}

// policy returns a repository policy allowing principal to pull.
func policy(principal any) map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": principal,
			"Action":    []any{"ecr:BatchGetImage"},
		}},
	}
}

func TestHandle(t *testing.T) {
	sample := loadEvent(t)
	const (
		name  = "example-team/self-service-app"
		param = "/ecr/repositories/example-team/self-service-app/uri"
		req   = `refusing repository request "44444444-5555-6666-7777-888888888888": `
	)
	scope := request.Scope{ParameterPrefix: "/ecr/repositories"}
	base := Config{Scope: scope}
	// The function runs in 123456789012, as the invoked ARN says.
	inLambda := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       "req-1",
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:ensure-repo",
	})
	coreErr := fmt.Errorf(`ensuring ECR repository "x": RepositoryName: %w: its`+
		` ecr-stack:owner tag names "a stack"`, reconcile.ErrOwnedByOther)
	// Under the Lambda Runtime Interface Emulator the invoked ARN names an
	// account of its own.
	inEmulator := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       "req-1",
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:012345678912:function:function",
	})
	samePolicy := testsupport.WithDetail(t, sample, func(d map[string]any) {
		d["RepositoryPolicyText"] = policy(map[string]any{
			"AWS": "arn:aws:iam::123456789012:role/ci"})
	})

	tests := []struct {
		name  string
		ctx   context.Context // nil: inLambda
		cfg   Config
		ev    events.EventBridgeEvent
		core  *fakeCore
		want  Result
		err   string
		param string // the parameter Ensure was given, when it was called
	}{
		{
			name: "sample",
			cfg:  base,
			ev:   sample,
			want: Result{RepositoryName: name,
				RepositoryURI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + name,
				RepositoryARN: "arn:aws:ecr:us-east-1:123456789012:repository/" + name,
				RegistryID:    "123456789012",
				ParameterName: param,
				Created:       true,
				Changes:       []string{"created repository", "wrote parameter"}},
			param: param,
		},
		{
			name: "adopted and already converged",
			cfg:  base,
			ev:   sample,
			core: &fakeCore{result: func(in reconcile.EnsureInput) reconcile.Result {
				return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName}
			}},
			want: Result{RepositoryName: name, ParameterName: param, Adopted: true,
				Changes: []string{}},
			param: param,
		},
		{
			name: "created by an earlier request",
			cfg:  base,
			ev:   sample,
			core: &fakeCore{result: func(in reconcile.EnsureInput) reconcile.Result {
				return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName,
					Created: true, Changes: []string{"tag mutability: MUTABLE -> IMMUTABLE"}}
			}},
			want: Result{RepositoryName: name, ParameterName: param, Adopted: true,
				Changes: []string{"tag mutability: MUTABLE -> IMMUTABLE"}},
			param: param,
		},
		{
			name: "allowed prefix",
			cfg: Config{Scope: request.Scope{ParameterPrefix: "/ecr/repositories",
				RepositoryPrefixes: []string{"other/", "example-team/"}}},
			ev:    sample,
			param: param,
		},
		{
			name: "outside the allowed prefixes",
			cfg: Config{Scope: request.Scope{ParameterPrefix: "/ecr/repositories",
				RepositoryPrefixes: []string{"team-a/", "team-b/"}}},
			ev: sample,
			err: req + `RepositoryName: must start with one of the allowed prefixes ` +
				`"team-a/", "team-b/"`,
		},
		{
			name: "parameter under the prefix",
			cfg:  base,
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["UriParameterName"] = "/ecr/repositories/apps/self-service"
			}),
			param: "/ecr/repositories/apps/self-service",
		},
		{
			name: "parameter outside the prefix",
			cfg:  base,
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["UriParameterName"] = "/ecr/repositories-other/uri"
			}),
			err: req + `UriParameterName: must start with the parameter prefix` +
				` "/ecr/repositories/"`,
		},
		{
			name: "policy open to everyone",
			cfg:  base,
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["RepositoryPolicyText"] = policy("*")
			}),
			err: req + `RepositoryPolicyText: must not grant access outside the account: ` +
				`Statement[0] grants Principal "*"`,
		},
		{
			name: "policy open to another account",
			cfg:  base,
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["RepositoryPolicyText"] = policy(map[string]any{"AWS": "arn:aws:iam::210987654321:root"})
			}),
			err: req + `RepositoryPolicyText: must not grant access outside the account: ` +
				`Statement[0] grants Principal.AWS "arn:aws:iam::210987654321:root" in account ` +
				`210987654321`,
		},
		{
			name: "policy for the same account",
			cfg:  base,
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["RepositoryPolicyText"] = policy(map[string]any{
					"AWS": "arn:aws:iam::123456789012:role/ci"})
			}),
			param: param,
		},
		{
			name:  "policy for the configured account, in the emulator",
			ctx:   inEmulator,
			cfg:   Config{Scope: scope, Account: "123456789012"},
			ev:    samePolicy,
			param: param,
		},
		{
			name: "policy for the function's account, in the emulator",
			ctx:  inEmulator,
			cfg:  base,
			ev:   samePolicy,
			err: req + `RepositoryPolicyText: must not grant access outside the account: ` +
				`Statement[0] grants Principal.AWS "arn:aws:iam::123456789012:role/ci" in` +
				` account 123456789012`,
		},
		{
			name: "open policy allowed",
			cfg:  Config{Scope: scope, AllowOpenPolicies: true},
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["RepositoryPolicyText"] = policy("*")
			}),
			param: param,
		},
		{
			name: "EmptyOnDelete",
			cfg:  base,
			ev:   testsupport.WithDetail(t, sample, func(d map[string]any) { d["EmptyOnDelete"] = true }),
			err:  req + `EmptyOnDelete: must not be set: self-service requests never delete`,
		},
		{
			name:  "EmptyOnDelete false",
			cfg:   base,
			ev:    testsupport.WithDetail(t, sample, func(d map[string]any) { d["EmptyOnDelete"] = "false" }),
			param: param,
		},
		{
			name: "several problems",
			cfg: Config{Scope: request.Scope{ParameterPrefix: "/ecr/repositories",
				RepositoryPrefixes: []string{"team-a/"}}},
			ev: testsupport.WithDetail(t, sample, func(d map[string]any) {
				d["EmptyOnDelete"] = true
				d["UriParameterName"] = "/elsewhere/uri"
			}),
			err: req + `RepositoryName: must start with one of the allowed prefixes "team-a/"` +
				"\n" + `UriParameterName: must start with the parameter prefix` +
				` "/ecr/repositories/"` +
				"\n" + `EmptyOnDelete: must not be set: self-service requests never delete`,
		},
		{
			name: "bad property",
			cfg:  base,
			ev:   testsupport.WithDetail(t, sample, func(d map[string]any) { d["ImageTagMutability"] = "SOMETIMES" }),
			err: req + `ImageTagMutability: must be one of MUTABLE, IMMUTABLE, ` +
				`IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION`,
		},
		{
			name: "detail not an object",
			cfg:  base,
			ev: func() events.EventBridgeEvent {
				ev := sample
				ev.Detail = json.RawMessage(`"team/app"`)
				return ev
			}(),
			err: req + `detail: must be a JSON object of repository properties`,
		},
		{
			name: "other detail-type",
			cfg:  base,
			ev: func() events.EventBridgeEvent {
				ev := sample
				ev.DetailType = "ECR Image Scan"
				return ev
			}(),
			err: `reading event "44444444-5555-6666-7777-888888888888": detail-type ` +
				`"ECR Image Scan" is not "ECR Repository Request"`,
		},
		{
			name: "other source",
			cfg:  Config{Scope: scope, Source: "platform.requests"},
			ev:   sample,
			err: `reading event "44444444-5555-6666-7777-888888888888": source ` +
				`"platform.self-service" is not "platform.requests"`,
		},
		{
			name:  "core failure",
			cfg:   base,
			ev:    sample,
			core:  &fakeCore{err: coreErr},
			err:   coreErr.Error(),
			param: param,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := tt.core
			if core == nil {
				core = &fakeCore{}
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = inLambda
			}
			got, err := New(core, tt.cfg, nil).Handle(ctx, tt.ev)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.err {
				t.Errorf("got error %q,\nwant %q", gotErr, tt.err)
			}
			if tt.want.RepositoryName != "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v,\nwant %+v", got, tt.want)
			}
			if tt.param == "" {
				if len(core.ensures) != 0 {
					t.Errorf("got %d ensures, want none", len(core.ensures))
				}
				return
			}
			if len(core.ensures) != 1 {
				t.Fatalf("got %d ensures, want 1", len(core.ensures))
			}
			in := core.ensures[0]
			if in.Owner != Owner || in.ParameterName != tt.param || in.Previous != nil ||
				!in.RespectOwners {
				t.Errorf("got owner %q, parameter %q, previous %v, respect owners %t;"+
					" want %q, %q, nil, true", in.Owner, in.ParameterName, in.Previous,
					in.RespectOwners, Owner, tt.param)
			}
		})
	}
}

func TestAccount(t *testing.T) {
	inLambda := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:111111111111:function:f"})
	tests := []struct {
		name       string
		configured string
		ctx        context.Context
		ev         events.EventBridgeEvent
		want       string
	}{
		{"configured account", "333333333333", inLambda,
			events.EventBridgeEvent{AccountID: "222222222222"}, "333333333333"},
		{"function's account", "", inLambda,
			events.EventBridgeEvent{AccountID: "222222222222"}, "111111111111"},
		{"event's account", "", context.Background(),
			events.EventBridgeEvent{AccountID: "222222222222"}, "222222222222"},
		{"none", "", context.Background(), events.EventBridgeEvent{}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{cfg: Config{Account: tt.configured}}
			if got := h.account(tt.ctx, tt.ev); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(Result{RepositoryName: "a", Changes: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"repositoryName":"a","repositoryUri":"","repositoryArn":"","registryId":"",` +
		`"parameterName":"","created":false,"adopted":false,"changes":[]}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}
