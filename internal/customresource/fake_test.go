package customresource

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// fakeCore records what the door asks of the core and answers with what the
// test set.
type fakeCore struct {
	mu       sync.Mutex
	ensures  []reconcile.EnsureInput
	deletes  []reconcile.DeleteInput
	removals []string

	ensure func(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error)
	del    func(ctx context.Context, in reconcile.DeleteInput) (reconcile.DeleteResult, error)
	remove func(ctx context.Context, name, owner string) (bool, error)
}

// Ensure records in and calls f.ensure, or returns a result for in.
func (f *fakeCore) Ensure(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error) {
	f.mu.Lock()
	f.ensures = append(f.ensures, in)
	f.mu.Unlock()
	if f.ensure != nil {
		return f.ensure(ctx, in)
	}
	return resultFor(in), nil
}

// Delete records in and calls f.del, or reports a deletion.
func (f *fakeCore) Delete(ctx context.Context,
	in reconcile.DeleteInput) (reconcile.DeleteResult, error) {
	f.mu.Lock()
	f.deletes = append(f.deletes, in)
	f.mu.Unlock()
	if f.del != nil {
		return f.del(ctx, in)
	}
	return reconcile.DeleteResult{RepositoryDeleted: true, ParameterDeleted: true}, nil
}

// RemoveParameter records name and owner and calls f.remove, or reports a
// removal.
func (f *fakeCore) RemoveParameter(ctx context.Context, name, owner string) (bool, error) {
	f.mu.Lock()
	f.removals = append(f.removals, name+" by "+owner)
	f.mu.Unlock()
	if f.remove != nil {
		return f.remove(ctx, name, owner)
	}
	return true, nil
}

// resultFor returns the result the real core gives for a new repository.
func resultFor(in reconcile.EnsureInput) reconcile.Result {
	return reconcile.Result{
		Repository:    in.Want.Name,
		ARN:           "arn:aws:ecr:us-east-1:123456789012:repository/" + in.Want.Name,
		URI:           "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + in.Want.Name,
		RegistryID:    "123456789012",
		ParameterName: in.ParameterName,
		Created:       true,
		Changes:       []string{"created repository", "wrote parameter"},
	}
}

// put is one request received by a responseServer.
type put struct {
	method string
	header http.Header
	length int64
	body   []byte
}

// responseServer stands for CloudFormation's ResponseURL: it records every
// request and answers with status (200 by default).
type responseServer struct {
	*httptest.Server
	mu     sync.Mutex
	puts   []put
	status func(n int) int // status of the n-th request, from 1
}

// newResponseServer starts a responseServer closed when the test ends.
func newResponseServer(t *testing.T) *responseServer {
	t.Helper()
	s := &responseServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.puts = append(s.puts, put{method: r.Method, header: r.Header.Clone(),
			length: r.ContentLength, body: body})
		n := len(s.puts)
		status := s.status
		s.mu.Unlock()
		code := http.StatusOK
		if status != nil {
			code = status(n)
		}
		if code >= 300 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, "<Error><Code>SignatureDoesNotMatch</Code>"+
				"<CanonicalRequest>PUT "+r.URL.RequestURI()+"</CanonicalRequest></Error>")
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

// received returns the requests received so far.
func (s *responseServer) received() []put {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]put(nil), s.puts...)
}

// answer returns the one response received, failing the test unless exactly
// one arrived.
func (s *responseServer) answer(t *testing.T) cfn.Response {
	t.Helper()
	puts := s.received()
	if len(puts) != 1 {
		t.Fatalf("got %d responses, want 1", len(puts))
	}
	var r cfn.Response
	if err := json.Unmarshal(puts[0].body, &r); err != nil {
		t.Fatalf("decoding response %q: %v", puts[0].body, err)
	}
	return r
}

// signedURL returns a URL on s shaped like a pre-signed S3 URL.
func (s *responseServer) signedURL() string {
	return s.URL + "/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/s/1%7CRepo%7Creq" +
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSECRETCRED%2F20240101%2Fus-east-1" +
		"%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Expires=7200" +
		"&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdefsignature"
}

// loadEvent reads a file of events/ into the type Handle takes.
func loadEvent(t *testing.T, name string) cfn.Event {
	t.Helper()
	// CloudFormation sends ServiceToken at the top level too; cfn.Event
	// leaves it out.
	type request struct {
		cfn.Event
		ServiceToken string `json:"ServiceToken"`
	}
	return testsupport.Event[request](t, name).Event
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newLogger returns a JSON logger at DEBUG writing to a new logBuffer.
func newLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}
