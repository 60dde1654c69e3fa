// Package awsenv builds the AWS SDK configuration of a Lambda function from
// the environment Lambda gives it.
//
// config.LoadDefaultConfig would do the same and more: it also reads shared
// config and credentials files and links the SSO, SSO-OIDC, STS, sign-in and
// instance-metadata clients that those files may call for. A function never
// uses them, since Lambda always passes its role's credentials in the
// environment, yet they add about 1.7 MiB to each bootstrap and a millisecond
// of package initialisation to every cold start. This package reads the few
// variables Lambda sets and hands them to the SDK's own credential cache,
// retryer and HTTP client, so nothing of the SDK's behaviour is rewritten.
package awsenv

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The variables Config reads. AWS_ENDPOINT_URL is the SDK's own setting for
// pointing every client at another endpoint, such as a local moto server.
const (
	EnvRegion          = "AWS_REGION"
	EnvAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken    = "AWS_SESSION_TOKEN"
	EnvEndpointURL     = "AWS_ENDPOINT_URL"
)

// Options tunes the clients built from the configuration.
type Options struct {
	// MaxAttempts bounds the SDK retryer's attempts per call, the first one
	// included.
	MaxAttempts int
	// MaxBackoff bounds the retryer's wait between two attempts.
	MaxBackoff time.Duration
	// AttemptTimeout bounds one HTTP attempt, so a hung connection costs one
	// attempt rather than the whole function timeout.
	AttemptTimeout time.Duration
	// ThrottleCodes are error codes to retry as throttling besides those the
	// SDK knows, such as SSM's TooManyUpdates.
	ThrottleCodes []string
}

// Config returns the SDK configuration for the environment getenv reads. It
// makes no network call: credentials come from the environment and the
// retryer and HTTP client connect on first use. It fails when the region or
// the credentials are missing, naming the variables.
func Config(getenv func(string) string, opts Options) (aws.Config, error) {
	var missing []error
	for _, name := range []string{EnvRegion, EnvAccessKeyID, EnvSecretAccessKey} {
		if getenv(name) == "" {
			missing = append(missing, errors.New(name+" is not set"))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return aws.Config{}, err
	}

	codes := make(map[string]struct{}, len(opts.ThrottleCodes))
	for _, c := range opts.ThrottleCodes {
		codes[c] = struct{}{}
	}
	cfg := aws.Config{
		Region: getenv(EnvRegion),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey), getenv(EnvSessionToken))),
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(opts.AttemptTimeout),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				if opts.MaxAttempts > 0 {
					o.MaxAttempts = opts.MaxAttempts
				}
				if opts.MaxBackoff > 0 {
					o.MaxBackoff = opts.MaxBackoff
				}
				if len(codes) > 0 {
					o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: codes})
					o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: codes})
				}
			})
		},
	}
	if url := getenv(EnvEndpointURL); url != "" {
		cfg.BaseEndpoint = aws.String(url)
	}
	return cfg, nil
}
