package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/ecr-stack/ecr-stack/internal/alert"
	"github.com/ecr-stack/ecr-stack/internal/findings"
	"github.com/ecr-stack/ecr-stack/internal/notify"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

var (
	_ findings.API = (*ecr.Client)(nil)
	_ notify.API   = (*sns.Client)(nil)
)

const (
	testTopic = "arn:aws:sns:us-east-1:123456789012:scan-alerts"
	eventsDir = "../../events"
)

// describeFunc answers one DescribeImageScanFindings call.
type describeFunc func(*ecr.DescribeImageScanFindingsInput) (
	*ecr.DescribeImageScanFindingsOutput, error)

// fakeECR answers DescribeImageScanFindings with describe and counts calls.
type fakeECR struct {
	mu    sync.Mutex
	calls int
	// deadline is the deadline of the last call's context.
	deadline time.Time
	describe describeFunc
}

// DescribeImageScanFindings implements findings.API.
func (f *fakeECR) DescribeImageScanFindings(ctx context.Context,
	in *ecr.DescribeImageScanFindingsInput,
	_ ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	f.mu.Lock()
	f.calls++
	f.deadline, _ = ctx.Deadline()
	f.mu.Unlock()
	if f.describe == nil {
		return nil, errors.New("unexpected DescribeImageScanFindings call")
	}
	return f.describe(in)
}

// fakeSNS records what is published and answers with err.
type fakeSNS struct {
	inputs []*sns.PublishInput
	err    error
}

// Publish implements notify.API.
func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput,
	_ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sns.PublishOutput{MessageId: aws.String("message-" + strconv.Itoa(len(f.inputs)))}, nil
}

// basicPages answers with basic findings, counts[severity] of each, in pages
// of the requested size; each finding's id is "CVE-<severity>-<n>". Besides
// ECR's severities it knows URGENT, one ECR does not document.
func basicPages(counts map[string]int) describeFunc {
	var all []ecrtypes.ImageScanFinding
	summary := map[string]int32{}
	for _, sev := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED",
		"URGENT"} {
		for i := range counts[sev] {
			all = append(all, ecrtypes.ImageScanFinding{
				Name:     aws.String(fmt.Sprintf("CVE-%s-%d", sev, i)),
				Severity: ecrtypes.FindingSeverity(sev),
				Uri:      aws.String("https://example.com/" + sev + "/" + strconv.Itoa(i)),
				Attributes: []ecrtypes.Attribute{
					{Key: aws.String("package_name"), Value: aws.String("pkg-" + strconv.Itoa(i%40))},
					{Key: aws.String("package_version"), Value: aws.String("1." + strconv.Itoa(i))},
					{Key: aws.String("CVSS3_SCORE"), Value: aws.String(strconv.Itoa(i%10) + ".5")},
				},
			})
		}
		if counts[sev] > 0 {
			summary[sev] = int32(counts[sev])
		}
	}
	return func(in *ecr.DescribeImageScanFindingsInput) (*ecr.DescribeImageScanFindingsOutput, error) {
		start := 0
		if in.NextToken != nil {
			start, _ = strconv.Atoi(*in.NextToken)
		}
		end := min(start+int(aws.ToInt32(in.MaxResults)), len(all))
		out := &ecr.DescribeImageScanFindingsOutput{
			ImageScanStatus: &ecrtypes.ImageScanStatus{
				Status:      ecrtypes.ScanStatusComplete,
				Description: aws.String("The scan was completed successfully."),
			},
			ImageScanFindings: &ecrtypes.ImageScanFindings{
				Findings:              all[start:end],
				FindingSeverityCounts: summary,
			},
		}
		if end < len(all) {
			out.NextToken = aws.String(strconv.Itoa(end))
		}
		return out, nil
	}
}

// enhancedPage answers with one page of enhanced findings, counts[severity]
// of each, with the status ACTIVE.
func enhancedPage(counts map[string]int) describeFunc {
	return func(*ecr.DescribeImageScanFindingsInput) (*ecr.DescribeImageScanFindingsOutput, error) {
		out := &ecr.DescribeImageScanFindingsOutput{
			ImageScanStatus:   &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusActive},
			ImageScanFindings: &ecrtypes.ImageScanFindings{},
		}
		for sev, n := range counts {
			for i := range n {
				id := fmt.Sprintf("CVE-%s-%d", sev, i)
				out.ImageScanFindings.EnhancedFindings = append(out.ImageScanFindings.EnhancedFindings,
					ecrtypes.EnhancedImageScanFinding{
						Severity: aws.String(sev),
						Title:    aws.String(id + " - lib"),
						Score:    float64(i%10) + 0.1,
						PackageVulnerabilityDetails: &ecrtypes.PackageVulnerabilityDetails{
							VulnerabilityId: aws.String(id),
							SourceUrl:       aws.String("https://example.com/" + id),
							VulnerablePackages: []ecrtypes.VulnerablePackage{{
								Name: aws.String("lib"), Version: aws.String("1.0"),
								FixedInVersion: aws.String("1.1"),
							}},
						},
					})
			}
		}
		return out, nil
	}
}

// failedScan answers as ECR does for a scan of an unsupported image.
func failedScan(*ecr.DescribeImageScanFindingsInput) (*ecr.DescribeImageScanFindingsOutput, error) {
	return &ecr.DescribeImageScanFindingsOutput{ImageScanStatus: &ecrtypes.ImageScanStatus{
		Status: ecrtypes.ScanStatusFailed,
		Description: aws.String("UnsupportedImageError: The operating system and/or package " +
			"manager are not supported."),
	}}, nil
}

// fails answers with err.
func fails(err error) describeFunc {
	return func(*ecr.DescribeImageScanFindingsInput) (*ecr.DescribeImageScanFindingsOutput, error) {
		return nil, err
	}
}

// loadEvent reads a file in events/ into the type Handle takes.
func loadEvent(t testing.TB, name string) events.EventBridgeEvent {
	t.Helper()
	return testsupport.Event[events.EventBridgeEvent](t, name)
}

// withCounts returns ev with its finding-severity-counts replaced by counts.
func withCounts(t *testing.T, ev events.EventBridgeEvent,
	counts map[string]int) events.EventBridgeEvent {
	t.Helper()
	return testsupport.WithDetail(t, ev, func(d map[string]any) { d["finding-severity-counts"] = counts })
}

// newTestHandler returns a handler for env over the fakes, logging to log.
func newTestHandler(t testing.TB, env map[string]string, e *fakeECR, s *fakeSNS,
	log *slog.Logger) *Handler {
	t.Helper()
	if _, ok := env["TOPIC_ARN"]; !ok {
		env["TOPIC_ARN"] = testTopic
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := New(cfg, e, s, log)
	h.now = func() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) }
	return h
}

// published describes what was published, for assertions.
type published struct {
	subject, body string
	attrs         map[string]string
	group, dedup  string
}

// decodePublish reads a PublishInput.
func decodePublish(in *sns.PublishInput) published {
	p := published{
		subject: aws.ToString(in.Subject),
		body:    aws.ToString(in.Message),
		attrs:   map[string]string{},
		group:   aws.ToString(in.MessageGroupId),
		dedup:   aws.ToString(in.MessageDeduplicationId),
	}
	for k, v := range in.MessageAttributes {
		p.attrs[k] = aws.ToString(v.StringValue)
	}
	return p
}

// sampleCase is one file in events/ and what handling it does.
type sampleCase struct {
	file         string
	describe     describeFunc
	wantECRCalls int
	wantSubject  string // "" wants nothing published
	wantBody     []string
	wantSeverity string
}

// TestEventSamples runs every scan-notifier file in events/ through the
// handler, with ECR answering consistently with each event.
func TestEventSamples(t *testing.T) {
	tests := []sampleCase{
		{
			file:         "scan-notifier-ecr-scan-complete.json",
			describe:     basicPages(map[string]int{"CRITICAL": 10, "HIGH": 2, "MEDIUM": 9, "LOW": 3}),
			wantECRCalls: 1,
			wantSubject:  "10 CRITICAL, 2 HIGH, 9 MEDIUM, 3 LOW in example-team/example-app:1.0.0",
			wantBody: []string{"CVE-CRITICAL-9", "1.0.0, latest",
				"sha256:1111111111111111111111111111111111111111111111111111111111111111"},
			wantSeverity: "CRITICAL",
		},
		{
			file:         "scan-notifier-ecr-scan-failed.json",
			describe:     failedScan,
			wantECRCalls: 1,
			wantSubject:  "Scan FAILED for example-team/example-app@sha256:111111111111",
			wantBody:     []string{"UnsupportedImageError: The operating system"},
			wantSeverity: "UNKNOWN",
		},
		{file: "scan-notifier-ecr-scan-clean.json"},
		{
			file:         "scan-notifier-inspector2-scan.json",
			describe:     enhancedPage(map[string]int{"CRITICAL": 7, "HIGH": 61, "MEDIUM": 62, "LOW": 28}),
			wantECRCalls: 1,
			wantSubject:  "7 CRITICAL, 61 HIGH, 62 MEDIUM, 28 LOW in example-team/example-app:latest",
			wantBody:     []string{"CVE-CRITICAL-6", "lib 1.0 -> 1.1"},
			wantSeverity: "CRITICAL",
		},
		{file: "scan-notifier-inspector2-finding.json"},
		{file: "scan-notifier-ecr-scan-resource-change.json"},
	}
	files, err := filepath.Glob(filepath.Join(eventsDir, "scan-notifier-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		covered := func(tt sampleCase) bool { return tt.file == filepath.Base(file) }
		if !slices.ContainsFunc(tests, covered) {
			t.Errorf("got %s in events/ without a case here, want every sample run", file)
		}
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e, s := &fakeECR{describe: tt.describe}, &fakeSNS{}
			h := newTestHandler(t, map[string]string{}, e, s, nil)
			if err := h.Handle(context.Background(), loadEvent(t, tt.file)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if e.calls != tt.wantECRCalls {
				t.Errorf("got %d ECR calls, want %d", e.calls, tt.wantECRCalls)
			}
			if tt.wantSubject == "" {
				if len(s.inputs) != 0 {
					t.Errorf("got %d messages, want none", len(s.inputs))
				}
				return
			}
			if len(s.inputs) != 1 {
				t.Fatalf("got %d messages, want 1", len(s.inputs))
			}
			p := decodePublish(s.inputs[0])
			if !strings.HasPrefix(p.subject, tt.wantSubject) {
				t.Errorf("got subject %q, want it to start with %q", p.subject, tt.wantSubject)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(p.body, want) {
					t.Errorf("got body without %q:\n%s", want, p.body)
				}
			}
			if got := p.attrs[alert.AttrSeverity]; got != tt.wantSeverity {
				t.Errorf("got severity attribute %q, want %q", got, tt.wantSeverity)
			}
			if got := p.attrs[alert.AttrRepository]; got != "example-team/example-app" {
				t.Errorf("got repository attribute %q, want example-team/example-app", got)
			}
			if p.group != "" || p.dedup != "" {
				t.Errorf("got group %q and deduplication %q on a standard topic, want none", p.group, p.dedup)
			}
		})
	}
}

func TestHandle(t *testing.T) {
	complete := loadEvent(t, "scan-notifier-ecr-scan-complete.json")
	lowOnly := withCounts(t, complete, map[string]int{"MEDIUM": 3, "LOW": 1})
	twoHigh := withCounts(t, complete, map[string]int{"HIGH": 2})
	noCounts := testsupport.WithDetail(t, complete,
		func(d map[string]any) { delete(d, "finding-severity-counts") })
	inspector := loadEvent(t, "scan-notifier-inspector2-scan.json")
	finding := loadEvent(t, "scan-notifier-inspector2-finding.json")
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}

	tests := []struct {
		name         string
		env          map[string]string
		event        events.EventBridgeEvent
		describe     describeFunc
		snsErr       error
		wantErr      func(error) bool
		wantECRCalls int
		wantMessages int
		wantSubject  string
		wantBody     []string
		wantAttrs    map[string]string
	}{
		{
			name:  "below the threshold costs no call",
			event: lowOnly,
		},
		{
			name:         "below the threshold, lower threshold alerts",
			env:          map[string]string{"SEVERITY_THRESHOLD": "LOW"},
			event:        lowOnly,
			describe:     basicPages(map[string]int{"MEDIUM": 3, "LOW": 1}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "3 MEDIUM, 1 LOW in example-team/example-app:1.0.0",
			wantAttrs:    map[string]string{"severity": "MEDIUM", "critical": "0", "high": "0"},
		},
		{
			name:         "counts absent: findings decide",
			event:        noCounts,
			describe:     basicPages(map[string]int{"HIGH": 1}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "1 HIGH in example-team/example-app:1.0.0",
		},
		{
			name:         "counts absent, nothing at the threshold",
			event:        noCounts,
			describe:     basicPages(map[string]int{"LOW": 4}),
			wantECRCalls: 1,
		},
		{
			name:         "scan gone: alert from the event counts",
			event:        complete,
			describe:     fails(&ecrtypes.ScanNotFoundException{Message: aws.String("gone")}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "10 CRITICAL, 2 HIGH, 9 MEDIUM, 3 LOW in example-team/example-app:1.0.0",
			wantBody:     []string{"ECR no longer has this image or its scan"},
			wantAttrs:    map[string]string{"critical": "10", "high": "2"},
		},
		{
			name:         "failed scan, image gone",
			event:        loadEvent(t, "scan-notifier-ecr-scan-failed.json"),
			describe:     fails(&ecrtypes.ImageNotFoundException{Message: aws.String("gone")}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "Scan FAILED for example-team/example-app@sha256:111111111111",
			wantBody:     []string{"ECR no longer has this image or its scan"},
		},
		{
			name:         "enhanced findings not listed yet",
			event:        inspector,
			describe:     enhancedPage(nil),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "7 CRITICAL, 61 HIGH, 62 MEDIUM",
			wantBody:     []string{"ECR lists no findings yet (scan status ACTIVE)"},
		},
		{
			name:         "event says complete, ECR says unsupported",
			event:        complete,
			describe:     failedScan,
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "Scan FAILED for example-team/example-app:1.0.0",
			wantBody:     []string{"UnsupportedImageError"},
			wantAttrs:    map[string]string{"scan_status": "FAILED"},
		},
		{
			name:         "ECR throttled after the retries",
			event:        complete,
			describe:     fails(throttled),
			wantECRCalls: 1,
			wantErr: func(err error) bool {
				var e smithy.APIError
				return errors.As(err, &e) && e.ErrorCode() == "ThrottlingException"
			},
		},
		{
			name:         "SNS failing after the retries",
			event:        complete,
			describe:     basicPages(map[string]int{"CRITICAL": 10, "HIGH": 2}),
			snsErr:       &snstypes.InternalErrorException{Message: aws.String("boom")},
			wantECRCalls: 1,
			wantMessages: 1,
			wantErr: func(err error) bool {
				var e *snstypes.InternalErrorException
				return errors.As(err, &e) && strings.Contains(err.Error(), testTopic)
			},
		},
		{
			name:         "every finding suppressed",
			env:          map[string]string{"SUPPRESSED_FINDINGS": "CVE-HIGH-0 CVE-HIGH-1"},
			event:        twoHigh,
			describe:     basicPages(map[string]int{"HIGH": 2}),
			wantECRCalls: 1,
		},
		{
			name:         "suppression expired",
			env:          map[string]string{"SUPPRESSED_FINDINGS": "CVE-HIGH-0:2024-05-31 CVE-HIGH-1"},
			event:        twoHigh,
			describe:     basicPages(map[string]int{"HIGH": 2}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "1 HIGH in example-team/example-app:1.0.0",
			wantBody:     []string{"CVE-HIGH-0", "1 finding left out by suppressions", "CVE-HIGH-1"},
			wantAttrs:    map[string]string{"high": "1"},
		},
		{
			name:         "10000 findings",
			env:          map[string]string{"MAX_FINDINGS": "50"},
			event:        complete,
			describe:     basicPages(map[string]int{"CRITICAL": 100, "HIGH": 2900, "MEDIUM": 7000}),
			wantECRCalls: 10,
			wantMessages: 1,
			wantSubject:  "100 CRITICAL, 2900 HIGH, 7000 MEDIUM in example-team/example-app:1.0.0",
			wantBody:     []string{"Top 50 of 10000 findings", "CVE-CRITICAL-9"},
			wantAttrs:    map[string]string{"critical": "100", "high": "2900"},
		},
		{
			name:         "inspector finding at the threshold: no ECR call",
			env:          map[string]string{"SEVERITY_THRESHOLD": "MEDIUM"},
			event:        finding,
			wantMessages: 1,
			wantSubject:  "MEDIUM CVE-0000-00001 in example-team/example-app:1.0.0",
			wantBody:     []string{"example-lib"},
		},
		{
			name:         "clean scan with NOTIFY_ON_CLEAN: no ECR call",
			env:          map[string]string{"NOTIFY_ON_CLEAN": "true"},
			event:        loadEvent(t, "scan-notifier-ecr-scan-clean.json"),
			wantMessages: 1,
			wantSubject:  "No findings in example-team/example-app:1.0.0",
			wantAttrs:    map[string]string{"severity": "NONE"},
		},
		{
			name:         "unrecognized severities alert whatever the threshold",
			env:          map[string]string{"SEVERITY_THRESHOLD": "CRITICAL"},
			event:        withCounts(t, complete, map[string]int{"URGENT": 4}),
			describe:     basicPages(map[string]int{"URGENT": 4}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "4 other in example-team/example-app:1.0.0",
			wantBody:     []string{"found 4 vulnerabilities: 4 other.", "CVE-URGENT-0  OTHER"},
			wantAttrs:    map[string]string{"severity": "UNKNOWN", "critical": "0", "high": "0"},
		},
		{
			name:  "unrecognized severities, scan gone: alert from the event counts",
			event: withCounts(t, complete, map[string]int{"URGENT": 4, "LOW": 1}),
			describe: fails(&ecrtypes.ImageNotFoundException{
				Message: aws.String("gone")}),
			wantECRCalls: 1,
			wantMessages: 1,
			wantSubject:  "1 LOW, 4 other in example-team/example-app:1.0.0",
		},
		{
			name:  "unreadable scan event",
			event: testsupport.WithDetail(t, complete, func(d map[string]any) { delete(d, "image-digest") }),
			wantErr: func(err error) bool {
				return strings.Contains(err.Error(), "image-digest")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			e, s := &fakeECR{describe: tt.describe}, &fakeSNS{err: tt.snsErr}
			h := newTestHandler(t, env, e, s, nil)
			err := h.Handle(context.Background(), tt.event)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Handle: %v", err)
			case tt.wantErr != nil && (err == nil || !tt.wantErr(err)):
				t.Fatalf("got error %v, want one matching the case", err)
			}
			if e.calls != tt.wantECRCalls {
				t.Errorf("got %d ECR calls, want %d", e.calls, tt.wantECRCalls)
			}
			if len(s.inputs) != tt.wantMessages {
				t.Fatalf("got %d messages, want %d", len(s.inputs), tt.wantMessages)
			}
			if tt.wantMessages == 0 || tt.snsErr != nil {
				return
			}
			p := decodePublish(s.inputs[0])
			if !strings.HasPrefix(p.subject, tt.wantSubject) {
				t.Errorf("got subject %q, want it to start with %q", p.subject, tt.wantSubject)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(p.body, want) {
					t.Errorf("got body without %q:\n%s", want, p.body)
				}
			}
			for k, want := range tt.wantAttrs {
				if got := p.attrs[k]; got != want {
					t.Errorf("got attribute %s %q, want %q", k, got, want)
				}
			}
			if size := len(p.subject) + len(p.body); size > alert.MaxPublishSize {
				t.Errorf("got a publish of %d bytes, want at most %d", size, alert.MaxPublishSize)
			}
		})
	}
}

func TestHandleFIFO(t *testing.T) {
	e := &fakeECR{describe: basicPages(map[string]int{"CRITICAL": 1})}
	s := &fakeSNS{}
	h := newTestHandler(t, map[string]string{"TOPIC_ARN": testTopic + ".fifo"}, e, s, nil)
	ev := loadEvent(t, "scan-notifier-ecr-scan-complete.json")
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if len(s.inputs) != 1 {
		t.Fatalf("got %d messages, want 1", len(s.inputs))
	}
	p := decodePublish(s.inputs[0])
	if p.group != "example-team/example-app" {
		t.Errorf("got group id %q, want example-team/example-app", p.group)
	}
	if p.dedup != ev.ID {
		t.Errorf("got deduplication id %q, want the event id %q", p.dedup, ev.ID)
	}
}

// TestHandleDeadline shows that AWS calls get a deadline before the
// function's, so that calls still retrying end in an error the handler
// returns rather than in a timeout.
func TestHandleDeadline(t *testing.T) {
	e := &fakeECR{describe: fails(context.DeadlineExceeded)}
	h := newTestHandler(t, map[string]string{}, e, &fakeSNS{}, nil)
	deadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	err := h.Handle(ctx, loadEvent(t, "scan-notifier-ecr-scan-complete.json"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want one wrapping context.DeadlineExceeded", err)
	}
	if want := deadline.Add(-deadlineMargin); !e.deadline.Equal(want) {
		t.Errorf("got call deadline %v, want %v", e.deadline, want)
	}
}

// logKey matches the keys the handler logs: snake_case, like the other
// function's.
var logKey = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)

// TestLogs runs each sample through the handler with its log captured: one
// line per step, each JSON with the request id and stable snake_case keys,
// none twice; scan lines name the repository and digest, and no line at INFO
// carries the event itself.
func TestLogs(t *testing.T) {
	wantSteps := map[string][]string{
		"scan-notifier-ecr-scan-clean.json":           {"no alert"},
		"scan-notifier-ecr-scan-complete.json":        {"findings read", "alert published"},
		"scan-notifier-ecr-scan-failed.json":          {"findings read", "alert published"},
		"scan-notifier-ecr-scan-resource-change.json": {"event ignored"},
		"scan-notifier-inspector2-finding.json":       {"alert published"},
		"scan-notifier-inspector2-scan.json":          {"findings read", "alert published"},
	}
	files, err := filepath.Glob(filepath.Join(eventsDir, "scan-notifier-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("got %d samples (%v), want some", len(files), err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			want, ok := wantSteps[name]
			if !ok {
				t.Fatalf("got a sample with no expected log steps; add %s to wantSteps", name)
			}
			ev := loadEvent(t, name)
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
			e := &fakeECR{describe: basicPages(map[string]int{"CRITICAL": 2, "HIGH": 3})}
			h := newTestHandler(t, map[string]string{"SEVERITY_THRESHOLD": "LOW"}, e, &fakeSNS{}, log)
			ctx := lambdacontext.NewContext(context.Background(),
				&lambdacontext.LambdaContext{AwsRequestID: "request-1"})
			if err := h.Handle(ctx, ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}

			var compact bytes.Buffer
			if err := json.Compact(&compact, ev.Detail); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) == 0 || lines[0] == "" {
				t.Fatal("got no log lines, want some")
			}
			var steps []string
			for _, line := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("got a line that is not JSON: %q", line)
				}
				steps = append(steps, fmt.Sprint(rec["msg"]))
				if rec["requestId"] != "request-1" {
					t.Errorf("got requestId %v, want request-1 in %s", rec["requestId"], line)
				}
				for key := range rec {
					if n := strings.Count(line, `"`+key+`":`); n != 1 {
						t.Errorf("got key %s %d times, want once: %s", key, n, line)
					}
					switch key {
					case "time", "level", "msg", "requestId":
					default:
						if !logKey.MatchString(key) {
							t.Errorf("got key %q, want snake_case: %s", key, line)
						}
					}
				}
				if rec["event_id"] != ev.ID {
					t.Errorf("got event_id %v, want %s: %s", rec["event_id"], ev.ID, line)
				}
				if _, ok := rec["detail"]; ok {
					t.Errorf("got the event detail at INFO: %s", line)
				}
				if strings.Contains(line, compact.String()) || strings.Contains(line, `\"detail\"`) {
					t.Errorf("got the event at INFO: %s", line)
				}
				if len(line) > 1024 {
					t.Errorf("got a line of %d bytes, want a short one: %s", len(line), line)
				}
				if ev.DetailType != "ECR Scan Resource Change" {
					if rec["repository"] != "example-team/example-app" || rec["digest"] == nil {
						t.Errorf("got repository %v, digest %v, want both: %s",
							rec["repository"], rec["digest"], line)
					}
				} else if rec["detail_type"] != ev.DetailType || rec["source"] != ev.Source {
					t.Errorf("got detail_type %v, source %v, want %q, %q: %s",
						rec["detail_type"], rec["source"], ev.DetailType, ev.Source, line)
				}
			}
			if !slices.Equal(steps, want) {
				t.Errorf("got log steps %q, want %q", steps, want)
			}
		})
	}
}

// TestLogUnreadable checks the line an event that can never be read leaves at
// ERROR: it says the event is unreadable and its error names the field, so an
// operator who finds the event in the dead-letter queue knows why.
func TestLogUnreadable(t *testing.T) {
	complete := loadEvent(t, "scan-notifier-ecr-scan-complete.json")
	tests := []struct {
		name  string
		edit  func(d map[string]any)
		field string
	}{
		{"no digest", func(d map[string]any) { delete(d, "image-digest") },
			"detail.image-digest"},
		{"no repository", func(d map[string]any) { d["repository-name"] = "" },
			"detail.repository-name"},
		{"counts not numbers", func(d map[string]any) {
			d["finding-severity-counts"] = map[string]any{"HIGH": "many"}
		}, "detail.finding-severity-counts.HIGH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, nil))
			h := newTestHandler(t, map[string]string{}, &fakeECR{}, &fakeSNS{}, log)
			err := h.Handle(context.Background(), testsupport.WithDetail(t, complete, tt.edit))
			if err == nil {
				t.Fatal("got no error, want one")
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1:\n%s", len(lines), buf.String())
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatalf("got a line that is not JSON: %q", lines[0])
			}
			msg, _ := rec["error"].(string)
			if rec["level"] != "ERROR" || rec["msg"] != "unreadable event" ||
				!strings.Contains(msg, tt.field) {
				t.Errorf("got %s, want an ERROR line \"unreadable event\" naming %s",
					lines[0], tt.field)
			}
		})
	}
}

// TestLogsDebug shows that the event itself is logged only at DEBUG.
func TestLogsDebug(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newTestHandler(t, map[string]string{}, &fakeECR{}, &fakeSNS{}, log)
	ev := loadEvent(t, "scan-notifier-ecr-scan-resource-change.json")
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if !strings.Contains(buf.String(), `"level":"DEBUG","msg":"received event"`) {
		t.Errorf("got no event at DEBUG:\n%s", buf.String())
	}
}

// BenchmarkHandle10000 handles a scan of 10,000 findings, read in ten pages
// from a fake ECR, rendered and published to a fake SNS.
func BenchmarkHandle10000(b *testing.B) {
	ev := loadEvent(b, "scan-notifier-ecr-scan-complete.json")
	e := &fakeECR{describe: basicPages(map[string]int{"CRITICAL": 100, "HIGH": 9900})}
	h := newTestHandler(b, map[string]string{}, e, &fakeSNS{}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
