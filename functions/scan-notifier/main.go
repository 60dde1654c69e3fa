// Command scan-notifier is the Lambda function that turns ECR and Inspector
// scan results into SNS alerts. It only wires: configuration from the
// environment, checked at cold start, AWS clients and the handler.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sns"

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
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		Level:       logLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL")),
		ReplaceAttr: lambdacontext.ReplaceAttr,
	}))

	cfg, err := notifier.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err)
		os.Exit(1)
	}

	// Loading reads the environment and files only; credentials are fetched
	// on the first call. AWS_ENDPOINT_URL, when set, points every client at
	// it.
	awsCfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(attemptTimeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.MaxBackoff = maxBackoff
			})
		}))
	if err != nil {
		log.Error("loading AWS configuration", "error", err)
		os.Exit(1)
	}

	h := notifier.New(cfg, ecr.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg), log)
	lambda.Start(h.Handle)
}

// logLevel reads the level Lambda's advanced logging controls set; INFO when
// unset or unknown.
func logLevel(v string) slog.Level {
	switch v {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
