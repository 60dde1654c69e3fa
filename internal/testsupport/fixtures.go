package testsupport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
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
// test on any other error. See localrun.ResponseBucket.
func ResponseBucket(t testing.TB, cfg aws.Config) (
	presign func(key string) string, read func(key string) []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	bucket, err := localrun.NewResponseBucket(ctx, cfg, UniqueName(t, 63))
	if err != nil {
		t.Fatalf("%v", err)
	}

	presign = func(key string) string {
		t.Helper()
		url, err := bucket.Presign(context.Background(), key)
		if err != nil {
			t.Fatalf("%v", err)
		}
		return url
	}
	read = func(key string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
		defer cancel()
		b, err := bucket.Read(ctx, key)
		if err != nil {
			t.Fatalf("%v", err)
		}
		return b
	}
	return presign, read
}

// Topic creates an SNS topic with a name unique to t in the moto that cfg
// points at, a FIFO one when fifo is set, and returns its ARN.
func Topic(t testing.TB, cfg aws.Config, fifo bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	name := UniqueName(t, 200)
	if fifo {
		name += ".fifo"
	}
	arn, err := localrun.CreateTopic(ctx, cfg, name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return arn
}

// SubscribeQueue creates an SQS queue in the moto that cfg points at, lets
// topicARN send to it and subscribes it to the topic with raw message
// delivery off, so each message body is the SNS envelope (see Notification).
// A FIFO topic gets a FIFO queue. receive long-polls the queue until it has n
// messages or ctx ends, deletes what it received and returns it; it fails the
// test on an error other than ctx ending. See localrun.SubscribeQueue.
func SubscribeQueue(t testing.TB, cfg aws.Config, topicARN string) (
	receive func(ctx context.Context, n int) []sqstypes.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	q, err := localrun.SubscribeQueue(ctx, cfg, topicARN, UniqueName(t, 75))
	if err != nil {
		t.Fatalf("%v", err)
	}

	return func(ctx context.Context, n int) []sqstypes.Message {
		t.Helper()
		msgs, err := q.Receive(ctx, n)
		if err != nil {
			t.Fatalf("%v", err)
		}
		return msgs
	}
}

// Notification is the SNS envelope a subscribed queue receives when raw
// message delivery is off.
type Notification = localrun.Notification

// NotificationAttribute is a message attribute in an SNS envelope. Type is
// "String", "Number" or "Binary"; Value is its text.
type NotificationAttribute = localrun.NotificationAttribute

// DecodeNotification decodes the SNS envelope in a message's body, failing
// the test when it is not one.
func DecodeNotification(t testing.TB, m sqstypes.Message) Notification {
	t.Helper()
	n, err := localrun.DecodeNotification(aws.ToString(m.Body))
	if err != nil {
		t.Fatalf("%v", err)
	}
	return n
}

// PushImage puts a small image manifest (Docker schema 2, one layer of random
// digest, so that every push is a new image) into repository in the moto that
// cfg points at, creating the repository if it does not exist, and tags it
// with each of tags. It returns the image digest. See localrun.PushImage.
func PushImage(t testing.TB, cfg aws.Config, repository string, tags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	digest, err := localrun.PushImage(ctx, cfg, repository, tags...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return digest
}

// ScanImage starts a basic scan of the image digest in repository. moto
// completes it at once with one made-up finding.
func ScanImage(t testing.TB, cfg aws.Config, repository, digest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	if err := localrun.ScanImage(ctx, cfg, repository, digest); err != nil {
		t.Fatalf("%v", err)
	}
}

// PushScannedImage is PushImage followed by ScanImage; it returns the digest.
func PushScannedImage(t testing.TB, cfg aws.Config, repository string, tags ...string) string {
	t.Helper()
	digest := PushImage(t, cfg, repository, tags...)
	ScanImage(t, cfg, repository, digest)
	return digest
}
