package notify

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/ecr-stack/ecr-stack/internal/alert"
)

var _ API = (*sns.Client)(nil)

// fakeSNS records the inputs of Publish and answers with publish.
type fakeSNS struct {
	inputs  []*sns.PublishInput
	publish func(*sns.PublishInput) (*sns.PublishOutput, error)
}

// Publish implements API.
func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput,
	_ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.inputs = append(f.inputs, in)
	if f.publish != nil {
		return f.publish(in)
	}
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

const (
	standardTopic = "arn:aws:sns:us-east-1:123456789012:scan-alerts"
	fifoTopic     = "arn:aws:sns:us-east-1:123456789012:scan-alerts.fifo"
)

func TestPublish(t *testing.T) {
	msg := alert.Message{
		Subject: "2 CRITICAL in team/app:1.0",
		Body:    "body",
		Attributes: map[string]alert.Attribute{
			"severity": {StringValue: "CRITICAL"},
			"critical": {DataType: "Number", StringValue: "2"},
			"empty":    {StringValue: ""},
		},
		GroupID:         "team/app",
		DeduplicationID: "event-1",
	}
	wantAttrs := map[string]string{"severity": "String:CRITICAL", "critical": "Number:2"}

	tests := []struct {
		name      string
		topic     string
		wantGroup string
		wantDedup string
	}{
		{name: "standard", topic: standardTopic},
		{name: "fifo", topic: fifoTopic, wantGroup: "team/app", wantDedup: "event-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeSNS{}
			id, err := New(api, tt.topic).Publish(context.Background(), msg)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if id != "m-1" {
				t.Errorf("got message id %q, want %q", id, "m-1")
			}
			if len(api.inputs) != 1 {
				t.Fatalf("got %d calls, want 1", len(api.inputs))
			}
			in := api.inputs[0]
			if got := aws.ToString(in.TopicArn); got != tt.topic {
				t.Errorf("got topic %q, want %q", got, tt.topic)
			}
			if got := aws.ToString(in.Subject); got != msg.Subject {
				t.Errorf("got subject %q, want %q", got, msg.Subject)
			}
			if got := aws.ToString(in.Message); got != msg.Body {
				t.Errorf("got body %q, want %q", got, msg.Body)
			}
			if got := aws.ToString(in.MessageGroupId); got != tt.wantGroup {
				t.Errorf("got group id %q, want %q", got, tt.wantGroup)
			}
			if got := aws.ToString(in.MessageDeduplicationId); got != tt.wantDedup {
				t.Errorf("got deduplication id %q, want %q", got, tt.wantDedup)
			}
			if got := flatten(in.MessageAttributes); !maps.Equal(got, wantAttrs) {
				t.Errorf("got attributes %v, want %v", got, wantAttrs)
			}
		})
	}
}

// flatten writes attributes as name -> "DataType:StringValue".
func flatten(attrs map[string]types.MessageAttributeValue) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		out[k] = aws.ToString(v.DataType) + ":" + aws.ToString(v.StringValue)
	}
	return out
}

func TestPublishErrors(t *testing.T) {
	throttled := &types.ThrottledException{Message: aws.String("rate exceeded")}
	tests := []struct {
		name  string
		topic string
		msg   alert.Message
		err   error
		check func(error) bool
		calls int
	}{
		{
			name:  "fifo without group id",
			topic: fifoTopic,
			msg:   alert.Message{Body: "b"},
			check: func(err error) bool { return errors.Is(err, ErrNoGroupID) },
		},
		{
			name:  "throttled after retries",
			topic: standardTopic,
			msg:   alert.Message{Body: "b"},
			err:   throttled,
			check: func(err error) bool {
				var te *types.ThrottledException
				return errors.As(err, &te)
			},
			calls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeSNS{publish: func(*sns.PublishInput) (*sns.PublishOutput, error) {
				return nil, tt.err
			}}
			_, err := New(api, tt.topic).Publish(context.Background(), tt.msg)
			if err == nil || !tt.check(err) {
				t.Fatalf("got error %v, want one matching the case", err)
			}
			if len(api.inputs) != tt.calls {
				t.Errorf("got %d calls, want %d", len(api.inputs), tt.calls)
			}
		})
	}
}

func TestIsFIFO(t *testing.T) {
	tests := []struct {
		arn  string
		want bool
	}{
		{standardTopic, false},
		{fifoTopic, true},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			if got := IsFIFO(tt.arn); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
