package customresource

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/ecr-stack/ecr-stack/internal/request"
)

// recorder is an http.RoundTripper that keeps every request body and answers
// 200, so fuzzing makes no network calls.
type recorder struct{ bodies [][]byte }

// RoundTrip records r's body.
func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	rec.bodies = append(rec.bodies, b)
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(nil)),
		Request: r}, nil
}

// FuzzHandleJSON decodes arbitrary custom resource requests, seeded with the
// requests in events/ and testdata/, and answers them with a core that
// always succeeds. Invariants: no panic, in the door or its work; a request
// with a usable ResponseURL is answered exactly once with a valid response of
// at most 4096 bytes unless its echoed ids alone are too long; a FAILED
// answer says which field or step failed; the core is never asked about a
// repository or parameter outside the Scope.
func FuzzHandleJSON(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "events", "ensure-repo-*.json"))
	more, _ := filepath.Glob(filepath.Join("testdata", "cfn-*.json"))
	seeds = append(seeds, more...)
	if len(seeds) < 6 {
		f.Fatalf("got %d seed files, want the events and testdata requests", len(seeds))
	}
	for _, file := range seeds {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"RequestType":"Delete","ResponseURL":"https://b/k","PhysicalResourceId":"a/b",` +
		`"ResourceProperties":{"RepositoryName":7}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		if !strings.Contains(string(data), "ResponseURL") {
			return
		}
		rec := &recorder{}
		core := &fakeCore{}
		scope := request.Scope{ParameterPrefix: "/ecr/repositories",
			RepositoryPrefixes: []string{"example-team/"}}
		h := New(core, Options{
			Scope:      scope,
			HTTPClient: &http.Client{Transport: rec},
			LogStream:  testStream,
		})
		_, err := h.HandleJSON(context.Background(), data)
		for _, in := range core.ensures {
			if !scope.AllowsRepository(in.Want.Name) || !scope.AllowsParameter(in.ParameterName) {
				t.Errorf("got an ensure of %q with parameter %q, want both in %+v",
					in.Want.Name, in.ParameterName, scope)
			}
		}
		for _, in := range core.deletes {
			if !scope.AllowsRepository(in.Repository) ||
				in.ParameterName != "" && !scope.AllowsParameter(in.ParameterName) {
				t.Errorf("got a delete of %q with parameter %q, want both in %+v",
					in.Repository, in.ParameterName, scope)
			}
		}
		for _, removal := range core.removals {
			if name, _, _ := strings.Cut(removal, " by "); !scope.AllowsParameter(name) {
				t.Errorf("got a removal of %q, want a parameter in %+v", name, scope)
			}
		}
		if err != nil {
			if len(rec.bodies) != 0 {
				t.Errorf("got error %v after %d answers, want an error only when none was sent",
					err, len(rec.bodies))
			}
			return
		}
		if len(rec.bodies) != 1 {
			t.Fatalf("got %d answers, want 1", len(rec.bodies))
		}
		body := rec.bodies[0]
		if len(body) > MaxResponseBytes {
			t.Errorf("got %d bytes, want at most %d", len(body), MaxResponseBytes)
		}
		var r cfn.Response
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("got an invalid response %q: %v", body, err)
		}
		switch r.Status {
		case cfn.StatusSuccess:
		case cfn.StatusFailed:
			if strings.Contains(r.Reason, "internal error") {
				t.Errorf("got a panic: %s", r.Reason)
			}
			if !strings.Contains(r.Reason, ": ") {
				t.Errorf("got reason %q, want it to name a field or step", r.Reason)
			}
		default:
			t.Errorf("got status %q, want SUCCESS or FAILED", r.Status)
		}
	})
}
