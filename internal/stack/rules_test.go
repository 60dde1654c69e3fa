package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// The logical ids of the functions and of the dead-letter queue that keeps
// failed self-service requests.
const (
	ensureRepo    = "EnsureRepoFunction"
	scanNotifier  = "ScanNotifierFunction"
	ensureRepoDLQ = "EnsureRepoDeadLetterQueue"
)

// busEvent is an EventBridge event as the samples and events/ write it.
type busEvent struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// delivery is one event to put on a bus and where it must arrive.
type delivery struct {
	name  string
	bus   string
	event busEvent
	// want lists the logical ids of the functions (or, for rules with other
	// targets, the target resources) the event must reach, sorted; nil for
	// none.
	want []string
}

// sampleWant says where each copied sample event must arrive. The samples
// are the shapes AWS sends (copied from the shared samples; tests read no
// file outside the module).
var sampleWant = map[string][]string{
	"ecr-scan-complete-with-findings.json":   {scanNotifier},
	"ecr-scan-complete-zero-findings.json":   {scanNotifier},
	"ecr-scan-failed.json":                   {scanNotifier},
	"ecr-scan-resource-change.json":          nil,
	"inspector2-finding-ecr.json":            {scanNotifier},
	"inspector2-scan-ecr-zero-findings.json": {scanNotifier},
	"inspector2-scan-ecr.json":               {scanNotifier},
}

// wantFor states, independently of the template, which function an event
// from events/ must reach: scan results reach scan-notifier; a repository
// request reaches ensure-repo only from the configured source; nothing else
// reaches either.
func wantFor(ev busEvent, selfServiceSource string) []string {
	ecrResource := slices.ContainsFunc(ev.Resources, func(r string) bool {
		return strings.HasPrefix(r, "arn:aws:ecr:")
	})
	var detail struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(ev.Detail, &detail) // a detail without status has none
	switch {
	case ev.Source == "aws.ecr" && ev.DetailType == "ECR Image Scan",
		ev.Source == "aws.inspector2" && ev.DetailType == "Inspector2 Scan" && ecrResource,
		ev.Source == "aws.inspector2" && ev.DetailType == "Inspector2 Finding" && ecrResource &&
			detail.Status == "ACTIVE":
		return []string{scanNotifier}
	case ev.Source == selfServiceSource && ev.DetailType == "ECR Repository Request":
		return []string{ensureRepo}
	}
	return nil
}

// TestRulesRouteEvents installs the template's EventBridge rules, read from
// the parsed template, into moto with an SQS queue standing for each target;
// puts every sample event, every event in events/ and a set of events that
// must be left alone on the bus; and checks where each one arrives. It runs
// with the default parameters and with another source and bus.
func TestRulesRouteEvents(t *testing.T) {
	tmpl := loadTemplate(t)
	m := testsupport.Moto(t)
	cfg := testsupport.AWSConfig(t, m.URL)
	eb := eventbridge.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)

	tests := []struct {
		name   string
		params map[string]string
		source string
		bus    string
	}{
		{name: "defaults", source: "platform.self-service", bus: "default"},
		{
			name:   "custom source and bus",
			params: map[string]string{"SelfServiceEventSource": "team.platform"},
			source: "team.platform",
			bus:    "platform-requests",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			suffix := uniqueSuffix(t)
			params := map[string]string{}
			for k, v := range tt.params {
				params[k] = v
			}
			bus := tt.bus
			if bus != "default" {
				// Buses outlive a test in the shared moto; each run gets its own.
				bus += "-" + suffix
				params["SelfServiceEventBusName"] = bus
				_, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)})
				if err != nil {
					t.Fatalf("creating event bus %q: %v", bus, err)
				}
			}
			r := deployedResolver(t, tmpl, params)
			rules, err := tmpl.Rules(r)
			if err != nil {
				t.Fatal(err)
			}
			queues := installRules(ctx, t, eb, sq, rules, suffix)

			deliveries := append(fileDeliveries(t, tt.source), syntheticDeliveries(tt.source)...)
			matched := map[string]bool{}
			for _, d := range deliveries {
				if d.bus == "" {
					d.bus = "default"
				}
				if d.bus == "self-service" {
					d.bus = bus
				}
				reached := put(ctx, t, eb, sq, queues, d)
				var got []string
				for _, q := range reached {
					got = append(got, q.label)
					matched[q.rule] = true
				}
				slices.Sort(got)
				if !slices.Equal(got, d.want) {
					t.Errorf("%s on bus %q reached %v, want %v", d.name, d.bus, got, d.want)
				}
			}
			for _, q := range queues {
				if !matched[q.rule] {
					t.Errorf("no event reached %s (rule %s), want every rule exercised", q.label, q.rule)
				}
			}
		})
	}
}

// targetQueue is the SQS queue that stands for one rule's target.
type targetQueue struct {
	label string // the function or target resource it stands for
	rule  string
	url   string
}

// installRules creates each rule in moto, on its bus, with one SQS queue as
// its target, and returns the queues.
func installRules(ctx context.Context, t *testing.T, eb *eventbridge.Client, sq *sqs.Client,
	rules []Rule, suffix string) []targetQueue {
	t.Helper()
	if len(rules) == 0 {
		t.Fatal("got no EventBridge rules in the template")
	}
	var queues []targetQueue
	for _, rule := range rules {
		labels := rule.Targets
		if rule.Function != "" {
			labels = []string{rule.Function}
		}
		if len(labels) != 1 {
			t.Fatalf("rule %s has targets %v, want one", rule.Name, labels)
		}
		name := limit(rule.Name, 40) + "-" + suffix
		q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatalf("creating queue %q: %v", name, err)
		}
		attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       q.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatalf("reading the ARN of queue %q: %v", name, err)
		}
		_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{
			Name:         aws.String(name),
			EventBusName: aws.String(rule.Bus),
			EventPattern: aws.String(string(rule.Pattern)),
		})
		if err != nil {
			t.Fatalf("putting rule %s with pattern %s: %v", rule.Name, rule.Pattern, err)
		}
		_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
			Rule:         aws.String(name),
			EventBusName: aws.String(rule.Bus),
			Targets: []ebtypes.Target{{
				Id:  aws.String("target"),
				Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
			}},
		})
		if err != nil {
			t.Fatalf("putting the target of rule %s: %v", rule.Name, err)
		}
		queues = append(queues, targetQueue{label: labels[0], rule: rule.Name, url: *q.QueueUrl})
	}
	return queues
}

// put puts one event on its bus and returns the queues it reached, once per
// message. moto delivers to SQS targets before PutEvents returns.
func put(ctx context.Context, t *testing.T, eb *eventbridge.Client, sq *sqs.Client,
	queues []targetQueue, d delivery) []targetQueue {
	t.Helper()
	detail := string(d.event.Detail)
	if detail == "" {
		detail = "{}"
	}
	entry := ebtypes.PutEventsRequestEntry{
		EventBusName: aws.String(d.bus),
		Source:       aws.String(d.event.Source),
		DetailType:   aws.String(d.event.DetailType),
		Detail:       aws.String(detail),
		Resources:    d.event.Resources,
	}
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{
		Entries: []ebtypes.PutEventsRequestEntry{entry},
	})
	if err != nil {
		t.Fatalf("putting %s: %v", d.name, err)
	}
	if out.FailedEntryCount != 0 {
		t.Fatalf("putting %s: %d entries failed: %s %s", d.name, out.FailedEntryCount,
			aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	var got []targetQueue
	for _, q := range queues {
		for {
			msgs, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl:            aws.String(q.url),
				MaxNumberOfMessages: 10,
			})
			if err != nil {
				t.Fatalf("receiving from the queue of %s: %v", q.label, err)
			}
			if len(msgs.Messages) == 0 {
				break
			}
			for _, msg := range msgs.Messages {
				got = append(got, q)
				_, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{
					QueueUrl: aws.String(q.url), ReceiptHandle: msg.ReceiptHandle,
				})
				if err != nil {
					t.Fatalf("deleting a message of %s: %v", q.label, err)
				}
			}
		}
	}
	return got
}

// fileDeliveries reads the sample events in testdata/samples and every
// EventBridge event in events/. Files in events/ that are not EventBridge
// events (CloudFormation requests, env.json) do not go on a bus.
func fileDeliveries(t *testing.T, selfServiceSource string) []delivery {
	t.Helper()
	var out []delivery
	samples, err := filepath.Glob(filepath.Join("testdata", "samples", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range samples {
		want, ok := sampleWant[filepath.Base(path)]
		if !ok {
			t.Fatalf("sample %s has no entry in sampleWant", path)
		}
		ev, isEvent := readEvent(t, path)
		if !isEvent {
			t.Fatalf("sample %s is not an EventBridge event", path)
		}
		out = append(out, delivery{name: path, event: ev, want: want})
	}
	if len(samples) != len(sampleWant) {
		t.Fatalf("got %d samples in testdata/samples, want %d", len(samples), len(sampleWant))
	}

	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		ev, isEvent := readEvent(t, path)
		if !isEvent {
			continue
		}
		d := delivery{name: path, event: ev, want: wantFor(ev, selfServiceSource)}
		if ev.DetailType == "ECR Repository Request" {
			d.bus = "self-service"
		}
		out = append(out, d)
	}
	return out
}

// readEvent reads a JSON file and reports whether it is an EventBridge event.
func readEvent(t *testing.T, path string) (busEvent, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev busEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		// env.json and CloudFormation requests decode too; only broken JSON
		// fails here.
		t.Fatalf("decoding %s: %v", path, err)
	}
	return ev, ev.Source != "" && ev.DetailType != ""
}

// syntheticDeliveries returns events that must reach nothing, or only the
// failure rule: look-alikes of the events the functions take.
func syntheticDeliveries(selfServiceSource string) []delivery {
	request := json.RawMessage(`{"RepositoryName":"example-team/app"}`)
	ecrImage := "arn:aws:ecr:us-east-1:123456789012:repository/example-team/app"
	live := "arn:aws:lambda:us-east-1:123456789012:function:" + ensureRepo + ":live"
	return []delivery{
		{
			name: "self-service request",
			bus:  "self-service",
			event: busEvent{Source: selfServiceSource, DetailType: "ECR Repository Request",
				Detail: request},
			want: []string{ensureRepo},
		},
		{
			name: "self-service request from another source",
			bus:  "self-service",
			event: busEvent{Source: "team.someone-else", DetailType: "ECR Repository Request",
				Detail: request},
		},
		{
			name: "self-service request with another detail-type",
			bus:  "self-service",
			event: busEvent{Source: selfServiceSource, DetailType: "ECR Repository Deletion",
				Detail: request},
		},
		{
			name: "ECR Image Action",
			event: busEvent{Source: "aws.ecr", DetailType: "ECR Image Action", Resources: []string{ecrImage},
				Detail: json.RawMessage(`{"action-type":"PUSH","result":"SUCCESS",` +
					`"repository-name":"example-team/app","image-tag":"1.0.0"}`)},
		},
		{
			name: "ECR Image Scan from a custom source",
			event: busEvent{Source: "platform.aws.ecr", DetailType: "ECR Image Scan",
				Detail: json.RawMessage(`{"scan-status":"COMPLETE"}`)},
		},
		{
			name: "unknown aws.ecr detail-type",
			event: busEvent{Source: "aws.ecr", DetailType: "ECR Replication Action",
				Detail: json.RawMessage(`{}`)},
		},
		{
			name: "Inspector2 Finding for an EC2 instance",
			event: busEvent{Source: "aws.inspector2", DetailType: "Inspector2 Finding",
				Resources: []string{"i-0123456789abcdef0"},
				Detail:    json.RawMessage(`{"status":"ACTIVE","severity":"CRITICAL"}`)},
		},
		{
			name: "Inspector2 Finding closed",
			event: busEvent{Source: "aws.inspector2", DetailType: "Inspector2 Finding",
				Resources: []string{ecrImage + "/sha256:1111"},
				Detail:    json.RawMessage(`{"status":"CLOSED","severity":"CRITICAL"}`)},
		},
		{
			name: "Inspector2 Coverage",
			event: busEvent{Source: "aws.inspector2", DetailType: "Inspector2 Coverage",
				Resources: []string{ecrImage}, Detail: json.RawMessage(`{"scanStatus":{}}`)},
		},
		{
			name: "ensure-repo failure record",
			bus:  "self-service",
			event: busEvent{Source: "lambda", DetailType: "Lambda Function Invocation Result - Failure",
				Detail: json.RawMessage(fmt.Sprintf(`{"requestContext":{"functionArn":%q,`+
					`"condition":"RetriesExhausted"},"responsePayload":{"errorMessage":"refused"}}`, live))},
			want: []string{ensureRepoDLQ},
		},
		{
			name: "ensure-repo success record",
			bus:  "self-service",
			event: busEvent{Source: "lambda", DetailType: "Lambda Function Invocation Result - Success",
				Detail: json.RawMessage(fmt.Sprintf(`{"requestContext":{"functionArn":%q,`+
					`"condition":"Success"},"responsePayload":{}}`, live))},
		},
		{
			name: "another function's failure record",
			bus:  "self-service",
			event: busEvent{Source: "lambda", DetailType: "Lambda Function Invocation Result - Failure",
				Detail: json.RawMessage(`{"requestContext":{"functionArn":` +
					`"arn:aws:lambda:us-east-1:123456789012:function:` + ensureRepo + `Other:$LATEST"}}`)},
		},
	}
}

// uniqueSuffix returns a short random suffix for names in the shared moto.
func uniqueSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// limit cuts s to at most n bytes.
func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
