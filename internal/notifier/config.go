// Package notifier is the scan notifier's Lambda handler: it reads a scan
// event, decides by policy whether it is worth a message, lists the image's
// findings only when the message needs them, renders the alert and publishes
// it to SNS.
package notifier

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/ecr-stack/ecr-stack/internal/findings"
	"github.com/ecr-stack/ecr-stack/internal/policy"
)

// EnvTopicARN names the environment variable that holds the topic alerts go
// to.
const EnvTopicARN = "TOPIC_ARN"

// Config is the scan notifier's configuration.
type Config struct {
	// TopicARN is the SNS topic alerts are published to; one whose name ends
	// in ".fifo" is a FIFO topic.
	TopicARN string
	// Policy decides which scans are worth a message and how many findings
	// it lists.
	Policy policy.Config
	// MaxPages bounds the pages of findings read per scan, each of
	// findings.PageSize findings; findings.DefaultMaxPages when zero.
	MaxPages int
}

// ConfigFromEnv reads the configuration through getenv, such as os.Getenv:
// TOPIC_ARN, which is required and must be an SNS topic ARN, and the policy
// variables policy.FromEnv reads. The error names the variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	topic := strings.TrimSpace(getenv(EnvTopicARN))
	if topic == "" {
		return Config{}, fmt.Errorf("reading %s: required, the ARN of the SNS topic alerts go to",
			EnvTopicARN)
	}
	if err := validateTopicARN(topic); err != nil {
		return Config{}, fmt.Errorf("reading %s %q: %w", EnvTopicARN, topic, err)
	}
	p, err := policy.FromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	return Config{TopicARN: topic, Policy: p, MaxPages: findings.DefaultMaxPages}, nil
}

// topicName matches an SNS topic name: letters, digits, hyphens and
// underscores, and ".fifo" for a FIFO topic. The length is checked apart: a
// bounded repetition would compile into a large program at every cold start.
var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.fifo)?$`)

// maxTopicName is the longest topic name SNS accepts, ".fifo" included.
const maxTopicName = 256

// accountID matches an AWS account id.
var accountID = regexp.MustCompile(`^\d{12}$`)

// validateTopicARN reports why s is not the ARN of an SNS topic.
func validateTopicARN(s string) error {
	const want = "want an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:scan-alerts"
	a, err := arn.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("not an ARN; %s", want)
	case a.Service != "sns":
		return fmt.Errorf("service %q is not sns; %s", a.Service, want)
	case a.Region == "":
		return fmt.Errorf("no region; %s", want)
	case !accountID.MatchString(a.AccountID):
		return fmt.Errorf("account %q is not 12 digits; %s", a.AccountID, want)
	case len(a.Resource) > maxTopicName || !topicName.MatchString(a.Resource):
		return fmt.Errorf("topic name %q is not valid; %s", a.Resource, want)
	}
	return nil
}
