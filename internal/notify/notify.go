// Package notify publishes alerts to an SNS topic, standard or FIFO.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/ecr-stack/ecr-stack/internal/alert"
)

// API is the part of the SNS client that a Publisher calls.
type API interface {
	Publish(ctx context.Context, params *sns.PublishInput,
		optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// ErrNoGroupID reports a message for a FIFO topic that has no group id.
var ErrNoGroupID = errors.New("fifo topic needs a message group id")

// Publisher sends messages to one topic. A topic whose ARN ends in ".fifo" is
// a FIFO topic: its messages carry MessageGroupId and, when known,
// MessageDeduplicationId, so that a redelivered event is not sent twice.
type Publisher struct {
	api   API
	topic string
	fifo  bool
}

// New returns a Publisher for the topic topicARN.
func New(api API, topicARN string) *Publisher {
	return &Publisher{api: api, topic: topicARN, fifo: IsFIFO(topicARN)}
}

// IsFIFO reports whether topicARN names a FIFO topic.
func IsFIFO(topicARN string) bool {
	return strings.HasSuffix(topicARN, ".fifo")
}

// Topic returns the ARN of the topic the Publisher sends to.
func (p *Publisher) Topic() string { return p.topic }

// Publish sends the rendered alert m and returns the message id SNS assigned. The SDK's retryer
// handles throttling and transient faults; an error returned here has
// outlasted it.
func (p *Publisher) Publish(ctx context.Context, m alert.Message) (string, error) {
	in := &sns.PublishInput{
		TopicArn:          aws.String(p.topic),
		Message:           aws.String(m.Body),
		MessageAttributes: expandAttributes(m.Attributes),
	}
	if m.Subject != "" {
		in.Subject = aws.String(m.Subject)
	}
	if p.fifo {
		if m.GroupID == "" {
			return "", fmt.Errorf("publishing to topic %q: %w", p.topic, ErrNoGroupID)
		}
		in.MessageGroupId = aws.String(m.GroupID)
		if m.DeduplicationID != "" {
			in.MessageDeduplicationId = aws.String(m.DeduplicationID)
		}
	}

	out, err := p.api.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publishing to topic %q: %w", p.topic, err)
	}
	return aws.ToString(out.MessageId), nil
}

// expandAttributes maps attrs to SNS message attribute values. SNS rejects an
// attribute with an empty value, so those are left out; nothing left gives nil.
func expandAttributes(attrs map[string]alert.Attribute) map[string]types.MessageAttributeValue {
	var out map[string]types.MessageAttributeValue
	for name, a := range attrs {
		if a.StringValue == "" {
			continue
		}
		if out == nil {
			out = make(map[string]types.MessageAttributeValue, len(attrs))
		}
		dataType := a.DataType
		if dataType == "" {
			dataType = "String"
		}
		out[name] = types.MessageAttributeValue{
			DataType:    aws.String(dataType),
			StringValue: aws.String(a.StringValue),
		}
	}
	return out
}
