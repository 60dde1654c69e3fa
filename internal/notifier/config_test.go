package notifier

import (
	"strings"
	"testing"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

func TestConfigFromEnv(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:scan-alerts"
	tests := []struct {
		name      string
		env       map[string]string
		wantErr   string // a substring; "" wants no error
		wantTopic string
	}{
		{name: "topic only", env: map[string]string{"TOPIC_ARN": topic}, wantTopic: topic},
		{
			name:      "fifo topic, spaces trimmed",
			env:       map[string]string{"TOPIC_ARN": " " + topic + ".fifo "},
			wantTopic: topic + ".fifo",
		},
		{name: "missing topic", env: map[string]string{}, wantErr: "reading TOPIC_ARN: required"},
		{
			name:    "not an arn",
			env:     map[string]string{"TOPIC_ARN": "scan-alerts"},
			wantErr: `reading TOPIC_ARN "scan-alerts": not an ARN`,
		},
		{
			name:    "queue arn",
			env:     map[string]string{"TOPIC_ARN": "arn:aws:sqs:us-east-1:123456789012:q"},
			wantErr: `reading TOPIC_ARN "arn:aws:sqs:us-east-1:123456789012:q": service "sqs" is not sns`,
		},
		{
			name:    "no region",
			env:     map[string]string{"TOPIC_ARN": "arn:aws:sns::123456789012:t"},
			wantErr: "no region",
		},
		{
			name:    "bad account",
			env:     map[string]string{"TOPIC_ARN": "arn:aws:sns:us-east-1:12345:t"},
			wantErr: `account "12345" is not 12 digits`,
		},
		{
			name:    "subscription arn",
			env:     map[string]string{"TOPIC_ARN": topic + ":0b5e6ba4-7c77-4c0b-9f5e-3c3f2d6c1a00"},
			wantErr: "topic name",
		},
		{
			name:    "topic name too long",
			env:     map[string]string{"TOPIC_ARN": topic + strings.Repeat("x", 250)},
			wantErr: "topic name",
		},
		{
			name:    "bad threshold",
			env:     map[string]string{"TOPIC_ARN": topic, "SEVERITY_THRESHOLD": "SEVERE"},
			wantErr: "SEVERITY_THRESHOLD",
		},
		{
			name:    "bad max findings",
			env:     map[string]string{"TOPIC_ARN": topic, "MAX_FINDINGS": "0"},
			wantErr: "MAX_FINDINGS",
		},
		{
			name:    "bad notify on clean",
			env:     map[string]string{"TOPIC_ARN": topic, "NOTIFY_ON_CLEAN": "sometimes"},
			wantErr: "NOTIFY_ON_CLEAN",
		},
		{
			name:    "bad suppression",
			env:     map[string]string{"TOPIC_ARN": topic, "SUPPRESSED_FINDINGS": "CVE-1:2024-13-40"},
			wantErr: "SUPPRESSED_FINDINGS",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if cfg.TopicARN != tt.wantTopic {
				t.Errorf("got topic %q, want %q", cfg.TopicARN, tt.wantTopic)
			}
			if cfg.Policy.Threshold != scan.High || cfg.Policy.MaxFindings != 20 {
				t.Errorf("got policy %+v, want the defaults", cfg.Policy)
			}
		})
	}
}
