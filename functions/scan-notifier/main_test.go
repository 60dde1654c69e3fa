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

	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// scanEvent returns the sample events/name changed to report a scan of
// digest in repository with tags and, when counts is not nil, those counts.
func scanEvent(t *testing.T, name, repository, digest string, tags []string,
	counts map[string]int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	d := ev["detail"].(map[string]any)
	d["repository-name"] = repository
	d["image-digest"] = digest
	d["image-tags"] = tags
	if counts != nil {
		d["finding-severity-counts"] = counts
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEndToEnd runs the built bootstrap under the Lambda Runtime Interface
// Emulator against moto, through a proxy that counts AWS calls, and reads
// the alert from a queue subscribed to the topic.
func TestEndToEnd(t *testing.T) {
	m := testsupport.Moto(t)
	proxy := testsupport.NewProxy(t, m.URL)
	cfg := testsupport.AWSConfig(t, m.URL)
	ctx := context.Background()

	repo := testsupport.UniqueName(t, 60)
	digest := testsupport.PushScannedImage(t, cfg, repo, "1.4.2", "stable")
	topic := testsupport.Topic(t, cfg, false)
	receive := testsupport.SubscribeQueue(t, cfg, topic)

	emu := testsupport.Emulator(t, testsupport.Bootstrap(t, "scan-notifier"),
		"AWS_ENDPOINT_URL="+proxy.URL, "TOPIC_ARN="+topic)

	t.Run("below the threshold", func(t *testing.T) {
		proxy.Reset()
		ev := scanEvent(t, "scan-notifier-ecr-scan-complete.json", repo, digest,
			[]string{"1.4.2", "stable"}, map[string]int{"MEDIUM": 2, "LOW": 1})
		if _, err := emu.Invoke(ctx, ev); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if calls := proxy.Calls(); len(calls) != 0 {
			t.Errorf("got AWS calls %v, want none", calls)
		}
	})

	t.Run("ignored event", func(t *testing.T) {
		proxy.Reset()
		b, err := os.ReadFile(filepath.Join("..", "..", "events",
			"scan-notifier-ecr-scan-resource-change.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := emu.Invoke(ctx, b); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if calls := proxy.Calls(); len(calls) != 0 {
			t.Errorf("got AWS calls %v, want none", calls)
		}
	})

	t.Run("alert", func(t *testing.T) {
		proxy.Reset()
		// moto reports one HIGH finding, CVE-9999-9999, for every basic scan.
		ev := scanEvent(t, "scan-notifier-ecr-scan-complete.json", repo, digest,
			[]string{"1.4.2", "stable"}, map[string]int{"HIGH": 1})
		if _, err := emu.Invoke(ctx, ev); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		want := map[string]int{"ECR.DescribeImageScanFindings": 1, "SNS.Publish": 1}
		for op, n := range want {
			if got := proxy.Count(op); got != n {
				t.Errorf("got %d calls of %s, want %d (all %v)", got, op, n, proxy.Calls())
			}
		}

		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		msgs := receive(rctx, 1)
		if len(msgs) != 1 {
			t.Fatalf("got %d alerts, want 1", len(msgs))
		}
		n := testsupport.DecodeNotification(t, msgs[0])
		if want := "1 HIGH in " + repo + ":1.4.2 (+1 tag)"; n.Subject != want {
			t.Errorf("got subject %q, want %q", n.Subject, want)
		}
		for _, want := range []string{
			"CVE-9999-9999", "moto_fake 9.9.9", "score 7.5", digest, "1.4.2, stable",
			"https://us-east-1.console.aws.amazon.com/ecr/repositories/private/123456789012/" + repo,
		} {
			if !strings.Contains(n.Message, want) {
				t.Errorf("got body without %q:\n%s", want, n.Message)
			}
		}
		wantAttrs := map[string]testsupport.NotificationAttribute{
			"severity":    {Type: "String", Value: "HIGH"},
			"repository":  {Type: "String", Value: repo},
			"scan_status": {Type: "String", Value: "COMPLETE"},
			"critical":    {Type: "Number", Value: "0"},
			"high":        {Type: "Number", Value: "1"},
		}
		for name, want := range wantAttrs {
			if got := n.MessageAttributes[name]; got != want {
				t.Errorf("got attribute %s = %+v, want %+v", name, got, want)
			}
		}

		published := false
		for _, line := range bytes.Split(emu.Logs(), []byte("\n")) {
			var rec map[string]any
			if json.Unmarshal(line, &rec) != nil || rec["message"] != "alert published" {
				continue
			}
			if published {
				t.Errorf("got a second \"alert published\" line: %s", line)
			}
			published = true
			for _, key := range []string{"requestId", "event_id", "repository", "digest",
				"severity", "topic", "message_id"} {
				if s, _ := rec[key].(string); s == "" {
					t.Errorf("got log line without %s: %s", key, line)
				}
				if n := bytes.Count(line, []byte(`"`+key+`":`)); n > 1 {
					t.Errorf("got %s %d times, want once: %s", key, n, line)
				}
			}
		}
		if !published {
			t.Errorf("got no \"alert published\" log line in:\n%s", emu.Logs())
		}
	})
}

// fault is what a test injects: f for the first n calls of op.
type fault struct {
	op string
	n  int
	f  testsupport.Fault
}

// TestTransientFaults injects, in front of moto, faults the function's own
// retryer (5 attempts, every attempt bounded to 10 seconds) is meant to ride
// out: each alert arrives, after exactly the attempts its faults cost.
func TestTransientFaults(t *testing.T) {
	m := testsupport.Moto(t)
	proxy := testsupport.NewProxy(t, m.URL)
	cfg := testsupport.AWSConfig(t, m.URL)
	ctx := context.Background()

	repo := testsupport.UniqueName(t, 60)
	topic := testsupport.Topic(t, cfg, false)
	receive := testsupport.SubscribeQueue(t, cfg, topic)

	emu := testsupport.Emulator(t, testsupport.Bootstrap(t, "scan-notifier"),
		"AWS_ENDPOINT_URL="+proxy.URL, "TOPIC_ARN="+topic)

	tests := []struct {
		name   string
		faults []fault
		want   map[string]int // attempts per operation
	}{
		{
			// Four failed attempts of Publish are more than testsupport's
			// retryer makes (3 attempts) and fewer than the function's 5, so
			// the alert arrives only through the function's own settings.
			name: "throttling and a reset",
			faults: []fault{
				{"ECR.DescribeImageScanFindings", 3, testsupport.Throttle("")},
				{"SNS.Publish", 3, testsupport.Throttle("")},
				{"SNS.Publish", 1, testsupport.Reset},
			},
			want: map[string]int{"ECR.DescribeImageScanFindings": 4, "SNS.Publish": 5},
		},
		{
			// The suite's one hung attempt: it costs the whole 10-second
			// attempt timeout, which main.go fixes, to show the attempt is
			// cut off and retried rather than left to the function timeout.
			name:   "hung attempt",
			faults: []fault{{"ECR.DescribeImageScanFindings", 1, testsupport.Hang}},
			want:   map[string]int{"ECR.DescribeImageScanFindings": 2, "SNS.Publish": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy.Reset()
			tag := testsupport.UniqueName(t, 128)
			digest := testsupport.PushScannedImage(t, cfg, repo, tag)
			for _, f := range tt.faults {
				proxy.Fail(f.op, f.n, f.f)
			}
			ev := scanEvent(t, "scan-notifier-ecr-scan-complete.json", repo, digest,
				[]string{tag}, map[string]int{"HIGH": 1})
			if out, err := emu.Invoke(ctx, ev); err != nil {
				t.Fatalf("Invoke: %v: %s", err, out)
			}
			if got := proxy.Counts(); !maps.Equal(got, tt.want) {
				t.Errorf("got calls %v, want %v", got, tt.want)
			}

			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			msgs := receive(rctx, 1)
			if len(msgs) != 1 {
				t.Fatalf("got %d alerts, want 1", len(msgs))
			}
			n := testsupport.DecodeNotification(t, msgs[0])
			if !strings.Contains(n.Message, digest) {
				t.Errorf("got an alert without digest %s:\n%s", digest, n.Message)
			}
		})
	}
}

// TestColdStartConfig runs the built bootstrap with a bad setting: it exits
// non-zero before it asks the runtime for work, naming the variable.
func TestColdStartConfig(t *testing.T) {
	bootstrap := testsupport.Bootstrap(t, "scan-notifier")
	tests := []struct {
		name, env, want string
	}{
		{name: "no topic", env: "TOPIC_ARN=", want: "TOPIC_ARN"},
		{name: "bad topic", env: "TOPIC_ARN=arn:aws:sqs:us-east-1:123456789012:q", want: "TOPIC_ARN"},
		{
			name: "bad threshold",
			env:  "SEVERITY_THRESHOLD=SEVERE",
			want: "SEVERITY_THRESHOLD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bootstrap)
			cmd.Env = []string{
				"TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:scan-alerts",
				"AWS_REGION=us-east-1", "AWS_LAMBDA_LOG_FORMAT=JSON", tt.env,
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("got %v, want a non-zero exit; output:\n%s", err, out)
			}
			var rec map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(out), &rec); err != nil {
				t.Fatalf("got output that is not one JSON line: %q", out)
			}
			if msg, _ := rec["error"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("got error %q, want it to name %s", msg, tt.want)
			}
		})
	}
}
