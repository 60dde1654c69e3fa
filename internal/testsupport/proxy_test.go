package testsupport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// clients holds one client per service, all pointed at the same endpoint.
type clients struct {
	ecr *ecr.Client
	ssm *ssm.Client
	sns *sns.Client
	sqs *sqs.Client
	s3  *s3.Client
	eb  *eventbridge.Client
}

// newClients returns clients of every service for cfg.
func newClients(cfg aws.Config) clients {
	return clients{
		ecr: ecr.NewFromConfig(cfg),
		ssm: ssm.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg),
		sqs: sqs.NewFromConfig(cfg),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		eb:  eventbridge.NewFromConfig(cfg),
	}
}

func TestProxyRecords(t *testing.T) {
	p := NewProxy(t, Moto(t).URL)
	c := newClients(AWSConfig(t, p.URL))
	name := UniqueName(t, 40)

	tests := []struct {
		want string
		call func(ctx context.Context) error
	}{
		{"ECR.DescribeRepositories", func(ctx context.Context) error {
			_, err := c.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
			return err
		}},
		{"SSM.PutParameter", func(ctx context.Context) error {
			_, err := c.ssm.PutParameter(ctx, &ssm.PutParameterInput{
				Name: aws.String("/" + name), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString,
			})
			return err
		}},
		{"SSM.GetParameter", func(ctx context.Context) error {
			_, err := c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/" + name)})
			return err
		}},
		{"SNS.CreateTopic", func(ctx context.Context) error {
			_, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
			return err
		}},
		{"SQS.CreateQueue", func(ctx context.Context) error {
			_, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
			return err
		}},
		{"S3.CreateBucket", func(ctx context.Context) error {
			_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
			return err
		}},
		{"S3.PutObject", func(ctx context.Context) error {
			_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(name), Key: aws.String("a/b"), Body: strings.NewReader("x"),
			})
			return err
		}},
		{"EventBridge.PutEvents", func(ctx context.Context) error {
			entry := ebtypes.PutEventsRequestEntry{
				Source: aws.String("test"), DetailType: aws.String("t"), Detail: aws.String("{}"),
			}
			_, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{
				Entries: []ebtypes.PutEventsRequestEntry{entry},
			})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p.Reset()
			if err := tt.call(context.Background()); err != nil {
				t.Fatalf("call: %v", err)
			}
			if got := p.Calls(); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("got calls %q, want [%q]", got, tt.want)
			}
			if got := p.Count(tt.want); got != 1 {
				t.Errorf("got count %d, want 1", got)
			}
			if got := p.Counts(); len(got) != 1 || got[tt.want] != 1 {
				t.Errorf("got counts %v, want %s: 1", got, tt.want)
			}
		})
	}
}

func TestProxyFaults(t *testing.T) {
	p := NewProxy(t, Moto(t).URL)
	c := newClients(AWSConfig(t, p.URL))
	name := UniqueName(t, 40)
	ctx := context.Background()

	param := "/" + name
	_, err := c.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(param), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString,
	})
	if err != nil {
		t.Fatalf("PutParameter: %v", err)
	}
	topic, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}

	describe := func(ctx context.Context) error {
		_, err := c.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		return err
	}
	getParameter := func(ctx context.Context) error {
		_, err := c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
		return err
	}
	putParameter := func(ctx context.Context) error {
		_, err := c.ssm.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(param), Value: aws.String("w"), Type: ssmtypes.ParameterTypeString,
			Overwrite: aws.Bool(true),
		})
		return err
	}
	publish := func(ctx context.Context) error {
		_, err := c.sns.Publish(ctx, &sns.PublishInput{
			TopicArn: topic.TopicArn,
			Message:  aws.String("m"),
		})
		return err
	}

	tests := []struct {
		name      string
		op        string
		n         int
		fault     Fault
		call      func(context.Context) error
		timeout   time.Duration
		wantCalls int
		check     func(t *testing.T, err error) // nil: want no error
	}{
		{
			name: "throttle then success", op: "ECR.DescribeRepositories", n: 2,
			fault: Throttle(""), call: describe, wantCalls: 3,
		},
		{
			name: "throttle past retries", op: "ECR.DescribeRepositories", n: MaxAttempts,
			fault: Throttle(""), call: describe, wantCalls: MaxAttempts,
			check: wantCode("ThrottlingException"),
		},
		{
			name: "modelled SSM throttle", op: "SSM.GetParameter", n: Always,
			fault: Throttle(""), call: getParameter, wantCalls: MaxAttempts,
			check: func(t *testing.T, err error) {
				var te *ssmtypes.ThrottlingException
				if !errors.As(err, &te) {
					t.Errorf("got %v, want *types.ThrottlingException", err)
				}
			},
		},
		{
			name: "too many updates", op: "SSM.PutParameter", n: 1,
			fault: APIError(400, "TooManyUpdates", "too many updates"), call: putParameter,
			wantCalls: 1,
			check: func(t *testing.T, err error) {
				var tmu *ssmtypes.TooManyUpdates
				if !errors.As(err, &tmu) {
					t.Errorf("got %v, want *types.TooManyUpdates", err)
				}
			},
		},
		{
			name: "query throttle then success", op: "SNS.Publish", n: 1,
			fault: Throttle(""), call: publish, wantCalls: 2,
		},
		{
			name: "query throttle past retries", op: "SNS.Publish", n: Always,
			fault: Throttle(""), call: publish, wantCalls: MaxAttempts,
			check: wantCode("Throttling"),
		},
		{
			name: "modelled SNS throttle is not retried", op: "SNS.Publish", n: 1,
			fault: Throttle("Throttled"), call: publish, wantCalls: 1,
			check: func(t *testing.T, err error) {
				var te *snstypes.ThrottledException
				if !errors.As(err, &te) {
					t.Errorf("got %v, want *types.ThrottledException", err)
				}
			},
		},
		{
			name: "status 500 then success", op: "SSM.GetParameter", n: 2,
			fault: Status(500), call: getParameter, wantCalls: 3,
		},
		{
			name: "status 500 past retries", op: "SSM.GetParameter", n: MaxAttempts,
			fault: Status(500), call: getParameter, wantCalls: MaxAttempts,
			check: func(t *testing.T, err error) {
				var re interface{ HTTPStatusCode() int }
				if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
					t.Errorf("got %v, want an error with status 500", err)
				}
			},
		},
		{
			name: "reset then success", op: "ECR.DescribeRepositories", n: 1,
			fault: Reset, call: describe, wantCalls: 2,
		},
		{
			name: "reset past retries", op: "SNS.Publish", n: Always,
			fault: Reset, call: publish, wantCalls: MaxAttempts,
			check: func(t *testing.T, err error) {
				msg := fmt.Sprint(err)
				if !strings.Contains(msg, "connection reset") && !strings.Contains(msg, "EOF") {
					t.Errorf("got %v, want a connection reset", err)
				}
			},
		},
		{
			name: "delay", op: "SSM.GetParameter", n: 1,
			fault: Delay(30 * time.Millisecond), call: getParameter, wantCalls: 1,
		},
		{
			name: "hang until the client gives up", op: "ECR.DescribeRepositories", n: Always,
			fault: Hang, call: describe, timeout: 300 * time.Millisecond, wantCalls: 1,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("got %v, want context.DeadlineExceeded", err)
				}
			},
		},
		{
			name: "other operations pass", op: "SSM.DeleteParameter", n: Always,
			fault: Status(500), call: getParameter, wantCalls: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Reset()
			p.Fail(tt.op, tt.n, tt.fault)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}

			err := tt.call(ctx)
			if tt.check == nil && err != nil {
				t.Errorf("got error %v, want none", err)
			}
			if tt.check != nil {
				if err == nil {
					t.Fatalf("got no error, want one")
				}
				tt.check(t, err)
			}
			if got := p.Count(tt.op); got != tt.wantCalls {
				t.Errorf("got %d calls of %s, want %d (calls %q)", got, tt.op, tt.wantCalls, p.Calls())
			}
		})
	}
}

// wantCode returns a check that err is an API error with code.
func wantCode(code string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("got %v, want an API error with code %q", err, code)
		}
	}
}

func TestProxyFaultQueue(t *testing.T) {
	p := NewProxy(t, Moto(t).URL)
	client := ecr.NewFromConfig(AWSConfig(t, p.URL), func(o *ecr.Options) {
		o.RetryMaxAttempts = 1
	})
	const op = "ECR.DescribeRepositories"
	p.Fail(op, 1, Status(503))
	p.Fail(op, 1, Throttle("ThrottlingException"))
	p.Fail(op, 0, Status(500)) // no calls: ignored

	var got []string
	for range 3 {
		_, err := client.DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{})
		var ae smithy.APIError
		var re interface{ HTTPStatusCode() int }
		switch {
		case err == nil:
			got = append(got, "ok")
		case errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException":
			got = append(got, "throttled")
		case errors.As(err, &re):
			got = append(got, fmt.Sprint(re.HTTPStatusCode()))
		default:
			got = append(got, err.Error())
		}
	}
	if want := []string{"503", "throttled", "ok"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	p.Fail(op, Always, Status(500))
	p.Reset()
	_, err := client.DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Errorf("got %v after Reset, want no fault", err)
	}
	if got := p.Calls(); !slices.Equal(got, []string{op}) {
		t.Errorf("got calls %q after Reset, want [%q]", got, op)
	}
}

func TestProxyConcurrent(t *testing.T) {
	p := NewProxy(t, Moto(t).URL)
	client := ecr.NewFromConfig(AWSConfig(t, p.URL))
	const op = "ECR.DescribeRepositories"
	const n = 20
	p.Fail(op, n/2, Throttle(""))

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := client.DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{})
			errs <- err
			_ = p.Counts()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("DescribeRepositories: %v", err)
		}
	}
	if got, want := p.Count(op), n+n/2; got != want {
		t.Errorf("got %d calls, want %d", got, want)
	}
}

func TestUniqueName(t *testing.T) {
	tests := []struct {
		maxLen int
	}{{63}, {20}, {9}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.maxLen), func(t *testing.T) {
			a, b := UniqueName(t, tt.maxLen), UniqueName(t, tt.maxLen)
			if a == b {
				t.Errorf("got %q twice, want distinct names", a)
			}
			if len(a) > tt.maxLen {
				t.Errorf("got %q of %d characters, want at most %d", a, len(a), tt.maxLen)
			}
			for _, r := range a {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
					t.Errorf("got %q, want only lower-case letters, digits and hyphens", a)
					break
				}
			}
		})
	}
}
