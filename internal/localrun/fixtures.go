package localrun

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

// PresignExpiry is how long a URL from ResponseBucket.Presign is valid.
const PresignExpiry = time.Hour

// ResponseBucket is an S3 bucket that stands in for the one behind the
// pre-signed ResponseURL CloudFormation hands a custom resource: a function
// PUTs its answer to a URL from Presign, and Read returns what it put.
type ResponseBucket struct {
	// Name is the bucket's name.
	Name string

	client    *s3.Client
	presigner *s3.PresignClient
}

// NewResponseBucket creates the bucket name where cfg points (moto), or
// adopts it when cfg's account already owns it. The client uses path-style
// addresses, which a loopback endpoint needs.
func NewResponseBucket(ctx context.Context, cfg aws.Config, name string) (*ResponseBucket, error) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return nil, fmt.Errorf("creating bucket %q: %w", name, err)
	}
	return &ResponseBucket{
		Name:      name,
		client:    client,
		presigner: s3.NewPresignClient(client, s3.WithPresignExpires(PresignExpiry)),
	}, nil
}

// Presign returns a pre-signed URL that accepts one PUT of the object key,
// without Content-Type, for PresignExpiry: the shape of a ResponseURL. The
// URL is a credential for that object; callers do not log it.
func (b *ResponseBucket) Presign(ctx context.Context, key string) (string, error) {
	req, err := b.presigner.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.Name),
		Key:    aws.String(key),
	})
	if err != nil {
		return "", fmt.Errorf("pre-signing PUT of %q in bucket %q: %w", key, b.Name, err)
	}
	return req.URL, nil
}

// Read returns the object key, or nil and no error when there is none.
func (b *ResponseBucket) Read(ctx context.Context, key string) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.Name),
		Key:    aws.String(key),
	})
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading object %q in bucket %q: %w", key, b.Name, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("reading object %q in bucket %q: %w", key, b.Name, err)
	}
	return body, nil
}

// Queue is an SQS queue subscribed to an SNS topic, seen from a subscriber's
// side.
type Queue struct {
	// Name, URL and ARN identify the queue.
	Name, URL, ARN string

	// TopicARN is the topic the queue is subscribed to.
	TopicARN string

	client *sqs.Client
}

// CreateTopic creates the SNS topic name where cfg points (moto) and returns
// its ARN. A name ending in ".fifo" makes a FIFO topic.
func CreateTopic(ctx context.Context, cfg aws.Config, name string) (string, error) {
	in := &sns.CreateTopicInput{Name: aws.String(name)}
	if strings.HasSuffix(name, ".fifo") {
		in.Attributes = map[string]string{"FifoTopic": "true"}
	}
	out, err := sns.NewFromConfig(cfg).CreateTopic(ctx, in)
	if err != nil {
		return "", fmt.Errorf("creating topic %q: %w", name, err)
	}
	return aws.ToString(out.TopicArn), nil
}

// SubscribeQueue creates the SQS queue name where cfg points (moto), lets
// topicARN send to it and subscribes it to the topic with raw message
// delivery off, so each message body is the SNS envelope (see
// DecodeNotification). A FIFO topic (its ARN ends in ".fifo") gets a FIFO
// queue, whose name gains the ".fifo" suffix.
func SubscribeQueue(ctx context.Context, cfg aws.Config, topicARN, name string) (*Queue, error) {
	client := sqs.NewFromConfig(cfg)

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
		return nil, fmt.Errorf("creating queue %q: %w", name, err)
	}
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       created.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("reading queue %q: %w", name, err)
	}
	q := &Queue{
		Name:     name,
		URL:      aws.ToString(created.QueueUrl),
		ARN:      got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
		TopicARN: topicARN,
		client:   client,
	}

	policy, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  q.ARN,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding policy of queue %q: %w", name, err)
	}
	_, err = client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl:   created.QueueUrl,
		Attributes: map[string]string{string(sqstypes.QueueAttributeNamePolicy): string(policy)},
	})
	if err != nil {
		return nil, fmt.Errorf("setting policy of queue %q: %w", name, err)
	}

	_, err = sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   aws.String(topicARN),
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(q.ARN),
		Attributes: map[string]string{"RawMessageDelivery": "false"},
	})
	if err != nil {
		return nil, fmt.Errorf("subscribing queue %q to %q: %w", name, topicARN, err)
	}
	return q, nil
}

// Receive long-polls the queue until it has n messages or ctx ends, deletes
// what it received and returns it. ctx ending is not an error: Receive then
// returns what arrived before, possibly nothing.
func (q *Queue) Receive(ctx context.Context, n int) ([]sqstypes.Message, error) {
	var msgs []sqstypes.Message
	for len(msgs) < n && ctx.Err() == nil {
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.URL),
			MaxNumberOfMessages:         int32(min(n-len(msgs), 10)),
			WaitTimeSeconds:             1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"},
		})
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return msgs, fmt.Errorf("receiving from queue %q: %w", q.Name, err)
		}
		for _, m := range out.Messages {
			msgs = append(msgs, m)
			_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl: aws.String(q.URL), ReceiptHandle: m.ReceiptHandle,
			})
			if err != nil && ctx.Err() == nil {
				return msgs, fmt.Errorf("deleting message from queue %q: %w", q.Name, err)
			}
		}
	}
	return msgs, nil
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

// DecodeNotification decodes the SNS envelope in a message body, and fails
// when it is not the envelope of a notification.
func DecodeNotification(body string) (Notification, error) {
	var n Notification
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return n, fmt.Errorf("decoding SNS envelope %q: %w", body, err)
	}
	if n.Type != "Notification" {
		return n, fmt.Errorf("decoding SNS envelope: got type %q, want Notification: %s",
			n.Type, body)
	}
	return n, nil
}

// PushImage puts a small image manifest (Docker schema 2, one layer of random
// digest, so that every push is a new image) into repository where cfg points
// (moto), creating the repository if it does not exist, and tags it with each
// of tags; without tags the image is untagged. It returns the image digest.
func PushImage(ctx context.Context, cfg aws.Config, repository string, tags ...string) (
	string, error) {
	client := ecr.NewFromConfig(cfg)

	_, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(repository),
	})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return "", fmt.Errorf("creating repository %q: %w", repository, err)
	}

	manifest, err := imageManifest()
	if err != nil {
		return "", fmt.Errorf("putting image into %q: %w", repository, err)
	}
	const mediaType = "application/vnd.docker.distribution.manifest.v2+json"
	if len(tags) == 0 {
		tags = []string{""}
	}
	var digest string
	for _, tag := range tags {
		in := &ecr.PutImageInput{
			RepositoryName:         aws.String(repository),
			ImageManifest:          aws.String(manifest),
			ImageManifestMediaType: aws.String(mediaType),
		}
		if tag != "" {
			in.ImageTag = aws.String(tag)
		}
		out, err := client.PutImage(ctx, in)
		if err != nil {
			return "", fmt.Errorf("putting image into %q: %w", repository, err)
		}
		digest = aws.ToString(out.Image.ImageId.ImageDigest)
	}
	return digest, nil
}

// ScanImage starts a basic scan of the image digest in repository. moto
// completes it at once with one made-up finding.
func ScanImage(ctx context.Context, cfg aws.Config, repository, digest string) error {
	_, err := ecr.NewFromConfig(cfg).StartImageScan(ctx, &ecr.StartImageScanInput{
		RepositoryName: aws.String(repository),
		ImageId:        &ecrtypes.ImageIdentifier{ImageDigest: aws.String(digest)},
	})
	if err != nil {
		return fmt.Errorf("starting scan of %s in %q: %w", digest, repository, err)
	}
	return nil
}

// imageManifest returns a Docker schema 2 manifest with one layer of random
// digest.
func imageManifest() (string, error) {
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
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding image manifest: %w", err)
	}
	return string(b), nil
}
