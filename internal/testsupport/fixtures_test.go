package testsupport

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func TestResponseBucket(t *testing.T) {
	cfg := AWSConfig(t, Moto(t).URL)
	presign, read := ResponseBucket(t, cfg)

	tests := []struct {
		name string
		key  string
		body string // "" means nothing is put
	}{
		{name: "put and read", key: "stack/request-1", body: `{"Status":"SUCCESS"}`},
		{name: "missing", key: "never-put"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body != "" {
				url := presign(tt.key)
				if !strings.Contains(url, "X-Amz-Signature=") {
					t.Errorf("got URL %q, want a pre-signed one", url)
				}
				// CloudFormation's ResponseURL takes a PUT without Content-Type.
				if got := statusOf(t, http.DefaultClient, http.MethodPut, url, tt.body); got != 200 {
					t.Fatalf("got status %d from the pre-signed PUT, want 200", got)
				}
			}
			got := read(tt.key)
			if tt.body == "" && got != nil {
				t.Errorf("got %q, want nil", got)
			}
			if tt.body != "" && string(got) != tt.body {
				t.Errorf("got %q, want %q", got, tt.body)
			}
		})
	}
}

func TestSubscribeQueue(t *testing.T) {
	cfg := AWSConfig(t, Moto(t).URL)
	client := sns.NewFromConfig(cfg)
	ctx := context.Background()

	tests := []struct {
		name  string
		topic string
		fifo  bool
	}{
		{name: "standard", topic: UniqueName(t, 60)},
		{name: "fifo", topic: UniqueName(t, 60) + ".fifo", fifo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &sns.CreateTopicInput{Name: aws.String(tt.topic)}
			if tt.fifo {
				in.Attributes = map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "false"}
			}
			topic, err := client.CreateTopic(ctx, in)
			if err != nil {
				t.Fatalf("CreateTopic: %v", err)
			}
			receive := SubscribeQueue(t, cfg, aws.ToString(topic.TopicArn))

			pub := &sns.PublishInput{
				TopicArn: topic.TopicArn,
				Subject:  aws.String("2 CRITICAL in team/app:1"),
				Message:  aws.String("body"),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{
					"severity": {DataType: aws.String("String"), StringValue: aws.String("CRITICAL")},
					"critical": {DataType: aws.String("Number"), StringValue: aws.String("2")},
				},
			}
			if tt.fifo {
				pub.MessageGroupId = aws.String("team/app")
				pub.MessageDeduplicationId = aws.String("event-1")
			}
			if _, err := client.Publish(ctx, pub); err != nil {
				t.Fatalf("Publish: %v", err)
			}

			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			msgs := receive(rctx, 1)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			n := DecodeNotification(t, msgs[0])
			if n.TopicARN != aws.ToString(topic.TopicArn) {
				t.Errorf("got topic %q, want %q", n.TopicARN, aws.ToString(topic.TopicArn))
			}
			if n.Subject != "2 CRITICAL in team/app:1" || n.Message != "body" {
				t.Errorf("got subject %q and message %q, want the published ones", n.Subject, n.Message)
			}
			want := map[string]NotificationAttribute{
				"severity": {Type: "String", Value: "CRITICAL"},
				"critical": {Type: "Number", Value: "2"},
			}
			for k, w := range want {
				if got := n.MessageAttributes[k]; got != w {
					t.Errorf("got attribute %s %+v, want %+v", k, got, w)
				}
			}

			// Received messages are deleted: nothing more arrives.
			short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
			defer cancel()
			if more := receive(short, 1); len(more) != 0 {
				t.Errorf("got %d more messages, want none", len(more))
			}
		})
	}
}

func TestPushImage(t *testing.T) {
	cfg := AWSConfig(t, Moto(t).URL)
	client := ecr.NewFromConfig(cfg)
	ctx := context.Background()

	tests := []struct {
		name string
		tags []string
		scan bool
	}{
		{name: "untagged"},
		{name: "one tag", tags: []string{"1.0"}},
		{name: "several tags and a scan", tags: []string{"1.0", "latest"}, scan: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := "team/" + UniqueName(t, 40)
			var digest string
			if tt.scan {
				digest = PushScannedImage(t, cfg, repo, tt.tags...)
			} else {
				digest = PushImage(t, cfg, repo, tt.tags...)
			}
			if !strings.HasPrefix(digest, "sha256:") {
				t.Fatalf("got digest %q, want sha256:...", digest)
			}
			if again := PushImage(t, cfg, repo); again == digest {
				t.Errorf("got digest %q twice, want every push to be a new image", digest)
			}

			out, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{
				RepositoryName: aws.String(repo),
				ImageIds:       []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(digest)}},
			})
			if err != nil {
				t.Fatalf("DescribeImages: %v", err)
			}
			if len(out.ImageDetails) != 1 {
				t.Fatalf("got %d images, want 1", len(out.ImageDetails))
			}
			if got := out.ImageDetails[0].ImageTags; !sameSet(got, tt.tags) {
				t.Errorf("got tags %q, want %q", got, tt.tags)
			}

			if !tt.scan {
				return
			}
			findings, err := client.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{
				RepositoryName: aws.String(repo),
				ImageId:        &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
			})
			if err != nil {
				t.Fatalf("DescribeImageScanFindings: %v", err)
			}
			if got := findings.ImageScanStatus.Status; got != ecrtypes.ScanStatusComplete {
				t.Errorf("got scan status %q, want COMPLETE", got)
			}
		})
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
