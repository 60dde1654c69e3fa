package localrun

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// runMoto starts a moto_server for one test and stops it when the test
// ends.
func runMoto(t *testing.T) *Moto {
	t.Helper()
	m, err := StartMoto(context.Background())
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestFixtures covers the error paths of the fixtures that testsupport's
// wrappers cannot reach; their success paths are tested there.
func TestFixtures(t *testing.T) {
	m := runMoto(t)
	cfg := m.Config()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("response bucket", func(t *testing.T) {
		b, err := NewResponseBucket(ctx, cfg, "responses")
		if err != nil {
			t.Fatalf("NewResponseBucket: %v", err)
		}
		again, err := NewResponseBucket(ctx, cfg, "responses")
		if err != nil {
			t.Fatalf("got %v creating the bucket again, want it adopted", err)
		}
		if got, err := again.Read(ctx, "missing"); got != nil || err != nil {
			t.Errorf("got %q, %v reading a missing object, want nil, nil", got, err)
		}

		url, err := b.Presign(ctx, "stack/request")
		if err != nil {
			t.Fatalf("Presign: %v", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url,
			strings.NewReader(`{"Status":"SUCCESS"}`))
		if err != nil {
			t.Fatalf("NewRequest: %v", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("got status %d from the pre-signed PUT, want 200", resp.StatusCode)
		}
		got, err := b.Read(ctx, "stack/request")
		if err != nil || string(got) != `{"Status":"SUCCESS"}` {
			t.Errorf("got %q, %v, want the object put", got, err)
		}
	})

	t.Run("receive until ctx ends", func(t *testing.T) {
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx,
			&sns.CreateTopicInput{Name: aws.String("quiet")})
		if err != nil {
			t.Fatalf("CreateTopic: %v", err)
		}
		q, err := SubscribeQueue(ctx, cfg, aws.ToString(topic.TopicArn), "quiet")
		if err != nil {
			t.Fatalf("SubscribeQueue: %v", err)
		}
		short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		defer cancel()
		msgs, err := q.Receive(short, 1)
		if len(msgs) != 0 || err != nil {
			t.Errorf("got %d messages and %v, want none and no error", len(msgs), err)
		}
	})

	t.Run("push into an existing repository", func(t *testing.T) {
		_, err := ecr.NewFromConfig(cfg).CreateRepository(ctx,
			&ecr.CreateRepositoryInput{RepositoryName: aws.String("team/existing")})
		if err != nil {
			t.Fatalf("CreateRepository: %v", err)
		}
		digest, err := PushImage(ctx, cfg, "team/existing", "1.0")
		if err != nil {
			t.Fatalf("PushImage: %v", err)
		}
		if err := ScanImage(ctx, cfg, "team/existing", digest); err != nil {
			t.Fatalf("ScanImage: %v", err)
		}
	})

	t.Run("errors name the object", func(t *testing.T) {
		err := ScanImage(ctx, cfg, "team/missing", "sha256:00")
		var missing *ecrtypes.RepositoryNotFoundException
		if err == nil || !strings.Contains(err.Error(), `"team/missing"`) {
			t.Errorf("got %v, want an error naming the repository", err)
		} else if !errors.As(err, &missing) {
			t.Errorf("got %v, want it to wrap RepositoryNotFoundException", err)
		}
		const missingTopic = "arn:aws:sns:us-east-1:123456789012:none"
		if _, err := SubscribeQueue(ctx, cfg, missingTopic, "q2"); err == nil {
			t.Errorf("got no error subscribing to a missing topic, want one")
		}
	})
}

func TestDecodeNotification(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Notification
		wantErr string
	}{
		{
			name: "notification",
			body: `{"Type":"Notification","MessageId":"m","TopicArn":"arn:t","Subject":"s",` +
				`"Message":"b","MessageAttributes":{"high":{"Type":"Number","Value":"2"}}}`,
			want: Notification{Type: "Notification", MessageID: "m", TopicARN: "arn:t", Subject: "s",
				Message: "b", MessageAttributes: map[string]NotificationAttribute{
					"high": {Type: "Number", Value: "2"}}},
		},
		{name: "not JSON", body: `raw`, wantErr: "decoding SNS envelope"},
		{name: "confirmation", body: `{"Type":"SubscriptionConfirmation"}`,
			wantErr: `got type "SubscriptionConfirmation", want Notification`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeNotification(tt.body)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeNotification: %v", err)
			}
			if got.Subject != tt.want.Subject || got.Message != tt.want.Message ||
				got.MessageID != tt.want.MessageID || got.TopicARN != tt.want.TopicARN ||
				got.MessageAttributes["high"] != tt.want.MessageAttributes["high"] {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLookupFunction(t *testing.T) {
	tests := []struct {
		name    string
		want    Function
		wantErr string
	}{
		{name: "ensure-repo", want: EnsureRepo},
		{name: "EnsureRepoFunction", want: EnsureRepo},
		{name: "scan-notifier", want: ScanNotifier},
		{name: "ScanNotifierFunction", want: ScanNotifier},
		{name: "ensure_repo", wantErr: `finding function "ensure_repo": want one of ensure-repo, ` +
			`EnsureRepoFunction, scan-notifier, ScanNotifierFunction`},
		{name: "", wantErr: `finding function ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookupFunction(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

func TestReadEnvFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string // "" means the file does not exist
		id      string
		want    []string
		wantErr string
	}{
		{
			name: "own section",
			file: `{"EnsureRepoFunction":{"PARAMETER_PREFIX":"/p","B":""},"Other":{"X":"y"}}`,
			id:   "EnsureRepoFunction",
			want: []string{"B=", "PARAMETER_PREFIX=/p"},
		},
		{
			name: "parameters overridden by the section",
			file: `{"Parameters":{"A":"global","C":"c"},"F":{"A":"own"}}`,
			id:   "F",
			want: []string{"A=own", "C=c"},
		},
		{
			name: "scalars as text",
			file: `{"F":{"N":20,"F":1.5,"T":true,"S":"s"}}`,
			id:   "F",
			want: []string{"F=1.5", "N=20", "S=s", "T=true"},
		},
		{
			name: "sorted by key",
			file: `{"F":{"A1":"x","A":"y","A_B":"z"}}`,
			id:   "F",
			want: []string{"A=y", "A1=x", "A_B=z"},
		},
		{name: "no section", file: `{"Other":{"X":"y"}}`, id: "F", want: []string{}},
		{name: "missing file", id: "F", wantErr: "reading env-vars file: open"},
		{name: "not JSON", file: `{`, id: "F", wantErr: "want an object of objects"},
		{name: "section not an object", file: `{"F":"x"}`, id: "F",
			wantErr: "want an object of objects"},
		{name: "null value", file: `{"F":{"K":null}}`, id: "F", wantErr: "F.K: got null"},
		{name: "nested value", file: `{"F":{"K":{"a":1}}}`, id: "F",
			wantErr: `F.K: got {"a":1}, want a string, number or boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "env.json")
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadEnvFile(path, tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v, want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadEnvFile: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMotoEnvAndConfig(t *testing.T) {
	m := &Moto{URL: "http://127.0.0.1:1"}
	want := []string{"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing"}
	if got := m.Env(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	cfg := m.Config()
	if cfg.Region != DefaultRegion || aws.ToString(cfg.BaseEndpoint) != m.URL {
		t.Errorf("got region %q and endpoint %q, want %q and %q", cfg.Region,
			aws.ToString(cfg.BaseEndpoint), DefaultRegion, m.URL)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != AccessKeyID || creds.SecretAccessKey != SecretAccessKey {
		t.Errorf("got credentials %v, %v, want the static ones", creds.AccessKeyID, err)
	}
}
