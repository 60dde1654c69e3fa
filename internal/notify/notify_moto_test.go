package notify

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ecr-stack/ecr-stack/internal/alert"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

func TestPublishMoto(t *testing.T) {
	cfg := testsupport.AWSConfig(t, testsupport.Moto(t).URL)
	client := sns.NewFromConfig(cfg)
	msg := alert.Message{
		Subject: "1 HIGH in team/app:1.0.0",
		Body:    "CVE-9999-9999 HIGH\n",
		Attributes: map[string]alert.Attribute{
			"severity": {DataType: "String", StringValue: "HIGH"},
			"high":     {DataType: "Number", StringValue: "1"},
		},
		GroupID:         "team/app",
		DeduplicationID: "01234567-89ab-cdef-0123-456789abcdef",
	}

	tests := []struct {
		name string
		fifo bool
		// sends is how often the same message is published; a FIFO topic
		// delivers it once.
		sends, want int
		// distinct gives each send its own deduplication id, as distinct
		// events have.
		distinct bool
	}{
		{name: "standard", sends: 1, want: 1},
		{name: "fifo redelivered", fifo: true, sends: 2, want: 1},
		{name: "fifo distinct events", fifo: true, sends: 2, want: 2, distinct: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := testsupport.Topic(t, cfg, tt.fifo)
			receive := testsupport.SubscribeQueue(t, cfg, topic)
			p := New(client, topic)
			for i := range tt.sends {
				msg := msg
				if tt.distinct {
					msg.DeduplicationID += strconv.Itoa(i)
				}
				if _, err := p.Publish(context.Background(), msg); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := receive(ctx, tt.want)
			if tt.sends > tt.want {
				// A duplicate would arrive within this wait.
				wait, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				got = append(got, receive(wait, 1)...)
			}
			if len(got) != tt.want {
				t.Fatalf("got %d messages, want %d", len(got), tt.want)
			}
			n := testsupport.DecodeNotification(t, got[0])
			if n.Subject != msg.Subject || n.Message != msg.Body || n.TopicARN != topic {
				t.Errorf("got subject %q body %q topic %q, want %q %q %q",
					n.Subject, n.Message, n.TopicARN, msg.Subject, msg.Body, topic)
			}
			for name, a := range msg.Attributes {
				got := n.MessageAttributes[name]
				if got.Type != a.DataType || got.Value != a.StringValue {
					t.Errorf("got attribute %s = %+v, want %+v", name, got, a)
				}
			}
		})
	}
}
