package findings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

var _ API = (*ecr.Client)(nil)

const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

var image = Image{
	RegistryID: "123456789012",
	Repository: "example-team/example-app",
	Digest:     digest,
}

// fakeECR serves total basic findings in pages of the requested size,
// generating each page on demand so that the test itself holds none.
type fakeECR struct {
	total int
	// inputs records every request.
	inputs []*ecr.DescribeImageScanFindingsInput
	// pages holds a weak pointer to every page served, to show that Read
	// keeps none of them.
	pages []weak.Pointer[ecr.DescribeImageScanFindingsOutput]
}

// DescribeImageScanFindings implements API.
func (f *fakeECR) DescribeImageScanFindings(_ context.Context,
	in *ecr.DescribeImageScanFindingsInput,
	_ ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	f.inputs = append(f.inputs, in)
	size := int(aws.ToInt32(in.MaxResults))
	if size == 0 {
		size = 100
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+size, f.total)

	out := &ecr.DescribeImageScanFindingsOutput{
		ImageScanStatus: &types.ImageScanStatus{Status: types.ScanStatusComplete},
		ImageScanFindings: &types.ImageScanFindings{
			FindingSeverityCounts: syntheticCounts(f.total),
		},
	}
	for i := start; i < end; i++ {
		out.ImageScanFindings.Findings = append(out.ImageScanFindings.Findings, synthetic(i))
	}
	if end < f.total {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	f.pages = append(f.pages, weak.Make(out))
	return out, nil
}

// severities cycles through the basic severities for synthetic findings.
var severities = []types.FindingSeverity{
	types.FindingSeverityInformational, types.FindingSeverityLow, types.FindingSeverityMedium,
	types.FindingSeverityHigh, types.FindingSeverityCritical, types.FindingSeverityUndefined,
	types.FindingSeverityLow,
}

// synthetic returns the i-th generated finding; its severity and score are
// spread so that ordering matters.
func synthetic(i int) types.ImageScanFinding {
	score := strconv.FormatFloat(float64(i*37%100)/10, 'f', 1, 64)
	return types.ImageScanFinding{
		Name:        aws.String(fmt.Sprintf("CVE-2024-%05d", i)),
		Severity:    severities[i%len(severities)],
		Description: aws.String(strings.Repeat("d", 200)),
		Uri:         aws.String(fmt.Sprintf("https://example.com/CVE-2024-%05d", i)),
		Attributes: []types.Attribute{
			{Key: aws.String("package_name"), Value: aws.String("pkg" + strconv.Itoa(i%50))},
			{Key: aws.String("package_version"), Value: aws.String("1.0." + strconv.Itoa(i))},
			{Key: aws.String("CVSS3_SCORE"), Value: aws.String(score)},
		},
	}
}

// syntheticCounts counts the first total synthetic findings per severity.
func syntheticCounts(total int) map[string]int32 {
	m := map[string]int32{}
	for i := range total {
		m[string(severities[i%len(severities)])]++
	}
	return m
}

// want returns the first n synthetic findings of total, in presentation order.
func wantTop(t *testing.T, total, n int, skip func(*scan.Finding) bool) []scan.Finding {
	t.Helper()
	var all []scan.Finding
	for i := range total {
		f := synthetic(i)
		sf := flattenBasic(&f)
		if skip != nil && skip(&sf) {
			continue
		}
		all = append(all, sf)
	}
	slices.SortFunc(all, func(a, b scan.Finding) int { return scan.Compare(&a, &b) })
	return all[:min(n, len(all))]
}

func TestReadPages(t *testing.T) {
	// Every seventh synthetic finding is critical: 1428 of 10000, 286 of the
	// first 2000.
	critical := func(f *scan.Finding) bool { return f.Severity == scan.Critical }
	tests := []struct {
		name          string
		total         int
		opts          Options
		wantPages     int
		wantTruncated bool
		wantListed    int
		wantCritical  int
		suppressed    func(*scan.Finding) bool
	}{
		{name: "no findings", total: 0, wantPages: 1},
		{name: "one page", total: 10, wantPages: 1, wantListed: 10, wantCritical: 1},
		{
			name: "10000 findings in 10 pages", total: 10000, opts: Options{MaxFindings: 20},
			wantPages: 10, wantListed: 10000, wantCritical: 1428,
		},
		{
			name: "stopped after 3 pages", total: 10000, opts: Options{MaxPages: 3},
			wantPages: 3, wantTruncated: true, wantListed: 3000, wantCritical: 1428,
		},
		{
			name: "critical suppressed", total: 10000, opts: Options{MaxFindings: 20},
			wantPages: 10, wantListed: 10000 - 1428, suppressed: critical,
		},
		{
			name: "critical suppressed, stopped after 2 pages", total: 10000,
			opts: Options{MaxPages: 2}, wantPages: 2, wantTruncated: true,
			wantListed: 2000 - 286, wantCritical: 1428 - 286, suppressed: critical,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeECR{total: tt.total}
			opts := tt.opts
			opts.Suppressed = tt.suppressed
			res, err := New(api, opts).Read(context.Background(), image)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}

			if res.Pages != tt.wantPages || len(api.inputs) != tt.wantPages {
				t.Errorf("got %d pages (%d calls), want %d", res.Pages, len(api.inputs), tt.wantPages)
			}
			if res.Truncated != tt.wantTruncated {
				t.Errorf("got truncated %v, want %v", res.Truncated, tt.wantTruncated)
			}
			if tt.wantTruncated != (res.Note != "") {
				t.Errorf("got note %q with truncated %v", res.Note, res.Truncated)
			}
			if res.Listed != tt.wantListed {
				t.Errorf("got %d listed, want %d", res.Listed, tt.wantListed)
			}
			if got, _ := res.Counts.Get(scan.Critical); got != tt.wantCritical {
				t.Errorf("got %d critical, want %d", got, tt.wantCritical)
			}
			if wantIDs := tt.suppressed != nil; wantIDs != (len(res.SuppressedIDs) > 0) {
				t.Errorf("got suppressed ids %v, want some: %v", res.SuppressedIDs, wantIDs)
			}
			if len(res.SuppressedIDs) > maxSuppressedIDs {
				t.Errorf("got %d suppressed ids, want at most %d", len(res.SuppressedIDs), maxSuppressedIDs)
			}
			if !res.Counts.Reported() {
				t.Errorf("got counts not reported, want reported")
			}
			if res.Status != "COMPLETE" {
				t.Errorf("got status %q, want COMPLETE", res.Status)
			}

			max := opts.MaxFindings
			if max == 0 {
				max = DefaultMaxFindings
			}
			if cap(res.Findings) > max {
				t.Errorf("got %d findings kept (capacity), want at most %d", cap(res.Findings), max)
			}
			if !tt.wantTruncated {
				want := wantTop(t, tt.total, max, tt.suppressed)
				if !slices.Equal(res.Findings, want) {
					t.Errorf("got findings %v, want %v", ids(res.Findings), ids(want))
				}
			}

			for i, in := range api.inputs {
				if got := aws.ToInt32(in.MaxResults); got != PageSize {
					t.Errorf("call %d: got MaxResults %d, want %d", i, got, PageSize)
				}
				if got := aws.ToString(in.ImageId.ImageDigest); got != digest {
					t.Errorf("call %d: got digest %q, want %q", i, got, digest)
				}
				if got := aws.ToString(in.RegistryId); got != image.RegistryID {
					t.Errorf("call %d: got registry %q, want %q", i, got, image.RegistryID)
				}
				if got := aws.ToString(in.RepositoryName); got != image.Repository {
					t.Errorf("call %d: got repository %q, want %q", i, got, image.Repository)
				}
			}
		})
	}
}

// TestReadKeepsNoPage shows that memory does not grow with the number of
// findings: once Read returns, no page it read is still reachable, and it
// keeps only MaxFindings findings.
func TestReadKeepsNoPage(t *testing.T) {
	api := &fakeECR{total: 10000}
	res, err := New(api, Options{MaxFindings: 20}).Read(context.Background(), image)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	runtime.GC()
	runtime.GC()
	for i, p := range api.pages {
		if p.Value() != nil {
			t.Errorf("page %d is still reachable after Read, want it released", i+1)
		}
	}
	if len(res.Findings) != 20 {
		t.Errorf("got %d findings, want 20", len(res.Findings))
	}
	runtime.KeepAlive(res)
}

// ids lists the ids of findings, for messages.
func ids(fs []scan.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID + "/" + f.Severity.String()
	}
	return out
}

// ecrServer starts a server that answers ECR's JSON protocol with handler and
// returns a real client pointed at it, with a retryer of three fast
// attempts.
func ecrServer(t *testing.T, handler http.HandlerFunc) *ecr.Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return ecr.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.RateLimiter = ratelimit.None
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
					return time.Millisecond, nil
				})
			})
		},
	})
}

// answer writes an ECR JSON response.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// sample returns the contents of testdata/name.
func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadSamples(t *testing.T) {
	tests := []struct {
		file       string
		wantStatus string
		wantDesc   string
		wantFailed bool
		want       []scan.Finding
		wantCounts string
	}{
		{
			file:       "describe-image-scan-findings-basic.json",
			wantStatus: "COMPLETE",
			wantDesc:   "The scan was completed successfully.",
			want: []scan.Finding{{
				ID:          "CVE-0000-05188",
				Severity:    scan.Medium,
				Score:       7.5,
				Package:     "example-package",
				Installed:   "1.0.0-1",
				URI:         "https://example.com/cve/CVE-0000-05188",
				Description: "Example vulnerability description.",
			}},
			wantCounts: "1 MEDIUM",
		},
		{
			file:       "describe-image-scan-findings-enhanced.json",
			wantStatus: "ACTIVE",
			wantDesc:   "Continuous scan is selected for image.",
			want: []scan.Finding{{
				ID:          "CVE-0000-00001",
				Title:       "CVE-0000-00001 - example-lib",
				Severity:    scan.High,
				Score:       8.1,
				Package:     "example-lib",
				Installed:   "1.0.0-1",
				URI:         "https://example.com/cve",
				Description: "Example vulnerability description.",
				ARN: "arn:aws:inspector2:us-east-1:123456789012:finding/" +
					"00000000000000000000000000000001",
			}},
			wantCounts: "1 HIGH",
		},
		{
			file:       "describe-image-scan-findings-failed.json",
			wantStatus: "FAILED",
			wantDesc: "UnsupportedImageError: The operating system and/or package manager " +
				"are not supported.",
			wantFailed: true,
			wantCounts: "none",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := sample(t, tt.file)
			var calls atomic.Int32
			client := ecrServer(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				const target = "AmazonEC2ContainerRegistry_V20150921.DescribeImageScanFindings"
				if got := r.Header.Get("X-Amz-Target"); got != target {
					t.Errorf("got target %q, want DescribeImageScanFindings", got)
				}
				answer(w, http.StatusOK, body)
			})
			res, err := New(client, Options{}).Read(context.Background(), image)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if res.Status != tt.wantStatus || res.Description != tt.wantDesc {
				t.Errorf("got status %q %q, want %q %q",
					res.Status, res.Description, tt.wantStatus, tt.wantDesc)
			}
			if res.Failed() != tt.wantFailed {
				t.Errorf("got failed %v, want %v", res.Failed(), tt.wantFailed)
			}
			if !slices.Equal(res.Findings, tt.want) {
				t.Errorf("got findings\n%+v\nwant\n%+v", res.Findings, tt.want)
			}
			if got := res.Counts.String(); got != tt.wantCounts {
				t.Errorf("got counts %q, want %q", got, tt.wantCounts)
			}
			if got := calls.Load(); got != 1 {
				t.Errorf("got %d calls, want 1", got)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		wantNotFound bool
		wantCalls    int32
		check        func(error) bool
	}{
		{
			name:         "scan not found",
			status:       http.StatusBadRequest,
			body:         `{"__type":"ScanNotFoundException","message":"no scan"}`,
			wantNotFound: true,
			wantCalls:    1,
			check: func(err error) bool {
				var e *types.ScanNotFoundException
				return errors.As(err, &e)
			},
		},
		{
			name:         "image not found",
			status:       http.StatusBadRequest,
			body:         `{"__type":"ImageNotFoundException","message":"no image"}`,
			wantNotFound: true,
			wantCalls:    1,
			check: func(err error) bool {
				var e *types.ImageNotFoundException
				return errors.As(err, &e)
			},
		},
		{
			name:         "repository not found",
			status:       http.StatusBadRequest,
			body:         `{"__type":"RepositoryNotFoundException","message":"no repository"}`,
			wantNotFound: true,
			wantCalls:    1,
			check: func(err error) bool {
				var e *types.RepositoryNotFoundException
				return errors.As(err, &e)
			},
		},
		{
			name:      "throttled after the retries",
			status:    http.StatusBadRequest,
			body:      `{"__type":"ThrottlingException","message":"Rate exceeded"}`,
			wantCalls: 3,
			check: func(err error) bool {
				// ECR models no throttling error; the code is all there is.
				var e smithy.APIError
				return errors.As(err, &e) && e.ErrorCode() == "ThrottlingException"
			},
		},
		{
			name:      "server error after the retries",
			status:    http.StatusInternalServerError,
			body:      `{"__type":"ServerException","message":"boom"}`,
			wantCalls: 3,
			check: func(err error) bool {
				var e *types.ServerException
				return errors.As(err, &e)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			client := ecrServer(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				answer(w, tt.status, tt.body)
			})
			_, err := New(client, Options{}).Read(context.Background(), image)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if got := errors.Is(err, ErrNotFound); got != tt.wantNotFound {
				t.Errorf("got errors.Is(ErrNotFound) %v, want %v (error %v)", got, tt.wantNotFound, err)
			}
			if !tt.check(err) {
				t.Errorf("got error %v, want the SDK's error wrapped", err)
			}
			want := `describing scan findings of image "example-team/example-app@` + digest + `"`
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got error %q, want it to start with %q", err, want)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestFlattenEnhanced(t *testing.T) {
	tests := []struct {
		name string
		in   types.EnhancedImageScanFinding
		want scan.Finding
	}{
		{
			name: "fix known, epoch, two packages, cvss score only",
			in: types.EnhancedImageScanFinding{
				Severity: aws.String("CRITICAL"),
				Title:    aws.String("CVE-1 - openssl"),
				PackageVulnerabilityDetails: &types.PackageVulnerabilityDetails{
					VulnerabilityId: aws.String("CVE-1"),
					ReferenceUrls:   []string{"https://example.com/ref"},
					Cvss:            []types.CvssScore{{BaseScore: 7.1}, {BaseScore: 9.8}},
					VulnerablePackages: []types.VulnerablePackage{
						{
							Name: aws.String("openssl"), Version: aws.String("3.0.1"),
							Release: aws.String("2"), Epoch: aws.Int32(1),
							FixedInVersion: aws.String("1:3.0.2-1"),
						},
						{Name: aws.String("openssl-libs"), Version: aws.String("3.0.1")},
					},
				},
			},
			want: scan.Finding{
				ID: "CVE-1", Title: "CVE-1 - openssl", Severity: scan.Critical, Score: 9.8,
				Package: "openssl", Installed: "1:3.0.1-2", FixedIn: "1:3.0.2-1",
				URI: "https://example.com/ref",
			},
		},
		{
			name: "an unrecognized severity",
			in: types.EnhancedImageScanFinding{
				Severity: aws.String("URGENT"),
				Title:    aws.String("CVE-2 - zlib"),
			},
			want: scan.Finding{ID: "CVE-2", Title: "CVE-2 - zlib", Severity: scan.Unrecognized},
		},
		{
			name: "untriaged, no package details",
			in: types.EnhancedImageScanFinding{
				Severity: aws.String("UNTRIAGED"),
				Title:    aws.String("GHSA-xxxx - thing"),
				Remediation: &types.Remediation{Recommendation: &types.Recommendation{
					Url: aws.String("https://example.com/fix"),
				}},
			},
			want: scan.Finding{
				ID: "GHSA-xxxx", Title: "GHSA-xxxx - thing", Severity: scan.Undefined,
				URI: "https://example.com/fix",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flattenEnhanced(&tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// pageAPI answers every call with the same page.
type pageAPI struct {
	page *ecr.DescribeImageScanFindingsOutput
}

// DescribeImageScanFindings implements API.
func (p pageAPI) DescribeImageScanFindings(context.Context, *ecr.DescribeImageScanFindingsInput,
	...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	return p.page, nil
}

// TestReadUnrecognizedSeverities checks that findings and counts of a
// severity ECR does not document are kept as scan.Unrecognized, in the counts
// of a complete read and of a truncated one alike.
func TestReadUnrecognizedSeverities(t *testing.T) {
	page := &ecr.DescribeImageScanFindingsOutput{
		ImageScanStatus: &types.ImageScanStatus{Status: types.ScanStatusComplete},
		ImageScanFindings: &types.ImageScanFindings{
			FindingSeverityCounts: map[string]int32{"URGENT": 2, "HIGH": 1},
			Findings: []types.ImageScanFinding{
				{Name: aws.String("CVE-1"), Severity: "URGENT"},
				{Name: aws.String("CVE-2"), Severity: "URGENT"},
				{Name: aws.String("CVE-3"), Severity: types.FindingSeverityHigh},
			},
		},
	}
	tests := []struct {
		name           string
		page           *ecr.DescribeImageScanFindingsOutput
		opts           Options
		wantOther      int
		wantTruncated  bool
		wantSeverities []scan.Severity
	}{
		{"complete", page, Options{}, 2, false,
			[]scan.Severity{scan.High, scan.Unrecognized, scan.Unrecognized}},
		{"truncated takes the scan's counts", withToken(page), Options{MaxPages: 1}, 2, true,
			[]scan.Severity{scan.High, scan.Unrecognized, scan.Unrecognized}},
		{"suppressed", page, Options{Suppressed: func(f *scan.Finding) bool {
			return f.ID == "CVE-1"
		}}, 1, false, []scan.Severity{scan.High, scan.Unrecognized}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New(pageAPI{tt.page}, tt.opts).Read(context.Background(), image)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if n, _ := res.Counts.Get(scan.Unrecognized); n != tt.wantOther {
				t.Errorf("got %d unrecognized, want %d", n, tt.wantOther)
			}
			if got := res.Counts.Other(); got != tt.wantOther {
				t.Errorf("got %d other, want %d", got, tt.wantOther)
			}
			if res.Truncated != tt.wantTruncated {
				t.Errorf("got truncated %t, want %t", res.Truncated, tt.wantTruncated)
			}
			var sevs []scan.Severity
			for _, f := range res.Findings {
				sevs = append(sevs, f.Severity)
			}
			if !slices.Equal(sevs, tt.wantSeverities) {
				t.Errorf("got severities %v, want %v", sevs, tt.wantSeverities)
			}
		})
	}
}

// withToken returns a copy of page that says more pages follow.
func withToken(page *ecr.DescribeImageScanFindingsOutput) *ecr.DescribeImageScanFindingsOutput {
	out := *page
	out.NextToken = aws.String("more")
	return &out
}

// TestFlattenCounts checks how the counts ECR reports are read.
func TestFlattenCounts(t *testing.T) {
	tests := []struct {
		name      string
		in        map[string]int32
		wantTotal int
		wantOther int
		wantStr   string
	}{
		{"none", nil, 0, 0, "unknown"},
		{"empty", map[string]int32{}, 0, 0, "none"},
		{"severities", map[string]int32{"HIGH": 2, "untriaged": 1}, 3, 0, "2 HIGH, 1 UNDEFINED"},
		{"unrecognized", map[string]int32{"HIGH": 2, "URGENT": 3}, 5, 3, "2 HIGH, 3 other"},
		{"a total", map[string]int32{"HIGH": 2, "TOTAL": 7}, 7, 5, "2 HIGH, 5 other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := flattenCounts(tt.in)
			if got := c.Total(); got != tt.wantTotal {
				t.Errorf("got total %d, want %d", got, tt.wantTotal)
			}
			if got := c.Other(); got != tt.wantOther {
				t.Errorf("got other %d, want %d", got, tt.wantOther)
			}
			if got := c.String(); got != tt.wantStr {
				t.Errorf("got %q, want %q", got, tt.wantStr)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := clip(tt.in, tt.n); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkRead10000(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		api := &fakeECR{total: 10000}
		if _, err := New(api, Options{MaxFindings: 20}).Read(ctx, image); err != nil {
			b.Fatal(err)
		}
	}
}
