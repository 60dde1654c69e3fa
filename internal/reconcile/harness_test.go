package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

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

// Policies in canonical form, and one of them laid out differently.
const (
	keepFive = `{"rules":[{"action":{"type":"expire"},"rulePriority":1,"selection":` +
		`{"countNumber":5,"countType":"imageCountMoreThan","tagStatus":"any"}}]}`
	keepFiveLaidOut = `{
  "rules": [{
    "rulePriority": 1,
    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5},
    "action": {"type": "expire"}
  }]
}`
	keepTen = `{"rules":[{"action":{"type":"expire"},"rulePriority":1,"selection":` +
		`{"countNumber":10,"countType":"imageCountMoreThan","tagStatus":"any"}}]}`
	pullPolicy = `{"Statement":[{"Action":["ecr:BatchGetImage"],"Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Sid":"pull"}],` +
		`"Version":"2012-10-17"}`
	pullPolicyLaidOut = `{"Version": "2012-10-17", "Statement": [{"Sid": "pull",
  "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
  "Effect": "Allow", "Action": ["ecr:BatchGetImage"]}]}`
	pushPolicy = `{"Statement":[{"Action":["ecr:BatchGetImage","ecr:PutImage"],` +
		`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},` +
		`"Sid":"push"}],"Version":"2012-10-17"}`
)

// registryURI is moto's registry host.
const registryURI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/"

// owner is the owner most tests ensure as.
const owner = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1/Repo"

// The real clients satisfy the adapters' interfaces.
var (
	_ registry.API = (*ecr.Client)(nil)
	_ params.API   = (*ssm.Client)(nil)
)

// harness is a Core on the shared moto behind a recording proxy, with clients
// that reach moto directly to set up and inspect state.
type harness struct {
	t     *testing.T
	core  *reconcile.Core
	proxy *testsupport.Proxy
	cfg   aws.Config // moto directly
	ecr   *ecr.Client
	ssm   *ssm.Client
	logs  *logBuffer
	// scans records the scanning inputs the Core sends, which moto does not
	// keep when ScanOnPush is false.
	scans *scanRecorder
}

// newHarness returns a harness for t.
func newHarness(t *testing.T) *harness {
	t.Helper()
	m := testsupport.Moto(t)
	p := testsupport.NewProxy(t, m.URL)
	viaProxy := testsupport.AWSConfig(t, p.URL)
	direct := testsupport.AWSConfig(t, m.URL)
	logs := &logBuffer{}
	scans := &scanRecorder{Client: ecr.NewFromConfig(viaProxy)}
	core := reconcile.New(registry.New(scans), params.New(ssm.NewFromConfig(viaProxy)),
		slog.New(slog.NewJSONHandler(logs, nil)))
	return &harness{
		t: t, core: core, proxy: p, cfg: direct, logs: logs, scans: scans,
		ecr: ecr.NewFromConfig(direct), ssm: ssm.NewFromConfig(direct),
	}
}

// scanRecorder is the real ECR client, recording the scanning settings sent.
type scanRecorder struct {
	*ecr.Client
	mu     sync.Mutex
	values []bool
}

// CreateRepository records the scanning setting and calls ECR.
func (s *scanRecorder) CreateRepository(ctx context.Context, in *ecr.CreateRepositoryInput,
	optFns ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error) {
	s.record(in.ImageScanningConfiguration)
	return s.Client.CreateRepository(ctx, in, optFns...)
}

// PutImageScanningConfiguration records the scanning setting and calls ECR.
func (s *scanRecorder) PutImageScanningConfiguration(ctx context.Context,
	in *ecr.PutImageScanningConfigurationInput,
	optFns ...func(*ecr.Options)) (*ecr.PutImageScanningConfigurationOutput, error) {
	s.record(in.ImageScanningConfiguration)
	return s.Client.PutImageScanningConfiguration(ctx, in, optFns...)
}

// record notes c, failing on a missing configuration as a value of its own.
func (s *scanRecorder) record(c *ecrtypes.ImageScanningConfiguration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		s.values = append(s.values, false)
		return
	}
	s.values = append(s.values, c.ScanOnPush)
}

// last returns the last scanning setting sent.
func (s *scanRecorder) last() (bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.values) == 0 {
		return false, false
	}
	return s.values[len(s.values)-1], true
}

// logBuffer collects log output from concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns the log output written so far.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the log records written so far, decoded.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// names returns a unique repository name and its default parameter name.
func (h *harness) names() (string, string) {
	name := "team/" + testsupport.UniqueName(h.t, 60)
	return name, request.DefaultParameterName("/test", name)
}

// ensure runs Ensure and fails the test on error.
func (h *harness) ensure(in reconcile.EnsureInput) reconcile.Result {
	h.t.Helper()
	res, err := h.core.Ensure(context.Background(), in)
	if err != nil {
		h.t.Fatalf("Ensure %s: %v", in.Want.Name, err)
	}
	return res
}

// reads returns the read calls the proxy saw since the last Reset, sorted,
// since reads run in parallel.
func (h *harness) reads() []string { return h.calls(true) }

// writes returns the write calls the proxy saw since the last Reset, in order.
func (h *harness) writes() []string { return h.calls(false) }

// calls returns the calls the proxy saw that are reads, sorted, or writes,
// in order.
func (h *harness) calls(reads bool) []string {
	var out []string
	for _, c := range h.proxy.Calls() {
		_, op, _ := strings.Cut(c, ".")
		isRead := strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") ||
			strings.HasPrefix(op, "List")
		if isRead == reads {
			out = append(out, c)
		}
	}
	if reads {
		slices.Sort(out)
	}
	return out
}

// repository describes name in moto, or returns nil when it does not exist.
func (h *harness) repository(name string) *ecrtypes.Repository {
	h.t.Helper()
	out, err := h.ecr.DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{
		RepositoryNames: []string{name},
	})
	if _, ok := errors.AsType[*ecrtypes.RepositoryNotFoundException](err); ok {
		return nil
	}
	if err != nil {
		h.t.Fatalf("describing %s: %v", name, err)
	}
	return &out.Repositories[0]
}

// repositoryTags returns the tags of the repository name.
func (h *harness) repositoryTags(name string) map[string]string {
	h.t.Helper()
	out, err := h.ecr.ListTagsForResource(context.Background(), &ecr.ListTagsForResourceInput{
		ResourceArn: aws.String("arn:aws:ecr:us-east-1:123456789012:repository/" + name),
	})
	if err != nil {
		h.t.Fatalf("listing tags of %s: %v", name, err)
	}
	tags := map[string]string{}
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags
}

// lifecyclePolicy returns the lifecycle policy of name, or "".
func (h *harness) lifecyclePolicy(name string) string {
	h.t.Helper()
	out, err := h.ecr.GetLifecyclePolicy(context.Background(), &ecr.GetLifecyclePolicyInput{
		RepositoryName: aws.String(name),
	})
	if _, ok := errors.AsType[*ecrtypes.LifecyclePolicyNotFoundException](err); ok {
		return ""
	}
	if err != nil {
		h.t.Fatalf("reading lifecycle policy of %s: %v", name, err)
	}
	return aws.ToString(out.LifecyclePolicyText)
}

// repositoryPolicy returns the repository policy of name, or "".
func (h *harness) repositoryPolicy(name string) string {
	h.t.Helper()
	out, err := h.ecr.GetRepositoryPolicy(context.Background(), &ecr.GetRepositoryPolicyInput{
		RepositoryName: aws.String(name),
	})
	if _, ok := errors.AsType[*ecrtypes.RepositoryPolicyNotFoundException](err); ok {
		return ""
	}
	if err != nil {
		h.t.Fatalf("reading repository policy of %s: %v", name, err)
	}
	return aws.ToString(out.PolicyText)
}

// createRepository creates a repository in moto directly, as someone outside
// this stack would.
func (h *harness) createRepository(in *ecr.CreateRepositoryInput) {
	h.t.Helper()
	if _, err := h.ecr.CreateRepository(context.Background(), in); err != nil {
		h.t.Fatalf("creating %s: %v", aws.ToString(in.RepositoryName), err)
	}
}

// parameter is a parameter as moto holds it.
type parameter struct {
	Value   string
	Version int64
	Tags    map[string]string
}

// parameter returns the parameter name, or nil when it does not exist.
func (h *harness) parameter(name string) *parameter {
	h.t.Helper()
	ctx := context.Background()
	out, err := h.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if _, ok := errors.AsType[*ssmtypes.ParameterNotFound](err); ok {
		return nil
	}
	if err != nil {
		h.t.Fatalf("reading parameter %s: %v", name, err)
	}
	tags, err := h.ssm.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceId: aws.String(name), ResourceType: ssmtypes.ResourceTypeForTaggingParameter,
	})
	if err != nil {
		h.t.Fatalf("reading tags of parameter %s: %v", name, err)
	}
	p := &parameter{
		Value:   aws.ToString(out.Parameter.Value),
		Version: out.Parameter.Version,
		Tags:    map[string]string{},
	}
	for _, t := range tags.TagList {
		p.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return p
}

// putParameter writes a parameter in moto directly, as someone outside this
// stack would.
func (h *harness) putParameter(name, value string, tags map[string]string) {
	h.t.Helper()
	in := &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString,
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := h.ssm.PutParameter(context.Background(), in); err != nil {
		h.t.Fatalf("writing parameter %s: %v", name, err)
	}
}

// ownTags returns the tags Ensure puts on a parameter it writes.
func ownTags(owner, repository string) map[string]string {
	return map[string]string{reconcile.OwnerTag: owner, reconcile.RepositoryTag: repository}
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

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
