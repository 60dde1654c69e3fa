package frontdoor

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
)

// benchCore is a reconcile core that does no work, so that a benchmark of
// the handler measures the doors: telling the event's kind, decoding it and
// validating the request, and building the answer.
type benchCore struct{}

// Ensure reports an adopted repository without changes.
func (benchCore) Ensure(_ context.Context, in reconcile.EnsureInput) (reconcile.Result, error) {
	return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName,
		URI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + in.Want.Name}, nil
}

// Delete reports a released repository.
func (benchCore) Delete(context.Context, reconcile.DeleteInput) (reconcile.DeleteResult, error) {
	return reconcile.DeleteResult{Released: true}, nil
}

// RemoveParameter reports that nothing was removed.
func (benchCore) RemoveParameter(context.Context, string, string) (bool, error) {
	return false, nil
}

// okTransport answers every request with 200 and an empty body, standing in
// for the pre-signed ResponseURL.
type okTransport struct{}

// RoundTrip answers req with 200.
func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// BenchmarkHandle measures the handler on the samples in events/, from raw
// JSON to the answer, with a core and a ResponseURL that do no work.
func BenchmarkHandle(b *testing.B) {
	cfg := Config{ParameterPrefix: "/ecr/repositories", RequestSource: "platform.self-service"}
	h := NewHandler(benchCore{}, cfg, nil, &http.Client{Transport: okTransport{}})
	for _, c := range []struct{ name, file string }{
		{"door=custom-resource", "ensure-repo-create.json"},
		{"door=self-service", "ensure-repo-self-service.json"},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", c.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			if _, err := h(ctx, raw); err != nil {
				b.Fatalf("got error %v, want none", err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := h(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
