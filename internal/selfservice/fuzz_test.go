package selfservice

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ecr-stack/ecr-stack/internal/request"
)

// FuzzHandle decodes arbitrary self-service events, seeded with the sample in
// events/, and handles them under a policy with allowed prefixes and a core
// that always succeeds. Invariants: no panic; a refused request names a
// field for every problem of its detail; an accepted one reaches the core
// with a name under an allowed prefix and a valid parameter under the
// parameter prefix, and no open policy or EmptyOnDelete.
func FuzzHandle(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "ensure-repo-self-service.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"id":"1","detail-type":"ECR Repository Request","detail":{"RepositoryName":` +
		`"team-a/app","UriParameterName":"/ecr/repositories/x","RepositoryPolicyText":` +
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}}}`))
	f.Add([]byte(`{"detail-type":"ECR Repository Request","detail":{"RepositoryName":` +
		`"example-team/app","EmptyOnDelete":"true"}}`))

	cfg := Config{Scope: request.Scope{ParameterPrefix: "/ecr/repositories",
		RepositoryPrefixes: []string{"example-team/", "team-a/"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.EventBridgeEvent
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		core := &fakeCore{}
		_, err := New(core, cfg, nil).Handle(context.Background(), ev)
		if err != nil {
			if len(core.ensures) != 0 {
				t.Errorf("got error %v after an ensure, want the core's own error only", err)
			}
			if strings.HasPrefix(err.Error(), "refusing") && len(request.FieldErrors(err)) == 0 {
				t.Errorf("got refusal %q naming no field", err)
			}
			return
		}
		if len(core.ensures) != 1 {
			t.Fatalf("got %d ensures, want 1", len(core.ensures))
		}
		in := core.ensures[0]
		if !strings.HasPrefix(in.Want.Name, "example-team/") &&
			!strings.HasPrefix(in.Want.Name, "team-a/") {
			t.Errorf("got name %q outside the allowed prefixes", in.Want.Name)
		}
		if !strings.HasPrefix(in.ParameterName, "/ecr/repositories/") ||
			request.ValidateParameterName(in.ParameterName) != nil {
			t.Errorf("got parameter %q, want a valid one under the prefix", in.ParameterName)
		}
		account := ev.AccountID
		if account == "" {
			account = "unknown"
		}
		if in.Want.EmptyOnDelete || len(request.OpenGrants(in.Want.RepositoryPolicy, account)) > 0 {
			t.Errorf("got %+v, want no EmptyOnDelete and no open policy", in.Want)
		}
	})
}
