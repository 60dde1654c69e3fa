package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// createTopic creates an SNS topic in moto and returns its ARN.
func createTopic(ctx context.Context, cfg aws.Config, name string) (string, error) {
	out, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{
		Name: aws.String(name),
	})
	if err != nil {
		return "", fmt.Errorf("creating topic %q: %w", name, err)
	}
	return aws.ToString(out.TopicArn), nil
}
