package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

func TestParseArgs(t *testing.T) {
	base := []string{"-function", "ensure-repo", "-event", "e.json"}
	tests := []struct {
		name      string
		args      []string
		want      options
		wantErr   string
		wantUsage bool
	}{
		{
			name: "defaults",
			args: base,
			want: options{function: localrun.EnsureRepo, event: "e.json",
				envFile: "events/env.json", timeout: 60 * time.Second},
		},
		{
			name: "logical id and every flag",
			args: []string{"-function", "ScanNotifierFunction", "-event", "s.json",
				"-env-vars", "my.json", "-build-dir", "out", "-timeout", "5s", "-response-bucket"},
			want: options{function: localrun.ScanNotifier, event: "s.json", envFile: "my.json",
				envFileSet: true, buildDir: "out", timeout: 5 * time.Second, responseBucket: true},
		},
		{
			name: "env-vars named as the default",
			args: append(slices.Clone(base), "-env-vars", "events/env.json"),
			want: options{function: localrun.EnsureRepo, event: "e.json",
				envFile: "events/env.json", envFileSet: true, timeout: 60 * time.Second},
		},
		{name: "no function", args: []string{"-event", "e.json"},
			wantErr: "-function is required", wantUsage: true},
		{name: "no event", args: []string{"-function", "ensure-repo"},
			wantErr: "-event is required", wantUsage: true},
		{name: "unknown function", args: []string{"-function", "ensure", "-event", "e.json"},
			wantErr:   `finding function "ensure": want one of ensure-repo, EnsureRepoFunction`,
			wantUsage: true},
		{name: "extra argument", args: append(slices.Clone(base), "more"),
			wantErr: `unexpected arguments ["more"]`, wantUsage: true},
		{name: "unknown flag", args: append(slices.Clone(base), "-nope"),
			wantErr: "flag provided but not defined: -nope", wantUsage: true},
		{name: "short timeout", args: append(slices.Clone(base), "-timeout", "10ms"),
			wantErr: "-timeout 10ms: want at least 1s", wantUsage: true},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v, want error %q", got, err, tt.wantErr)
				}
				var usage *usageError
				if errors.As(err, &usage) != tt.wantUsage {
					t.Errorf("got error %T, want a usage error: %t", err, tt.wantUsage)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseArgs: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, nil, io.Discard, &stderr)
	if code := exitCode(err, io.Discard); code != 0 {
		t.Errorf("got exit status %d for -h, want 0", code)
	}
	for _, want := range []string{"usage: invoke -function NAME -event FILE", "-response-bucket",
		"AWS_ENDPOINT_URL", "ResponseURL"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("got help without %q:\n%s", want, stderr.String())
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
		out  string
	}{
		{name: "success", want: 0},
		{name: "help", err: flag.ErrHelp, want: 0},
		{name: "usage", err: usagef("-event is required"), want: 2,
			out: "invoke: -event is required\nRun with -h for help.\n"},
		{name: "failure", err: errors.New("invoking ensure-repo: boom"), want: 1,
			out: "invoke: invoking ensure-repo: boom\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := exitCode(tt.err, &out); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			if out.String() != tt.out {
				t.Errorf("got output %q, want %q", out.String(), tt.out)
			}
		})
	}
}

func TestEnvFromFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "env.json")
	err := os.WriteFile(file, []byte(`{"Parameters":{"LOG":"x"},`+
		`"EnsureRepoFunction":{"PARAMETER_PREFIX":"/p","MAX":3},"ScanNotifierFunction":{"T":"t"}}`),
		0o600)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")

	tests := []struct {
		name    string
		opts    options
		want    []string
		wantErr string
	}{
		{name: "section and parameters",
			opts: options{function: localrun.EnsureRepo, envFile: file, envFileSet: true},
			want: []string{"LOG=x", "MAX=3", "PARAMETER_PREFIX=/p"}},
		{name: "default file", opts: options{function: localrun.ScanNotifier, envFile: file},
			want: []string{"LOG=x", "T=t"}},
		{name: "default file missing",
			opts: options{function: localrun.EnsureRepo, envFile: missing}},
		{name: "named file missing",
			opts:    options{function: localrun.EnsureRepo, envFile: missing, envFileSet: true},
			wantErr: "reading env-vars file: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := envFromFile(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestCallerEnv(t *testing.T) {
	tests := []struct {
		name    string
		creds   aws.Credentials
		environ []string
		want    []string
	}{
		{
			name:    "static credentials",
			creds:   aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"},
			environ: []string{"HOME=/root", "AWS_PROFILE=dev", "AWS_REGION=eu-west-1"},
			want:    []string{"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=SECRET"},
		},
		{
			name: "session credentials and endpoints",
			creds: aws.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "S",
				SessionToken: "TOKEN"},
			environ: []string{"AWS_ENDPOINT_URL=http://127.0.0.1:5000",
				"AWS_ENDPOINT_URL_SSM=http://127.0.0.1:5001", "AWS_ENDPOINT_URL_ECR=",
				"AWS_ENDPOINT_URLS=x"},
			want: []string{"AWS_ACCESS_KEY_ID=ASIA", "AWS_SECRET_ACCESS_KEY=S",
				"AWS_SESSION_TOKEN=TOKEN", "AWS_ENDPOINT_URL=http://127.0.0.1:5000",
				"AWS_ENDPOINT_URL_SSM=http://127.0.0.1:5001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := callerEnv(tt.creds, tt.environ); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsCloudFormationRequest(t *testing.T) {
	tests := []struct {
		event string
		want  bool
	}{
		{event: "ensure-repo-create.json", want: true},
		{event: "ensure-repo-update.json", want: true},
		{event: "ensure-repo-delete.json", want: true},
		{event: "ensure-repo-self-service.json"},
		{event: "scan-notifier-ecr-scan-complete.json"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(moduleRoot(t), "events", tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if got := isCloudFormationRequest(b); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	root := moduleRoot(t)
	create := filepath.Join(root, "events", "ensure-repo-create.json")
	selfService := filepath.Join(root, "events", "ensure-repo-self-service.json")
	notJSON := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(notJSON, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		args      []string
		environ   []string
		wantErr   string
		wantUsage bool
	}{
		{
			name:      "response bucket against AWS",
			args:      []string{"-function", "ensure-repo", "-event", create, "-response-bucket"},
			wantErr:   "-response-bucket needs AWS_ENDPOINT_URL",
			wantUsage: true,
		},
		{
			name: "response bucket without a CloudFormation request",
			args: []string{"-function", "ensure-repo", "-event", selfService,
				"-response-bucket"},
			environ:   []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1"},
			wantErr:   "is not a CloudFormation request with a ResponseURL",
			wantUsage: true,
		},
		{
			name:    "missing event",
			args:    []string{"-function", "ensure-repo", "-event", "no/such.json"},
			wantErr: "reading event: open no/such.json",
		},
		{
			name:    "event not JSON",
			args:    []string{"-function", "ensure-repo", "-event", notJSON},
			wantErr: "not JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, tt.environ, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error %q", err, tt.wantErr)
			}
			var usage *usageError
			if errors.As(err, &usage) != tt.wantUsage {
				t.Errorf("got error %T, want a usage error: %t", err, tt.wantUsage)
			}
		})
	}
}

// TestInvokeMoto runs ensure-repo's bootstrap under the emulator against moto,
// reached through AWS_ENDPOINT_URL as a user would set it.
func TestInvokeMoto(t *testing.T) {
	m := testsupport.Moto(t)
	root := moduleRoot(t)
	buildDir := t.TempDir()
	// The caller's configuration is the environment alone: no profile or
	// shared files of the machine running the test.
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": m.URL, "AWS_ACCESS_KEY_ID": localrun.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": localrun.SecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
	} {
		t.Setenv(k, v)
	}

	badName := filepath.Join(t.TempDir(), "bad.json")
	err := os.WriteFile(badName, []byte(`{"version":"0","id":"1","detail-type":`+
		`"ECR Repository Request","source":"platform.self-service","account":"123456789012",`+
		`"time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],`+
		`"detail":{"RepositoryName":"Not A Name!"}}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		wantErr    string
		wantStdout []string
		wantStderr []string
		wantParam  string // a parameter that must hold the URI in the response
	}{
		{
			name: "self-service request",
			args: []string{"-function", "EnsureRepoFunction",
				"-event", filepath.Join(root, "events", "ensure-repo-self-service.json")},
			wantStdout: []string{`"repositoryName":"example-team/self-service-app"`},
			wantStderr: []string{`"level":"INFO"`, "REPORT RequestId:"},
			wantParam:  "/ecr/repositories/example-team/self-service-app/uri",
		},
		{
			name: "custom resource with a response bucket",
			args: []string{"-function", "ensure-repo", "-response-bucket",
				"-event", filepath.Join(root, "events", "ensure-repo-create.json")},
			wantStdout: []string{`"Status":"SUCCESS"`,
				`"PhysicalResourceId":"example-team/example-app"`},
			wantStderr: []string{"invoke: CloudFormation was told (read back from " +
				"s3://ecr-stack-invoke-responses/", `"Status":"SUCCESS"`},
			wantParam: "/ecr/repositories/example-team/example-app/uri",
		},
		{
			name:       "function error",
			args:       []string{"-function", "ensure-repo", "-event", badName},
			wantErr:    "invoking ensure-repo: the function returned an error",
			wantStdout: []string{`"errorMessage":`, "RepositoryName"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append(slices.Clone(tt.args), "-build-dir", buildDir,
				"-env-vars", filepath.Join(root, "events", "env.json"))
			var stdout, stderr bytes.Buffer
			err := run(ctx, args, os.Environ(), &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error %q; stderr:\n%s", err, tt.wantErr, stderr.String())
				}
			} else if err != nil {
				t.Fatalf("run: %v; stderr:\n%s", err, stderr.String())
			}

			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("got stdout %q, want it to contain %q", stdout.String(), want)
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("got stderr without %q:\n%s", want, stderr.String())
				}
			}
			for _, out := range []string{stdout.String(), stderr.String()} {
				if strings.Contains(out, "X-Amz-Signature") {
					t.Errorf("got a pre-signed URL in the output, want none:\n%s", out)
				}
			}
			if strings.Contains(stdout.String(), `"level"`) {
				t.Errorf("got logs on stdout, want them on stderr:\n%s", stdout.String())
			}
			// Stopping the emulator must not make the bootstrap complain.
			if strings.Contains(stderr.String(), "failed to get the next invoke") {
				t.Errorf("got a complaint about the Runtime API, want none:\n%s", stderr.String())
			}

			if tt.wantParam == "" {
				return
			}
			var resp struct {
				RepositoryURI string `json:"repositoryUri"`
				Data          struct{ RepositoryUri string }
			}
			if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
				t.Fatalf("decoding response %q: %v", stdout.String(), err)
			}
			uri := resp.RepositoryURI + resp.Data.RepositoryUri
			p, err := ssm.NewFromConfig(testsupport.AWSConfig(t, m.URL)).GetParameter(ctx,
				&ssm.GetParameterInput{Name: aws.String(tt.wantParam)})
			if err != nil {
				t.Fatalf("GetParameter %q: %v", tt.wantParam, err)
			}
			if got := aws.ToString(p.Parameter.Value); got != uri || uri == "" {
				t.Errorf("got parameter %q, want the URI in the response %q", got, uri)
			}
		})
	}
}

func TestInvokeMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestInvokeMoto")
}

// moduleRoot returns the module root or fails t.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := localrun.ModuleRoot()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return root
}
