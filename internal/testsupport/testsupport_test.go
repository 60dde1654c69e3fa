package testsupport

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// helloPackage is a small Lambda function whose behaviour the payload picks.
const helloPackage = "./internal/localrun/testdata/hello"

func TestMotoAndAWSConfig(t *testing.T) {
	m := Moto(t)
	if again := Moto(t); again != m {
		t.Errorf("got a second moto %p, want the shared %p", again, m)
	}
	cfg := AWSConfig(t, m.URL)
	if cfg.Region != Region {
		t.Errorf("got region %q, want %q", cfg.Region, Region)
	}
	if got := aws.ToString(cfg.BaseEndpoint); got != m.URL {
		t.Errorf("got endpoint %q, want %q", got, m.URL)
	}
	if got := cfg.Retryer().MaxAttempts(); got != MaxAttempts {
		t.Errorf("got %d attempts, want %d", got, MaxAttempts)
	}

	ctx := context.Background()
	name := strings.ToLower(t.Name())
	out, err := ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName: aws.String(name),
	})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if got := aws.ToString(out.Repository.RepositoryName); got != name {
		t.Errorf("got repository %q, want %q", got, name)
	}
	_, err = ssm.NewFromConfig(cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/" + name), Value: aws.String("v"), Type: "String",
	})
	if err != nil {
		t.Fatalf("PutParameter: %v", err)
	}
}

// TestMotoUsed stands for any test that needs moto; TestMotoMissing runs it
// where moto_server is not installed.
func TestMotoUsed(t *testing.T) {
	m := Moto(t)
	_, err := ecr.NewFromConfig(AWSConfig(t, m.URL)).DescribeRepositories(context.Background(),
		&ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatalf("DescribeRepositories: %v", err)
	}
}

func TestMotoMissing(t *testing.T) {
	FailsWithoutMoto(t, "TestMotoUsed")
}

func TestEmulator(t *testing.T) {
	bootstrap := BootstrapPackage(t, helloPackage)
	if again := BootstrapPackage(t, helloPackage); again != bootstrap {
		t.Errorf("got a second build %q, want %q", again, bootstrap)
	}
	e := Emulator(t, bootstrap, "AWS_LAMBDA_FUNCTION_TIMEOUT=1", "EXTRA=yes")

	tests := []struct {
		name    string
		payload string
		want    map[string]string
		wantErr string
	}{
		{
			name: "credentials and env",
			payload: `{"env":["AWS_ACCESS_KEY_ID","AWS_SECRET_ACCESS_KEY","EXTRA",` +
				`"AWS_LAMBDA_FUNCTION_NAME"]}`,
			want: map[string]string{
				"AWS_ACCESS_KEY_ID": AccessKeyID, "AWS_SECRET_ACCESS_KEY": SecretAccessKey,
				"EXTRA": "yes", "AWS_LAMBDA_FUNCTION_NAME": "hello",
			},
		},
		{
			name:    "timeout from env",
			payload: `{"sleep":"5s"}`,
			wantErr: "Task timed out after 1.00 seconds",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := e.Invoke(context.Background(), []byte(tt.payload))
			if tt.wantErr != "" {
				var fe *localrun.FunctionError
				if !errors.As(err, &fe) || fe.Message != tt.wantErr {
					t.Fatalf("got error %v, want a function error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp struct{ Env map[string]string }
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatalf("decoding %s: %v", body, err)
			}
			for k, want := range tt.want {
				if got := resp.Env[k]; got != want {
					t.Errorf("got %s=%q, want %q", k, got, want)
				}
			}
		})
	}
}
