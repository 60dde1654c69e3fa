// Command scan-notifier is the Lambda function that turns ECR and Inspector
// scan results into SNS alerts. It only wires: configuration from the
// environment, checked at cold start, AWS clients and the handler.
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ecr-stack/ecr-stack/internal/awsenv"
	"github.com/ecr-stack/ecr-stack/internal/notifier"
)

// The retryer's bounds: ECR's read APIs have low rate limits, so throttling
// is retried a few times with backoff, within a function timeout of seconds.
const (
	maxAttempts    = 5
	maxBackoff     = 2 * time.Second
	attemptTimeout = 10 * time.Second
)

func main() {
	// JSON with the request id on every line when the function's log format
	// is JSON, as the template sets it; the level follows the function's
	// log level setting.
	log := slog.New(lambdacontext.NewLogHandler())

	cfg, err := notifier.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err)
		os.Exit(1)
	}

	awsCfg, err := awsenv.Config(os.Getenv, awsenv.Options{
		MaxAttempts:    maxAttempts,
		MaxBackoff:     maxBackoff,
		AttemptTimeout: attemptTimeout,
	})
	if err != nil {
		log.Error("invalid AWS environment", "error", err)
		os.Exit(1)
	}

	h := notifier.New(cfg, ecr.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg), log)
	lambda.Start(h.Handle)
}
