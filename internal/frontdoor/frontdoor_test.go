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
		URI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + in.Want.Name, Created: true}, nil
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
			err: `decoding event: json: cannot unmarshal array into Go value of type` +
				` map[string]json.RawMessage`,
		},
		{
			name:  "detail-type not a string",
			event: []byte(`{"detail-type":5}`),
			err: `decoding EventBridge event: json: cannot unmarshal number into Go struct field` +
				` CloudWatchEvent.detail-type of type string`,
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
			if gotErr != tt.err {
				t.Errorf("got error %q,\nwant %q", gotErr, tt.err)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
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
	}
}
