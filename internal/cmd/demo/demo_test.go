package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// moduleRoot returns the module root or fails t.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := localrun.ModuleRoot()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return root
}

func TestDemo(t *testing.T) {
	m := testsupport.Moto(t)
	var out bytes.Buffer
	logDir := t.TempDir()
	d := &demo{
		out:      &out,
		root:     moduleRoot(t),
		buildDir: t.TempDir(),
		logDir:   logDir,
		moto:     m,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := d.run(ctx); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("output:\n%s", out.String())

	got := d.outcome
	if got.Told.Status != cfn.StatusSuccess {
		t.Errorf("got CloudFormation told %q (%s), want SUCCESS", got.Told.Status, got.Told.Reason)
	}
	const repo = "example-team/example-app"
	if got.Repository != repo || got.Told.PhysicalResourceID != repo {
		t.Errorf("got repository %q and physical id %q, want %q", got.Repository,
			got.Told.PhysicalResourceID, repo)
	}

	cfg := testsupport.AWSConfig(t, m.URL)
	described, err := ecr.NewFromConfig(cfg).DescribeRepositories(ctx,
		&ecr.DescribeRepositoriesInput{
			RepositoryNames: []string{repo, got.SelfService.RepositoryName},
		})
	if err != nil {
		t.Fatalf("DescribeRepositories: %v", err)
	}
	if len(described.Repositories) != 2 {
		t.Fatalf("got %d repositories, want 2", len(described.Repositories))
	}
	uri := aws.ToString(described.Repositories[0].RepositoryUri)
	if got.URI != uri {
		t.Errorf("got URI %q told, want %q", got.URI, uri)
	}

	params := map[string]string{
		got.Parameter:                 uri,
		got.SelfService.ParameterName: aws.ToString(described.Repositories[1].RepositoryUri),
	}
	for name, want := range params {
		p, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{
			Name: aws.String(name),
		})
		if err != nil {
			t.Fatalf("GetParameter %q: %v", name, err)
		}
		if v := aws.ToString(p.Parameter.Value); v != want {
			t.Errorf("got parameter %s = %q, want %q", name, v, want)
		}
	}
	if got.ParameterValue != uri || got.SelfServiceValue != got.SelfService.RepositoryURI {
		t.Errorf("got URIs read back %q and %q, want %q and %q", got.ParameterValue,
			got.SelfServiceValue, uri, got.SelfService.RepositoryURI)
	}

	if !strings.Contains(got.Alert.Subject, repo) {
		t.Errorf("got alert subject %q, want it to mention %q", got.Alert.Subject, repo)
	}
	if a := got.Alert.MessageAttributes["repository"]; a.Value != repo {
		t.Errorf("got repository attribute %+v, want %q", a, repo)
	}

	report := out.String()
	for _, secret := range []string{"X-Amz-Signature", "X-Amz-Credential"} {
		if strings.Contains(report, secret) {
			t.Errorf("got a pre-signed URL (%s) in the output, want none", secret)
		}
	}
	for _, noise := range []string{`"level":`, `"requestId":`, "START RequestId"} {
		if strings.Contains(report, noise) {
			t.Errorf("got function log output (%s) in the report, want it in the log files", noise)
		}
	}
	for _, f := range localrun.Functions() {
		b, err := os.ReadFile(filepath.Join(logDir, f.Dir+".log"))
		if err != nil || !bytes.Contains(b, []byte(`"level":"INFO"`)) {
			t.Errorf("got log file of %s %q, %v, want its JSON logs", f.Dir, b, err)
		}
		// Stopping the emulator must not make the bootstrap complain.
		if bytes.Contains(b, []byte("failed to get the next invoke")) {
			t.Errorf("got log file of %s %q, want no complaint about the Runtime API", f.Dir, b)
		}
	}
}

func TestDemoMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestDemo")
}

func TestDemoSaysToInstallMoto(t *testing.T) {
	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "moto_server")); err != nil {
			path = append(path, dir)
		}
	}
	t.Setenv("PATH", strings.Join(path, string(filepath.ListSeparator)))

	var out bytes.Buffer
	d := &demo{out: &out, root: moduleRoot(t), buildDir: t.TempDir(), logDir: t.TempDir()}
	err := d.run(context.Background())
	if !errors.Is(err, localrun.ErrMotoNotFound) {
		t.Fatalf("got error %v, want ErrMotoNotFound", err)
	}
	const hint = `install it with pip install "moto[server]"`
	if !strings.Contains(err.Error(), hint) {
		t.Errorf("got error %q, want it to say %q", err, hint)
	}
}

func TestReadParameter(t *testing.T) {
	m := testsupport.Moto(t)
	cfg := testsupport.AWSConfig(t, m.URL)
	ctx := context.Background()
	name := "/ecr/repositories/" + testsupport.UniqueName(t, 40) + "/uri"
	_, err := ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String("the-uri"), Type: "String",
	})
	if err != nil {
		t.Fatalf("PutParameter: %v", err)
	}

	// A PATH without the aws CLI, and one whose aws fails.
	var noCLI []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "aws")); err != nil {
			noCLI = append(noCLI, dir)
		}
	}
	failing := t.TempDir()
	script := "#!/bin/sh\necho 'Could not connect to the endpoint URL' >&2\nexit 255\n"
	if err := os.WriteFile(filepath.Join(failing, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, cliErr := exec.LookPath("aws")

	tests := []struct {
		name     string
		path     []string
		wantNote string
	}{
		{name: "without the aws CLI", path: noCLI, wantNote: "no aws CLI on PATH"},
		{name: "with a failing aws CLI", path: append([]string{failing}, noCLI...),
			wantNote: "the aws CLI failed (exit status 255: Could not connect to the endpoint URL)"},
		{
			name: "as found on PATH",
			path: filepath.SplitList(os.Getenv("PATH")),
			wantNote: map[bool]string{true: "(the aws CLI, run with AWS_ENDPOINT_URL=" + m.URL,
				false: "no aws CLI on PATH"}[cliErr == nil],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", strings.Join(tt.path, string(filepath.ListSeparator)))
			var out bytes.Buffer
			d := &demo{p: &printer{w: &out}, moto: m, aws: cfg}
			got, err := d.readParameter(ctx, name)
			if err != nil {
				t.Fatalf("readParameter: %v\noutput:\n%s", err, out.String())
			}
			if got != "the-uri" {
				t.Errorf("got %q, want %q", got, "the-uri")
			}
			wantCmd := "$ aws ssm get-parameter --name " + name +
				" --query Parameter.Value --output text\n"
			if !strings.Contains(out.String(), wantCmd) {
				t.Errorf("got output %q, want the command %q", out.String(), wantCmd)
			}
			if !strings.Contains(out.String(), tt.wantNote) {
				t.Errorf("got output %q, want the note %q", out.String(), tt.wantNote)
			}
		})
	}
}

func TestCLIEnv(t *testing.T) {
	environ := []string{"HOME=/root", "AWS_PROFILE=prod", "AWS_SESSION_TOKEN=t", "PATH=/bin"}
	got := cliEnv(environ, "http://127.0.0.1:1", "us-east-1")
	want := []string{
		"HOME=/root", "PATH=/bin", "AWS_ENDPOINT_URL=http://127.0.0.1:1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_PAGER=",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if environ[1] != "AWS_PROFILE=prod" {
		t.Errorf("got environ changed to %q, want it untouched", environ)
	}
}

func TestDescriptions(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{
			name: "lifecycle rules",
			got: lifecycleRules(`{"rules":[{"rulePriority":1,"description":"expire untagged"},` +
				`{"rulePriority":2,"description":"keep 30"}]}`),
			want: []string{"1: expire untagged", "2: keep 30"},
		},
		{name: "lifecycle text", got: lifecycleRules(`{"x":1}`), want: []string{`{"x":1}`}},
		{
			name: "policy statements",
			got: policyStatements(`{"Statement":[{"Sid":"Pull","Effect":"Allow",` +
				`"Principal":{"AWS":["arn:a","arn:b"]},"Action":"ecr:BatchGetImage"}]}`),
			want: []string{"Pull: Allow arn:a, arn:b\n  ecr:BatchGetImage"},
		},
		{name: "policy text", got: policyStatements(`nope`), want: []string{"nope"}},
		{
			name: "counts",
			got: []string{formatCounts(map[string]int32{"LOW": 2, "CRITICAL": 1, "HIGH": 0}),
				formatCounts(nil)},
			want: []string{"1 CRITICAL, 2 LOW", "no findings"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestPrinter(t *testing.T) {
	var out bytes.Buffer
	p := &printer{w: &out}
	p.section("S")
	p.table([][2]string{{"A", "1"}, {"Long name", "2"}, {"", "more"}, {"B", "3\n  4"}})
	p.json("Short:", []byte(` null `))
	p.json("Long:", []byte(`{"repositoryName":"example-team/self-service-app"}`))
	p.block("a\n\nb\n")
	want := "\n== S\n\n" +
		"    A:          1\n" +
		"    Long name:  2\n" +
		"                more\n" +
		"    B:          3\n" +
		"                  4\n" +
		"    Short: null\n" +
		"    Long:\n" +
		"      {\n" +
		"        \"repositoryName\": \"example-team/self-service-app\"\n" +
		"      }\n" +
		"      | a\n" +
		"      | \n" +
		"      | b\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
