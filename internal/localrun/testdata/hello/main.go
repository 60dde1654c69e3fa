// Command hello is a small Lambda function for the localrun and testsupport
// tests. What it does is chosen by the payload.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// request says what one invocation does, in this order: log, sleep, panic,
// fail, then answer.
type request struct {
	Echo  json.RawMessage `json:"echo,omitempty"`
	Log   string          `json:"log,omitempty"`
	Sleep string          `json:"sleep,omitempty"`
	Panic string          `json:"panic,omitempty"`
	Error string          `json:"error,omitempty"`
	Env   []string        `json:"env,omitempty"`
}

// response is the answer of a successful invocation.
type response struct {
	Echo        json.RawMessage   `json:"echo,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	HasDeadline bool              `json:"hasDeadline"`
	Pid         int               `json:"pid"`
}

// handle carries out req.
func handle(ctx context.Context, req request) (response, error) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if req.Log != "" {
		log.Info(req.Log)
	}
	if req.Sleep != "" {
		d, err := time.ParseDuration(req.Sleep)
		if err != nil {
			return response{}, err
		}
		time.Sleep(d)
	}
	if req.Panic != "" {
		panic(req.Panic)
	}
	if req.Error != "" {
		return response{}, errors.New(req.Error)
	}
	resp := response{Echo: req.Echo, Pid: os.Getpid()}
	_, resp.HasDeadline = ctx.Deadline()
	for _, k := range req.Env {
		if resp.Env == nil {
			resp.Env = map[string]string{}
		}
		resp.Env[k] = os.Getenv(k)
	}
	return resp, nil
}

// main starts the Lambda runtime loop.
func main() {
	lambda.Start(handle)
}
