package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
	"github.com/ecr-stack/ecr-stack/internal/selfservice"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// event returns the sample events/name with edit applied to its decoded
// form.
func event(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createEvent returns the sample Create request for repository, answered at
// responseURL, with the default parameter name.
func createEvent(t *testing.T, repository, responseURL string) []byte {
	t.Helper()
	return event(t, "ensure-repo-create.json", func(ev map[string]any) {
		ev["ResponseURL"] = responseURL
		props := ev["ResourceProperties"].(map[string]any)
		props["RepositoryName"] = repository
		delete(props, "UriParameterName")
	})
}

// TestBadConfiguration runs the bootstrap with a bad PARAMETER_PREFIX: it
// exits non-zero at cold start, naming the variable, before it looks for the
// runtime API.
func TestBadConfiguration(t *testing.T) {
	cmd := exec.Command(testsupport.Bootstrap(t, "ensure-repo"))
	cmd.Env = []string{"PARAMETER_PREFIX=ecr", "AWS_LAMBDA_LOG_FORMAT=JSON"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("got %v, want exit status 1", err)
	}
	if want := `PARAMETER_PREFIX \"ecr\": must start with \"/\"`; !strings.Contains(string(out), want) {
		t.Errorf("got output %s, want it to contain %s", out, want)
	}
}

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestEndToEnd")
}

// TestEndToEnd runs the built bootstrap under the Lambda Runtime Interface
// Emulator against moto: a Create request answered through a pre-signed URL
// on moto's S3, read back afterwards, and a self-service request.
func TestEndToEnd(t *testing.T) {
	m := testsupport.Moto(t)
	cfg := testsupport.AWSConfig(t, m.URL)
	presign, read := testsupport.ResponseBucket(t, cfg)
	prefix := "/" + testsupport.UniqueName(t, 60)
	// The emulator's invoked ARN names an account of its own; ACCOUNT_ID
	// gives moto's, where the repositories live.
	emu := testsupport.Emulator(t, testsupport.Bootstrap(t, "ensure-repo"),
		"AWS_ENDPOINT_URL="+m.URL, "PARAMETER_PREFIX="+prefix,
		"REQUEST_SOURCE=platform.self-service", "ACCOUNT_ID=123456789012")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("custom resource", func(t *testing.T) {
		name := "e2e/" + testsupport.UniqueName(t, 60)
		responseURL := presign("responses/create")
		out, err := emu.Invoke(ctx, createEvent(t, name, responseURL))
		if err != nil {
			t.Fatalf("Invoke: %v: %s", err, out)
		}
		var got cfn.Response
		if err := json.Unmarshal(read("responses/create"), &got); err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != name {
			t.Fatalf("got %s %q %q, want SUCCESS %q", got.Status, got.PhysicalResourceID,
				got.Reason, name)
		}
		var returned cfn.Response
		if err := json.Unmarshal(out, &returned); err != nil || returned.Status != got.Status {
			t.Errorf("got returned %s (%v), want what CloudFormation was told", out, err)
		}
		param := prefix + "/" + name + "/uri"
		if got.Data["UriParameterName"] != param {
			t.Errorf("got parameter %v, want %q", got.Data["UriParameterName"], param)
		}
		p, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
		if err != nil {
			t.Fatalf("reading parameter: %v", err)
		}
		if v := aws.ToString(p.Parameter.Value); v == "" || v != got.Data["RepositoryUri"] {
			t.Errorf("got parameter value %q, want the RepositoryUri %v", v, got.Data["RepositoryUri"])
		}
		if strings.Contains(string(emu.Logs()), "X-Amz-Signature") {
			t.Error("got the ResponseURL's signature in the function's logs")
		}
	})

	t.Run("self-service", func(t *testing.T) {
		name := "e2e/" + testsupport.UniqueName(t, 60)
		ev := event(t, "ensure-repo-self-service.json", func(ev map[string]any) {
			ev["detail"].(map[string]any)["RepositoryName"] = name
		})
		out, err := emu.Invoke(ctx, ev)
		if err != nil {
			t.Fatalf("Invoke: %v: %s", err, out)
		}
		var got selfservice.Result
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("decoding %s: %v", out, err)
		}
		if got.RepositoryName != name || !got.Created || got.RepositoryURI == "" ||
			got.ParameterName != prefix+"/"+name+"/uri" {
			t.Errorf("got %+v, want a created %q with its parameter", got, name)
		}
	})

	t.Run("self-service with a policy for the account", func(t *testing.T) {
		name := "e2e/" + testsupport.UniqueName(t, 60)
		ev := event(t, "ensure-repo-self-service.json", func(ev map[string]any) {
			d := ev["detail"].(map[string]any)
			d["RepositoryName"] = name
			d["RepositoryPolicyText"] = map[string]any{
				"Version": "2012-10-17",
				"Statement": []any{map[string]any{
					"Effect":    "Allow",
					"Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:role/ci"},
					"Action":    []any{"ecr:BatchGetImage"},
				}},
			}
		})
		out, err := emu.Invoke(ctx, ev)
		if err != nil {
			t.Fatalf("Invoke: %v: %s", err, out)
		}
		var got selfservice.Result
		if err := json.Unmarshal(out, &got); err != nil || got.RepositoryName != name {
			t.Errorf("got %s (%v), want a result for %q", out, err, name)
		}
	})

	t.Run("refused self-service request", func(t *testing.T) {
		ev := event(t, "ensure-repo-self-service.json", func(ev map[string]any) {
			ev["detail"].(map[string]any)["EmptyOnDelete"] = true
		})
		out, err := emu.Invoke(ctx, ev)
		var fe *localrun.FunctionError
		if !errors.As(err, &fe) || !strings.Contains(fe.Message,
			"EmptyOnDelete: must not be set: self-service requests never delete") {
			t.Errorf("got %v: %s, want a function error naming EmptyOnDelete", err, out)
		}
	})

	t.Run("logs", func(t *testing.T) {
		n := 0
		for _, line := range bytes.Split(emu.Logs(), []byte("\n")) {
			line = bytes.TrimSpace(line)
			if !bytes.HasPrefix(line, []byte("{")) {
				continue // the emulator's START, END and REPORT lines
			}
			var rec map[string]any
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Errorf("got a line that is not JSON: %s", line)
				continue
			}
			n++
			if rec["requestId"] == nil || rec["requestId"] == "" {
				t.Errorf("got a line without requestId: %s", line)
			}
		}
		if n < 3 {
			t.Errorf("got %d JSON log lines, want one per step", n)
		}
	})
}

// TestDeadline gives the function 3 seconds while ECR hangs: CloudFormation
// is still told FAILED, with a reason that says the request timed out in
// CreateRepository, and the invocation ends before the function's timeout.
func TestDeadline(t *testing.T) {
	m := testsupport.Moto(t)
	cfg := testsupport.AWSConfig(t, m.URL)
	proxy := testsupport.NewProxy(t, m.URL)
	proxy.Fail("ECR.CreateRepository", testsupport.Always, testsupport.Hang)
	presign, read := testsupport.ResponseBucket(t, cfg)
	emu := testsupport.EmulatorWith(t, localrun.EmulatorConfig{
		Bootstrap: testsupport.Bootstrap(t, "ensure-repo"),
		Env:       []string{"AWS_ENDPOINT_URL=" + proxy.URL},
		Timeout:   3 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	name := "e2e/" + testsupport.UniqueName(t, 60)
	out, err := emu.Invoke(ctx, createEvent(t, name, presign("responses/deadline")))
	if err != nil {
		t.Fatalf("Invoke: %v: %s", err, out)
	}
	var got cfn.Response
	if err := json.Unmarshal(read("responses/deadline"), &got); err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	wantPrefix := `timed out while ensuring repository "` + name + `": `
	if got.Status != cfn.StatusFailed || !strings.HasPrefix(got.Reason, wantPrefix) ||
		!strings.Contains(got.Reason, "CreateRepository") {
		t.Errorf("got %s %q, want FAILED starting %q and naming CreateRepository", got.Status,
			got.Reason, wantPrefix)
	}
	if !strings.HasPrefix(got.PhysicalResourceID, "ecr-stack:create-failed:") {
		t.Errorf("got physical id %q, want the failed-create marker", got.PhysicalResourceID)
	}
}

// fault is what a test injects: f for the first n calls of op.
type fault struct {
	op string
	n  int
	f  testsupport.Fault
}

// TestTransientFaults injects, in front of moto, the transient faults the
// function's retryer is meant to ride out, one kind per case: each Create
// succeeds after exactly the extra attempts its faults cost over a Create
// without faults.
func TestTransientFaults(t *testing.T) {
	m := testsupport.Moto(t)
	cfg := testsupport.AWSConfig(t, m.URL)
	proxy := testsupport.NewProxy(t, m.URL)
	presign, read := testsupport.ResponseBucket(t, cfg)
	emu := testsupport.Emulator(t, testsupport.Bootstrap(t, "ensure-repo"),
		"AWS_ENDPOINT_URL="+proxy.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// create runs a Create of a new repository and checks that CloudFormation
	// is told SUCCESS.
	create := func(t *testing.T) {
		t.Helper()
		name := "e2e/" + testsupport.UniqueName(t, 60)
		key := "responses/" + testsupport.UniqueName(t, 60)
		out, err := emu.Invoke(ctx, createEvent(t, name, presign(key)))
		if err != nil {
			t.Fatalf("Invoke: %v: %s", err, out)
		}
		var got cfn.Response
		if err := json.Unmarshal(read(key), &got); err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		if got.Status != cfn.StatusSuccess || got.PhysicalResourceID != name {
			t.Errorf("got %s %q %q, want SUCCESS %q", got.Status, got.PhysicalResourceID,
				got.Reason, name)
		}
	}

	create(t)
	base := proxy.Counts()

	tooManyUpdates := testsupport.APIError(400, "TooManyUpdates", "too many updates")
	tests := []struct {
		name   string
		faults []fault
		extra  map[string]int // attempts per operation over a Create without faults
	}{
		{
			name: "throttling, 500 and TooManyUpdates",
			faults: []fault{
				{"ECR.DescribeRepositories", 1, testsupport.Status(500)},
				{"ECR.CreateRepository", 2, testsupport.Throttle("ThrottlingException")},
				{"SSM.PutParameter", 2, tooManyUpdates},
			},
			extra: map[string]int{
				"ECR.DescribeRepositories": 1, "ECR.CreateRepository": 2, "SSM.PutParameter": 2,
			},
		},
		{
			name: "connection resets",
			faults: []fault{
				{"ECR.CreateRepository", 2, testsupport.Reset},
				{"SSM.GetParameter", 2, testsupport.Reset},
			},
			extra: map[string]int{"ECR.CreateRepository": 2, "SSM.GetParameter": 2},
		},
		{
			// A hung attempt would cost the whole 10-second attempt timeout;
			// the suite has one, in scan-notifier. This delay, below that
			// timeout, shows a slow answer is waited for, not cut off and
			// repeated.
			name:   "slow answer",
			faults: []fault{{"ECR.DescribeRepositories", 1, testsupport.Delay(3 * time.Second)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.Reset()
			for _, f := range tt.faults {
				proxy.Fail(f.op, f.n, f.f)
			}
			create(t)

			want := maps.Clone(base)
			for op, n := range tt.extra {
				want[op] += n
			}
			if got := proxy.Counts(); !maps.Equal(got, want) {
				t.Errorf("got calls %v, want %v (without faults %v)", got, want, base)
			}
		})
	}
}

// TestSelfServiceDeadline gives the function 3 seconds while ECR hangs: the
// self-service request returns an error naming the call, rather than being
// cut off by the timeout, so that Lambda retries it.
func TestSelfServiceDeadline(t *testing.T) {
	m := testsupport.Moto(t)
	proxy := testsupport.NewProxy(t, m.URL)
	proxy.Fail("ECR.DescribeRepositories", testsupport.Always, testsupport.Hang)
	emu := testsupport.EmulatorWith(t, localrun.EmulatorConfig{
		Bootstrap: testsupport.Bootstrap(t, "ensure-repo"),
		Env:       []string{"AWS_ENDPOINT_URL=" + proxy.URL},
		Timeout:   3 * time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ev := event(t, "ensure-repo-self-service.json", func(ev map[string]any) {
		ev["detail"].(map[string]any)["RepositoryName"] = "e2e/" + testsupport.UniqueName(t, 60)
	})
	out, err := emu.Invoke(ctx, ev)
	var fe *localrun.FunctionError
	if !errors.As(err, &fe) || fe.Type == "Sandbox.Timedout" ||
		!strings.Contains(fe.Message, "timed out ensuring repository") ||
		!strings.Contains(fe.Message, "DescribeRepositories") {
		t.Errorf("got %v: %s, want a function error naming DescribeRepositories", err, out)
	}
}
