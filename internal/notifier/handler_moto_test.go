package notifier

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ecr-stack/ecr-stack/internal/policy"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// forImage returns the sample event file, changed to report a scan of
// digest in repository with tags.
func forImage(t *testing.T, file, repository, digest string,
	tags ...string) events.EventBridgeEvent {
	t.Helper()
	return testsupport.WithDetail(t, loadEvent(t, file), func(d map[string]any) {
		d["repository-name"] = repository
		d["image-digest"] = digest
		d["image-tags"] = tags
	})
}

// TestHandleMoto runs the handler with real clients against moto, through a
// proxy that counts and fails calls.
func TestHandleMoto(t *testing.T) {
	m := testsupport.Moto(t)
	proxy := testsupport.NewProxy(t, m.URL)
	direct := testsupport.AWSConfig(t, m.URL)
	cfg := testsupport.AWSConfig(t, proxy.URL)

	repo := testsupport.UniqueName(t, 60)
	digest := testsupport.PushScannedImage(t, direct, repo, "2.0.0")
	topic := testsupport.Topic(t, direct, false)
	receive := testsupport.SubscribeQueue(t, direct, topic)

	// moto reports one HIGH finding for every basic scan.
	complete := forImage(t, "scan-notifier-ecr-scan-complete.json", repo, digest, "2.0.0")
	highEvent := withCounts(t, complete, map[string]int{"HIGH": 1})
	lowEvent := withCounts(t, complete, map[string]int{"LOW": 3})

	tests := []struct {
		name      string
		event     events.EventBridgeEvent
		faults    int // throttling answers to DescribeImageScanFindings
		wantCalls map[string]int
		wantErr   bool
		wantAlert bool
	}{
		{
			name:      "below the threshold: no AWS call",
			event:     lowEvent,
			wantCalls: map[string]int{},
		},
		{
			name:      "above the threshold: one page and one publish",
			event:     highEvent,
			wantCalls: map[string]int{"ECR.DescribeImageScanFindings": 1, "SNS.Publish": 1},
			wantAlert: true,
		},
		{
			name:   "throttled, then through within the retries",
			event:  highEvent,
			faults: testsupport.MaxAttempts - 1,
			wantCalls: map[string]int{
				"ECR.DescribeImageScanFindings": testsupport.MaxAttempts, "SNS.Publish": 1,
			},
			wantAlert: true,
		},
		{
			name:      "throttled beyond the retries",
			event:     highEvent,
			faults:    testsupport.MaxAttempts,
			wantCalls: map[string]int{"ECR.DescribeImageScanFindings": testsupport.MaxAttempts},
			wantErr:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.Reset()
			if tt.faults > 0 {
				proxy.Fail("ECR.DescribeImageScanFindings", tt.faults,
					testsupport.Throttle("ThrottlingException"))
			}
			h := New(Config{TopicARN: topic, Policy: mustPolicy(t)},
				ecr.NewFromConfig(cfg), sns.NewFromConfig(cfg), slog.New(slog.DiscardHandler))

			err := h.Handle(context.Background(), tt.event)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			got := proxy.Counts()
			if len(got) != len(tt.wantCalls) {
				t.Errorf("got calls %v, want %v", got, tt.wantCalls)
			}
			for op, n := range tt.wantCalls {
				if got[op] != n {
					t.Errorf("got %d calls of %s, want %d (all calls %v)", got[op], op, n, got)
				}
			}
			if !tt.wantAlert {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			msgs := receive(ctx, 1)
			if len(msgs) != 1 {
				t.Fatalf("got %d alerts, want 1", len(msgs))
			}
			n := testsupport.DecodeNotification(t, msgs[0])
			if want := "1 HIGH in " + repo + ":2.0.0"; n.Subject != want {
				t.Errorf("got subject %q, want %q", n.Subject, want)
			}
			if !strings.Contains(n.Message, "CVE-9999-9999") {
				t.Errorf("got body without CVE-9999-9999:\n%s", n.Message)
			}
		})
	}
}

// mustPolicy returns the default policy.
func mustPolicy(t *testing.T) policy.Config {
	t.Helper()
	cfg, err := ConfigFromEnv(func(k string) string {
		if k == EnvTopicARN {
			return testTopic
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Policy
}
