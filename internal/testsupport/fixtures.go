package testsupport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fixtureTimeout bounds the AWS calls a fixture makes.
const fixtureTimeout = 30 * time.Second

// UniqueName returns a name for something a test creates in the shared moto:
// t's name in lower case with every run of characters other than letters and
// digits turned into one hyphen, cut to leave room for a random suffix,
// within maxLen characters.
func UniqueName(t testing.TB, maxLen int) string {
	t.Helper()
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(t.Name()) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			hyphen = false
		} else if !hyphen && b.Len() > 0 {
			b.WriteByte('-')
			hyphen = true
		}
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tail := hex.EncodeToString(suffix)
	base := strings.TrimSuffix(b.String(), "-")
	if room := maxLen - len(tail) - 1; len(base) > room {
		base = strings.TrimSuffix(base[:max(room, 0)], "-")
	}
	if base == "" {
		return tail
	}
	return base + "-" + tail
}

// ResponseBucket creates an S3 bucket in the moto that cfg points at and
// returns two functions: presign makes a pre-signed PUT URL for key, valid for
// an hour, the way CloudFormation hands a custom resource its ResponseURL;
// read returns the object at key, or nil when there is none. Both fail the
// test on any other error.
func ResponseBucket(t testing.TB, cfg aws.Config) (
	presign func(key string) string, read func(key string) []byte) {
	t.Helper()
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := UniqueName(t, 63)

	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("creating bucket %q: %v", bucket, err)
	}

	presigner := s3.NewPresignClient(client, s3.WithPresignExpires(time.Hour))
	presign = func(key string) string {
		t.Helper()
		req, err := presigner.PresignPutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(bucket),
			Key:    aws.String(key),
		})
		if err != nil {
			t.Fatalf("pre-signing PUT of %q: %v", key, err)
		}
		return req.URL
	}
	read = func(key string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
		defer cancel()
		out, err := client.GetObject(ctx, &s3.GetObjectInput{
			Bucket: aws.String(bucket),
			Key:    aws.String(key),
		})
		var missing *s3types.NoSuchKey
		if errors.As(err, &missing) {
			return nil
		}
		if err != nil {
			t.Fatalf("reading object %q: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatalf("reading object %q: %v", key, err)
		}
		return b
	}
	return presign, read
}

// SubscribeQueue creates an SQS queue in the moto that cfg points at, lets
// topicARN send to it and subscribes it to the topic with raw message
// delivery off, so each message body is the SNS envelope (see Notification).
// A FIFO topic gets a FIFO queue. receive long-polls the queue until it has n
// messages or ctx ends, deletes what it received and returns it; it fails the
// test on an error other than ctx ending.
func SubscribeQueue(t testing.TB, cfg aws.Config, topicARN string) (
	receive func(ctx context.Context, n int) []sqstypes.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	client := sqs.NewFromConfig(cfg)

	name := UniqueName(t, 75)
	attrs := map[string]string{}
	if strings.HasSuffix(topicARN, ".fifo") {
		name += ".fifo"
		attrs[string(sqstypes.QueueAttributeNameFifoQueue)] = "true"
	}
	created, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: attrs,
	})
	if err != nil {
		t.Fatalf("creating queue %q: %v", name, err)
	}
	queueURL := aws.ToString(created.QueueUrl)
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       created.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("reading queue %q: %v", name, err)
	}
	queueARN := got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]

	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
		}},
	})
	_, err = client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   created.QueueUrl,
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): string(policy)},
	})
	if err != nil {
		t.Fatalf("setting policy of queue %q: %v", name, err)
	}

	_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   aws.String(topicARN),
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(queueARN),
		Attributes: map[string]string{"RawMessageDelivery": "false"},
	})
	if err != nil {
		t.Fatalf("subscribing queue %q to %q: %v", name, topicARN, err)
	}

	return func(ctx context.Context, n int) []sqstypes.Message {
		t.Helper()
		var msgs []sqstypes.Message
		for len(msgs) < n && ctx.Err() == nil {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl:                    aws.String(queueURL),
				MaxNumberOfMessages:         int32(min(n-len(msgs), 10)),
				WaitTimeSeconds:             1,
				MessageAttributeNames:       []string{"All"},
				MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"},
			})
			if ctx.Err() != nil {
				break
			}
			if err != nil {
				t.Fatalf("receiving from queue %q: %v", name, err)
			}
			for _, m := range out.Messages {
				msgs = append(msgs, m)
				_, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
					QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle,
				})
				if err != nil && ctx.Err() == nil {
					t.Fatalf("deleting message from queue %q: %v", name, err)
				}
			}
		}
		return msgs
	}
}

// Notification is the SNS envelope a subscribed queue receives when raw
// message delivery is off.
type Notification struct {
	Type              string
	MessageID         string `json:"MessageId"`
	TopicARN          string `json:"TopicArn"`
	Subject           string
	Message           string
	Timestamp         string
	MessageAttributes map[string]NotificationAttribute
}

// NotificationAttribute is a message attribute in an SNS envelope. Type is
// "String", "Number" or "Binary"; Value is its text.
type NotificationAttribute struct {
	Type  string
	Value string
}

// DecodeNotification decodes the SNS envelope in a message's body, failing
// the test when it is not one.
func DecodeNotification(t testing.TB, m sqstypes.Message) Notification {
	t.Helper()
	var n Notification
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &n); err != nil {
		t.Fatalf("decoding SNS envelope %q: %v", aws.ToString(m.Body), err)
	}
	if n.Type != "Notification" {
		t.Fatalf("got envelope type %q, want Notification: %s", n.Type, aws.ToString(m.Body))
	}
	return n
}

// PushImage puts a small image manifest (Docker schema 2, one layer of random
// digest, so that every push is a new image) into repository in the moto that
// cfg points at, creating the repository if it does not exist, and tags it
// with each of tags. It returns the image digest.
func PushImage(t testing.TB, cfg aws.Config, repository string, tags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	client := ecr.NewFromConfig(cfg)

	_, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(repository),
	})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("creating repository %q: %v", repository, err)
	}

	manifest := imageManifest()
	if len(tags) == 0 {
		tags = []string{""}
	}
	var digest string
	for _, tag := range tags {
		in := &ecr.PutImageInput{
			RepositoryName:         aws.String(repository),
			ImageManifest:          aws.String(manifest),
			ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json"),
		}
		if tag != "" {
			in.ImageTag = aws.String(tag)
		}
		out, err := client.PutImage(ctx, in)
		if err != nil {
			t.Fatalf("putting image into %q: %v", repository, err)
		}
		digest = aws.ToString(out.Image.ImageId.ImageDigest)
	}
	return digest
}

// ScanImage starts a basic scan of the image digest in repository. moto
// completes it at once with one made-up finding.
func ScanImage(t testing.TB, cfg aws.Config, repository, digest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	_, err := ecr.NewFromConfig(cfg).StartImageScan(ctx, &ecr.StartImageScanInput{
		RepositoryName: aws.String(repository),
		ImageId:        &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
	})
	if err != nil {
		t.Fatalf("starting scan of %s in %q: %v", digest, repository, err)
	}
}

// PushScannedImage is PushImage followed by ScanImage; it returns the digest.
func PushScannedImage(t testing.TB, cfg aws.Config, repository string, tags ...string) string {
	t.Helper()
	digest := PushImage(t, cfg, repository, tags...)
	ScanImage(t, cfg, repository, digest)
	return digest
}

// imageManifest returns a Docker schema 2 manifest with one layer of random
// digest.
func imageManifest() string {
	layer := make([]byte, 32)
	_, _ = rand.Read(layer)
	config := sha256.Sum256(layer[:16])
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.docker.distribution.manifest.v2+json",
		"config": map[string]any{
			"mediaType": "application/vnd.docker.container.image.v1+json",
			"size":      1469,
			"digest":    fmt.Sprintf("sha256:%x", config),
		},
		"layers": []map[string]any{{
			"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
			"size":      2814446,
			"digest":    "sha256:" + hex.EncodeToString(layer),
		}},
	}
	b, _ := json.Marshal(m)
	return string(b)
}
