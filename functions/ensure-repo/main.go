// Command ensure-repo is the Lambda function behind Custom::EcrRepository and
// self-service "ECR Repository Request" events. It only wires: configuration
// from the environment, checked at cold start, AWS clients, the reconcile
// core and the handler. Nothing here calls AWS: clients connect on first use.
package main

import (
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/awsenv"
	"github.com/ecr-stack/ecr-stack/internal/customresource"
	"github.com/ecr-stack/ecr-stack/internal/frontdoor"
	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/registry"
)

// The SDK retryer's bounds. ECR's control-plane APIs (CreateRepository,
// PutLifecyclePolicy, SetRepositoryPolicy, TagResource, ...) allow only a
// handful of requests per second per account, and SSM's PutParameter
// answers TooManyUpdates under bursts (retried as throttling too), so
// throttling is expected when many stacks deploy at once. Six attempts with
// throttling backoff of up to 1, 2, 4, 4 and 4 seconds (jittered, so about
// half that on average) ride out a burst within the function's timeout, and
// the custom resource's deadline guard answers CloudFormation if they do
// not. attemptTimeout bounds one HTTP attempt, so a hung connection costs
// one attempt, not the whole timeout.
const (
	maxAttempts    = 6
	maxBackoff     = 4 * time.Second
	attemptTimeout = 10 * time.Second
)

func main() {
	// JSON with the request id on every line when the function's log format
	// is JSON, as the template sets it.
	log := slog.New(lambdacontext.NewLogHandler())

	cfg, err := frontdoor.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err)
		os.Exit(1)
	}

	awsCfg, err := awsenv.Config(os.Getenv, awsenv.Options{
		MaxAttempts:    maxAttempts,
		MaxBackoff:     maxBackoff,
		AttemptTimeout: attemptTimeout,
		ThrottleCodes:  []string{"TooManyUpdates"},
	})
	if err != nil {
		log.Error("invalid AWS environment", "error", err)
		os.Exit(1)
	}

	core := reconcile.New(
		registry.New(ecr.NewFromConfig(awsCfg)),
		params.New(ssm.NewFromConfig(awsCfg)),
		log)
	responses := &http.Client{Timeout: customresource.DefaultHTTPTimeout}
	lambda.Start(frontdoor.NewHandler(core, cfg, log, responses))
}
