// Command hello is the smallest useful aws-lambda-go function: it answers
// every event with the event. It is the baseline the benchmarks compare the
// stack's functions with, built the same way.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

// handle returns the event it is given.
func handle(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
	return event, nil
}

// main starts the Lambda runtime loop.
func main() {
	lambda.Start(handle)
}
