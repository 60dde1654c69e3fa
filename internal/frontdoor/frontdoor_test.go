package frontdoor

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/registry"
	"github.com/ecr-stack/ecr-stack/internal/selfservice"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

var _ Core = (*reconcile.Core)(nil)

// sampleHost is the host of the samples' ResponseURL, which tests replace
// with a local server's.
const sampleHost = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com"

// sample reads events/name with its ResponseURL pointed at base.
func sample(t *testing.T, name, base string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte(sampleHost), []byte(base))
}

// fakeCore answers every call with success.
type fakeCore struct{}

// Ensure reports a created repository.
func (fakeCore) Ensure(_ context.Context, in reconcile.EnsureInput) (reconcile.Result, error) {
	return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName,
		URI:     "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + in.Want.Name,
		Created: true, CreatedNow: true}, nil
}

// Delete reports a deleted repository.
func (fakeCore) Delete(context.Context, reconcile.DeleteInput) (reconcile.DeleteResult, error) {
	return reconcile.DeleteResult{RepositoryDeleted: true}, nil
}

// RemoveParameter reports a removed parameter.
func (fakeCore) RemoveParameter(context.Context, string, string) (bool, error) { return true, nil }

func TestHandler(t *testing.T) {
	srv := testsupport.NewResponseServer(t)
	cfg := Config{ParameterPrefix: DefaultParameterPrefix}
	h := NewHandler(fakeCore{}, cfg, nil, nil)
	tests := []struct {
		name  string
		event []byte
		check func(t *testing.T, got any)
		err   string
		// errPrefix matches err as the start of the error only: the rest
		// is encoding/json's wording, which is not ours to assert.
		errPrefix bool
	}{
		{
			name:  "custom resource",
			event: sample(t, "ensure-repo-create.json", srv.URL),
			check: func(t *testing.T, got any) {
				r, ok := got.(*cfn.Response)
				if !ok || r.Status != cfn.StatusSuccess || r.PhysicalResourceID != "example-team/example-app" {
					t.Errorf("got %#v, want a SUCCESS response for example-team/example-app", got)
				}
			},
		},
		{
			name:  "self-service",
			event: sample(t, "ensure-repo-self-service.json", srv.URL),
			check: func(t *testing.T, got any) {
				r, ok := got.(selfservice.Result)
				if !ok || r.RepositoryName != "example-team/self-service-app" || !r.Created {
					t.Errorf("got %#v, want a result for example-team/self-service-app", got)
				}
			},
		},
		{
			name:  "neither",
			event: []byte(`{"RequestType":"Create","detail":{}}`),
			err: `unrecognised event: want a CloudFormation custom resource request (RequestType` +
				` and ResponseURL) or an EventBridge event with detail-type "ECR Repository Request"`,
		},
		{
			name:  "not an object",
			event: []byte(`[1]`),
			err:   `decoding event: the event must be a JSON object`,
		},
		{
			name:  "null",
			event: []byte(`null`),
			err:   `decoding event: the event must be a JSON object`,
		},
		{
			name:  "a string",
			event: []byte(`"RequestType"`),
			err:   `decoding event: the event must be a JSON object`,
		},
		{
			name:      "detail-type not a string",
			event:     []byte(`{"detail-type":5}`),
			err:       `decoding EventBridge event: `,
			errPrefix: true,
		},
		{
			name:  "scan result",
			event: []byte(`{"id":"e1","detail-type":"ECR Image Scan","source":"aws.ecr","detail":{}}`),
			err:   `reading event "e1": detail-type "ECR Image Scan" is not "ECR Repository Request"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h(context.Background(), tt.event)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			switch {
			case tt.errPrefix && (!strings.HasPrefix(gotErr, tt.err) || gotErr == tt.err):
				t.Errorf("got error %q,\nwant one starting %q", gotErr, tt.err)
			case !tt.errPrefix && gotErr != tt.err:
				t.Errorf("got error %q,\nwant %q", gotErr, tt.err)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestHandlerScope checks that both doors refuse a repository outside the
// allowed prefixes, and a parameter outside the parameter prefix, before the
// core is asked.
func TestHandlerScope(t *testing.T) {
	srv := testsupport.NewResponseServer(t)
	const (
		nameRule  = `RepositoryName: must start with one of the allowed prefixes "team-a/"`
		paramRule = `UriParameterName: must start with the parameter prefix "/platform/ecr/"`
	)
	teamA := Config{ParameterPrefix: DefaultParameterPrefix, AllowedPrefixes: []string{"team-a/"}}
	tests := []struct {
		name, event string
		cfg         Config
		want        string // the custom resource's reason or the self-service error
	}{
		{
			name:  "custom resource outside the allowed prefixes",
			event: "ensure-repo-create.json",
			cfg:   teamA,
			want:  nameRule,
		},
		{
			name:  "custom resource outside the parameter prefix",
			event: "ensure-repo-create.json",
			cfg:   Config{ParameterPrefix: "/platform/ecr"},
			want:  paramRule,
		},
		{
			name:  "self-service outside the allowed prefixes",
			event: "ensure-repo-self-service.json",
			cfg:   teamA,
			want: `refusing repository request "44444444-5555-6666-7777-888888888888": ` +
				nameRule,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := &countingCore{}
			got, err := NewHandler(core, tt.cfg, nil, nil)(context.Background(),
				sample(t, tt.event, srv.URL))
			var reason string
			if r, ok := got.(*cfn.Response); ok && err == nil && r.Status == cfn.StatusFailed {
				reason, _, _ = strings.Cut(r.Reason, " (log stream")
			} else if err != nil {
				reason = err.Error()
			}
			if reason != tt.want {
				t.Errorf("got %#v (error %v), want a refusal %q", got, err, tt.want)
			}
			if core.calls.Load() != 0 {
				t.Errorf("got %d calls of the core, want none", core.calls.Load())
			}
		})
	}
}

// countingCore counts the calls it gets and answers each with success.
type countingCore struct {
	fakeCore
	calls atomic.Int32
}

// Ensure counts the call.
func (c *countingCore) Ensure(ctx context.Context,
	in reconcile.EnsureInput) (reconcile.Result, error) {
	c.calls.Add(1)
	return c.fakeCore.Ensure(ctx, in)
}

// Delete counts the call.
func (c *countingCore) Delete(ctx context.Context,
	in reconcile.DeleteInput) (reconcile.DeleteResult, error) {
	c.calls.Add(1)
	return c.fakeCore.Delete(ctx, in)
}

// RemoveParameter counts the call.
func (c *countingCore) RemoveParameter(ctx context.Context, name, owner string) (bool, error) {
	c.calls.Add(1)
	return c.fakeCore.RemoveParameter(ctx, name, owner)
}

// logBuffer collects log output from concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the lines logged so far.
func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.buf.String()), "\n")
}

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestLogsHoldNoSecrets")
}

// TestLogsHoldNoSecrets runs the handler, with the real core against moto, on
// every sample in events/ and checks what it logged at every level: JSON
// lines with the request id, no part of the ResponseURL's query (which signs
// the answer), and no whole event or properties.
func TestLogsHoldNoSecrets(t *testing.T) {
	srv := testsupport.NewResponseServer(t)
	aws := testsupport.AWSConfig(t, testsupport.Moto(t).URL)
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	core := reconcile.New(registry.New(ecr.NewFromConfig(aws)), params.New(ssm.NewFromConfig(aws)), log)
	h := NewHandler(core, Config{ParameterPrefix: DefaultParameterPrefix}, log, nil)

	// Create first, delete last, so that every request meets the state it
	// expects.
	for _, name := range []string{"ensure-repo-create.json", "ensure-repo-update.json",
		"ensure-repo-self-service.json", "ensure-repo-delete.json"} {
		ctx := lambdacontext.NewContext(context.Background(),
			&lambdacontext.LambdaContext{AwsRequestID: "req-" + name})
		got, err := h(ctx, sample(t, name, srv.URL))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r, ok := got.(*cfn.Response); ok && r.Status != cfn.StatusSuccess {
			t.Errorf("%s: got %s %q, want SUCCESS", name, r.Status, r.Reason)
		}
	}

	secret := []string{"X-Amz-", "Signature", "Credential", "EXAMPLE", "ResponseURL",
		"ResourceProperties", "OldResourceProperties", "ServiceToken", "LifecyclePolicyText",
		"rulePriority", `"detail"`, `"detail-type"`, "example-ci-role"}
	lines := logs.lines()
	if len(lines) < 8 {
		t.Errorf("got %d log lines, want one per step", len(lines))
	}
	// ensured counts the lines that report an ensure's outcome: the core's,
	// which the doors do not repeat.
	ensured := 0
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("got a line that is not JSON: %s", line)
			continue
		}
		for _, s := range secret {
			if strings.Contains(line, s) {
				t.Errorf("got %q in a log line: %s", s, line)
			}
		}
		if msg, _ := rec["msg"].(string); strings.Contains(msg, "ensured") {
			ensured++
		}
		if c, ok := rec["changes"]; ok {
			if _, isList := c.([]any); !isList {
				t.Errorf("got changes %v (%T), want a list: %s", c, c, line)
			}
		}
	}
	if ensured != 3 {
		t.Errorf("got %d lines reporting an ensure, want 3: one each for the create, the"+
			" update and the self-service request", ensured)
	}
}
