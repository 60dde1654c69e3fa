package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// The region the functions run in, and the account moto answers for.
const (
	region  = localrun.DefaultRegion
	account = "123456789012" // moto's default account
)

// The self-service request source and the repository prefix the ensure-repo
// function is configured with. Requests outside the prefix are refused
// before any AWS call, which makes the no-call cold-start event.
const (
	requestSource   = "platform.self-service"
	allowedPrefix   = "bench/"
	parameterPrefix = "/ecr/repositories"
)

// functionEnv returns the configuration of a function, as the template sets
// it, for a topic (scan-notifier only).
func functionEnv(function, topicARN string) []string {
	switch function {
	case ensureRepo:
		return []string{
			"PARAMETER_PREFIX=" + parameterPrefix,
			"ALLOWED_REPOSITORY_PREFIXES=" + allowedPrefix,
			"ALLOW_OPEN_REPOSITORY_POLICIES=false",
			"REQUEST_SOURCE=" + requestSource,
		}
	case scanNotifier:
		return []string{
			"TOPIC_ARN=" + topicARN,
			"SEVERITY_THRESHOLD=HIGH",
			"NOTIFY_ON_CLEAN=false",
			"MAX_FINDINGS=20",
			"SUPPRESSED_FINDINGS=",
		}
	}
	return nil
}

// awsEnv returns the credentials, region and endpoint a function runs with.
func awsEnv(endpoint string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + localrun.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + localrun.SecretAccessKey,
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_ENDPOINT_URL=" + endpoint,
	}
}

// lambdaEnv returns what Lambda (and the emulator) sets for a function
// besides its configuration, for running a bootstrap without the emulator.
func lambdaEnv(bootstrap string) []string {
	dir := filepath.Dir(bootstrap)
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"TZ=UTC",
		"LAMBDA_TASK_ROOT=" + dir,
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(dir),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + filepath.Base(dir),
	}
}

// withoutAWS returns env without the AWS settings of this process, so that
// a child sees only the ones given to it.
func withoutAWS(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
