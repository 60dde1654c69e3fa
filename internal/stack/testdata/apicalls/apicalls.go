// Package apicalls is a fixture for the test of apiCalls: interfaces with
// SDK client operations, declared, embedded and used, a direct client call,
// and look-alikes that are not operations.
package apicalls

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// repositories declares an operation and a method that is not one.
type repositories interface {
	DescribeRepositories(ctx context.Context, params *ecr.DescribeRepositoriesInput,
		optFns ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	Close() error
}

// parameters declares two operations, one without options.
type parameters interface {
	GetParameter(ctx context.Context, params *ssm.GetParameterInput,
		optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	ListTagsForResource(ctx context.Context,
		params *ssm.ListTagsForResourceInput) (*ssm.ListTagsForResourceOutput, error)
}

// publisher embeds the interface that declares its operation.
type publisher interface {
	notifier
}

// notifier declares Publish.
type notifier interface {
	Publish(ctx context.Context, params *sns.PublishInput,
		optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// lookAlike has the shape of an operation, but its output is another
// operation's.
type lookAlike interface {
	Fetch(ctx context.Context, params *ecr.DescribeImagesInput) (*ecr.ListImagesOutput, error)
}

// findings uses the SDK's own paginator interface.
func findings(c ecr.DescribeImageScanFindingsAPIClient) *ecr.DescribeImageScanFindingsPaginator {
	return ecr.NewDescribeImageScanFindingsPaginator(c, &ecr.DescribeImageScanFindingsInput{})
}

// images calls the concrete client.
func images(ctx context.Context, c *ecr.Client) error {
	_, err := c.ListImages(ctx, &ecr.ListImagesInput{})
	return err
}

// The fixture's declarations are used only by the test that reads them.
var (
	_ repositories
	_ parameters
	_ publisher
	_ lookAlike
	_ = findings
	_ = images
)
