package awsenv

import (
	"context"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// lambdaEnv is the environment Lambda gives a function, with an endpoint.
var lambdaEnv = map[string]string{
	EnvRegion:          "eu-west-1",
	EnvAccessKeyID:     "AKIDEXAMPLE",
	EnvSecretAccessKey: "secret",
	EnvSessionToken:    "token",
	EnvEndpointURL:     "http://127.0.0.1:5000",
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestConfigReadsTheLambdaEnvironment(t *testing.T) {
	cfg, err := Config(getenv(lambdaEnv), Options{})
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if got, want := cfg.Region, "eu-west-1"; got != want {
		t.Errorf("Region = %q, want %q", got, want)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:5000" {
		t.Errorf("BaseEndpoint = %v, want http://127.0.0.1:5000", cfg.BaseEndpoint)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" ||
		creds.SessionToken != "token" {
		t.Errorf("credentials = %+v, want the environment's", creds)
	}
}

func TestConfigWithoutEndpoint(t *testing.T) {
	env := map[string]string{}
	for k, v := range lambdaEnv {
		env[k] = v
	}
	delete(env, EnvEndpointURL)
	cfg, err := Config(getenv(env), Options{})
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("BaseEndpoint = %q, want none", *cfg.BaseEndpoint)
	}
}

func TestConfigNamesMissingVariables(t *testing.T) {
	tests := []struct {
		name    string
		missing []string
		want    string
	}{
		{"region", []string{EnvRegion}, "AWS_REGION is not set"},
		{"credentials", []string{EnvAccessKeyID, EnvSecretAccessKey},
			"AWS_ACCESS_KEY_ID is not set\nAWS_SECRET_ACCESS_KEY is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range lambdaEnv {
				env[k] = v
			}
			for _, k := range tt.missing {
				delete(env, k)
			}
			_, err := Config(getenv(env), Options{})
			if err == nil {
				t.Fatal("Config: got no error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRetryer(t *testing.T) {
	cfg, err := Config(getenv(lambdaEnv), Options{
		MaxAttempts:   7,
		MaxBackoff:    3 * time.Second,
		ThrottleCodes: []string{"TooManyUpdates"},
	})
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	r := cfg.Retryer()
	if got, want := r.MaxAttempts(), 7; got != want {
		t.Errorf("MaxAttempts = %d, want %d", got, want)
	}
	tests := []struct {
		code string
		want bool
	}{
		{"TooManyUpdates", true},
		{"ThrottlingException", true},
		{"ParameterAlreadyExists", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := &smithy.GenericAPIError{Code: tt.code}
			if got := r.IsErrorRetryable(err); got != tt.want {
				t.Errorf("IsErrorRetryable(%s) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}
