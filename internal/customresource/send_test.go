package customresource

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// secrets returns the parts of a signed URL that must never be logged or
// returned.
func secrets(t *testing.T, raw string) []string {
	t.Helper()
	out := []string{raw}
	if _, query, ok := strings.Cut(raw, "?"); ok {
		out = append(out, query)
		for _, kv := range strings.Split(query, "&") {
			if k, v, _ := strings.Cut(kv, "="); k == "X-Amz-Signature" || k == "X-Amz-Credential" {
				out = append(out, v)
				if u, err := url.QueryUnescape(v); err == nil {
					out = append(out, u)
				}
			}
		}
	}
	return out
}

// assertNoSecret fails the test if text holds any part of secret.
func assertNoSecret(t *testing.T, what, text string, secret []string) {
	t.Helper()
	for _, s := range secret {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains %q:\n%s", what, s, text)
		}
	}
}

func TestResponseRequest(t *testing.T) {
	srv := newResponseServer(t)
	h, _ := newHandler(&fakeCore{}, Options{})
	ev := loadEvent(t, "ensure-repo-create.json")
	ev.ResponseURL = srv.signedURL()
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("got %d requests, want 1", len(got))
	}
	p := got[0]
	if p.method != http.MethodPut {
		t.Errorf("got method %s, want PUT", p.method)
	}
	if ct, ok := p.header["Content-Type"]; ok {
		t.Errorf("got Content-Type %q, want none", ct)
	}
	if p.length != int64(len(p.body)) || p.header.Get("Content-Length") != strconv.Itoa(len(p.body)) {
		t.Errorf("got Content-Length %d (header %q), want %d", p.length,
			p.header.Get("Content-Length"), len(p.body))
	}
	if p.header.Get("Transfer-Encoding") != "" {
		t.Errorf("got Transfer-Encoding %q, want none", p.header.Get("Transfer-Encoding"))
	}
}

func TestResponseSize(t *testing.T) {
	head := `creating ECR repository "example-team/example-app": `
	root := `api error AccessDeniedException: not authorized to perform ecr:CreateRepository`
	tests := []struct {
		name   string
		middle string
	}{
		{"ascii", strings.Repeat("x", 100_000)},
		{"escaped", strings.Repeat("\"<&>\x01\\", 20_000)},
		{"multibyte", strings.Repeat("é€😀", 20_000)},
		{"newlines", strings.Repeat("line\n", 20_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponseServer(t)
			huge := errors.New(head + tt.middle + root)
			h, _ := newHandler(&fakeCore{ensure: fails(huge)}, Options{})
			ev := loadEvent(t, "ensure-repo-create.json")
			ev.ResponseURL = srv.signedURL()
			if _, err := h.Handle(context.Background(), ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			body := srv.received()[0].body
			if len(body) > MaxResponseBytes {
				t.Errorf("got %d bytes, want at most %d", len(body), MaxResponseBytes)
			}
			if len(body) < MaxResponseBytes-200 {
				t.Errorf("got %d bytes, want the reason to use the room up to %d", len(body),
					MaxResponseBytes)
			}
			r := srv.answer(t)
			if !json.Valid(body) || r.Status != cfn.StatusFailed {
				t.Fatalf("got %s, want a valid FAILED response", body)
			}
			for _, want := range []string{head, root + suffix, " bytes cut ...] "} {
				if !strings.Contains(r.Reason, want) {
					t.Errorf("got reason %q, want it to contain %q", r.Reason, want)
				}
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"fits", "short", 5, "short"},
		{"head and tail", strings.Repeat("a", 50) + strings.Repeat("b", 100), 60,
			strings.Repeat("a", 11) + " [... 115 bytes cut ...] " + strings.Repeat("b", 24)},
		{"tiny room keeps the tail", "abcdefghijklmnopqrstuvwxyz", 5, "vwxyz"},
		{"no room", "abc", 0, ""},
		{"rune boundaries", strings.Repeat("é", 40), 40,
			"éé [... 64 bytes cut ...] éééééé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.s, tt.n)
			if got != tt.want || len(got) > tt.n {
				t.Errorf("got %q (%d bytes), want %q", got, len(got), tt.want)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		status   func(n int) int
		attempts int
		err      string
	}{
		{"success", nil, 1, ""},
		{"500 then success", func(n int) int { return map[int]int{1: 500}[n] + 200*min(n-1, 1) }, 2, ""},
		{"always 500", func(int) int { return 500 }, DefaultAttempts,
			`answering CloudFormation for "ExampleRepository": putting response (attempt 4 of 4): ` +
				`status 500 (SignatureDoesNotMatch)`},
		{"always 403", func(int) int { return 403 }, DefaultAttempts,
			`answering CloudFormation for "ExampleRepository": putting response (attempt 4 of 4): ` +
				`status 403 (SignatureDoesNotMatch)`},
		{"400 is not retried", func(int) int { return 400 }, 1,
			`answering CloudFormation for "ExampleRepository": putting response (attempt 1 of 4): ` +
				`status 400 (SignatureDoesNotMatch)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponseServer(t)
			srv.status = tt.status
			h, logs := newHandler(&fakeCore{}, Options{Backoff: time.Millisecond})
			ev := loadEvent(t, "ensure-repo-create.json")
			ev.ResponseURL = srv.signedURL()
			_, err := h.Handle(context.Background(), ev)
			if got := len(srv.received()); got != tt.attempts {
				t.Errorf("got %d attempts, want %d", got, tt.attempts)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.err {
				t.Errorf("got error %q, want %q", gotErr, tt.err)
			}
			assertNoSecret(t, "logs", logs.String(), secrets(t, ev.ResponseURL))
			msg := `"answered cloudformation"`
			if tt.err != "" {
				msg = `"answering cloudformation"`
			}
			if !strings.Contains(logs.String(), msg) {
				t.Errorf("got logs without the outcome %s:\n%s", msg, logs)
			}
		})
	}
}

func TestRetryHang(t *testing.T) {
	var attempts atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	h, logs := newHandler(&fakeCore{}, Options{
		Backoff:    time.Millisecond,
		HTTPClient: &http.Client{Timeout: 20 * time.Millisecond},
	})
	ev := loadEvent(t, "ensure-repo-create.json")
	ev.ResponseURL = srv.URL + "/key?X-Amz-Signature=hangsecret&X-Amz-Credential=hangcred"
	_, err := h.Handle(context.Background(), ev)
	if err == nil {
		t.Fatal("got no error, want one")
	}
	if got := attempts.Load(); got != DefaultAttempts {
		t.Errorf("got %d attempts, want %d", got, DefaultAttempts)
	}
	want := `answering CloudFormation for "ExampleRepository": putting response (attempt 4 of 4): ` +
		`Put "` + srv.URL + `/[redacted]": context deadline exceeded ` +
		`(Client.Timeout exceeded while awaiting headers)`
	if err.Error() != want {
		t.Errorf("got error %q, want %q", err, want)
	}
	assertNoSecret(t, "error", err.Error(), secrets(t, ev.ResponseURL))
	assertNoSecret(t, "logs", logs.String(), secrets(t, ev.ResponseURL))
}

func TestResponseURLNeverLeaks(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		url  string
	}{
		{"connection refused", closed.URL + "/key?X-Amz-Signature=refusedsecret"},
		{"bad scheme", "ftp://bucket/key?X-Amz-Signature=ftpsecret"},
		{"unparsable", "https://bucket/%zz?X-Amz-Signature=parsesecret"},
		{"control character", "https://bucket/key\x7f?X-Amz-Signature=ctlsecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newHandler(&fakeCore{}, Options{Backoff: time.Millisecond})
			ev := loadEvent(t, "ensure-repo-create.json")
			ev.ResponseURL = tt.url
			_, err := h.Handle(context.Background(), ev)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			assertNoSecret(t, "error", err.Error(), secrets(t, tt.url))
			assertNoSecret(t, "logs", logs.String(), secrets(t, tt.url))
		})
	}
}

func TestPanic(t *testing.T) {
	srv := newResponseServer(t)
	core := &fakeCore{ensure: func(context.Context, reconcile.EnsureInput) (reconcile.Result, error) {
		panic("boom")
	}}
	h, logs := newHandler(core, Options{})
	ev := loadEvent(t, "ensure-repo-create.json")
	ev.ResponseURL = srv.signedURL()
	if _, err := h.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got := srv.answer(t)
	want := `internal error while ensuring repository "example-team/example-app": boom` + suffix
	if got.Status != cfn.StatusFailed || got.Reason != want ||
		got.PhysicalResourceID != MarkerID(ev.RequestID) {
		t.Errorf("got %s %q %q, want FAILED %q %q", got.Status, got.PhysicalResourceID, got.Reason,
			MarkerID(ev.RequestID), want)
	}
	if !strings.Contains(logs.String(), `"msg":"panic"`) {
		t.Errorf("got logs without the panic:\n%s", logs)
	}
}

func TestDeadline(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name   string
		ensure func(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error)
		reason string
	}{
		{
			name: "work returns when its context ends",
			ensure: func(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error) {
				<-ctx.Done()
				return reconcile.Result{}, errors.Join(
					errors.New(`creating ECR repository "example-team/example-app": `+
						`operation error ECR: CreateRepository`), ctx.Err())
			},
			reason: `timed out while ensuring repository "example-team/example-app": ` +
				`creating ECR repository "example-team/example-app": operation error ECR: ` +
				`CreateRepository; context deadline exceeded`,
		},
		{
			name: "work ignores its context",
			ensure: func(ctx context.Context, in reconcile.EnsureInput) (reconcile.Result, error) {
				<-block
				return reconcile.Result{}, nil
			},
			reason: `timed out while ensuring repository "example-team/example-app": ` +
				`context deadline exceeded`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var answered atomic.Int64
			srv := newResponseServer(t)
			srv.status = func(int) int {
				answered.Store(time.Now().UnixNano())
				return 200
			}
			h, _ := newHandler(&fakeCore{ensure: tt.ensure}, Options{})
			ev := loadEvent(t, "ensure-repo-create.json")
			ev.ResponseURL = srv.signedURL()
			deadline := time.Now().Add(900 * time.Millisecond)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()

			if _, err := h.Handle(ctx, ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got := srv.answer(t)
			if got.Status != cfn.StatusFailed || got.Reason != tt.reason+suffix {
				t.Errorf("got %s %q, want FAILED %q", got.Status, got.Reason, tt.reason+suffix)
			}
			if at := time.Unix(0, answered.Load()); !at.Before(deadline) {
				t.Errorf("got the answer %v after the deadline, want it before", at.Sub(deadline))
			}
		})
	}
}

func TestHandleJSON(t *testing.T) {
	tests := []struct {
		name   string
		raw    func(url string) string
		status cfn.StatusType
		id     string
		reason string
		err    string
	}{
		{
			name: "properties not an object",
			raw: func(u string) string {
				return `{"RequestType":"Create","RequestId":"r1","ResponseURL":"` + u +
					`","StackId":"s","LogicalResourceId":"Repo","ResourceProperties":"x"}`
			},
			status: cfn.StatusFailed,
			id:     MarkerID("r1"),
			reason: "ResourceProperties: must be an object" + suffix,
		},
		{
			name: "request id not a string",
			raw: func(u string) string {
				return `{"RequestType":"Update","RequestId":7,"ResponseURL":"` + u +
					`","PhysicalResourceId":"app","ResourceProperties":{"RepositoryName":"app"}}`
			},
			status: cfn.StatusFailed,
			id:     "app",
			reason: "RequestId: must be a string" + suffix,
		},
		{
			name: "no response url",
			raw: func(string) string {
				return `{"RequestType":"Create","RequestId":"r1","ResourceProperties":{}}`
			},
			err: "reading custom resource request: ResponseURL is missing",
		},
		{
			name: "response url not a string",
			raw: func(string) string {
				return `{"RequestType":"Create","ResponseURL":1,"ResourceProperties":1}`
			},
			err: "reading custom resource request: ResponseURL is missing or not a string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponseServer(t)
			h, _ := newHandler(&fakeCore{}, Options{})
			_, err := h.HandleJSON(context.Background(), []byte(tt.raw(srv.signedURL())))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("got error %v, want %q", err, tt.err)
				}
				if n := len(srv.received()); n != 0 {
					t.Errorf("got %d responses, want none", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("HandleJSON: %v", err)
			}
			got := srv.answer(t)
			if got.Status != tt.status || got.PhysicalResourceID != tt.id || got.Reason != tt.reason {
				t.Errorf("got %s %q %q, want %s %q %q", got.Status, got.PhysicalResourceID,
					got.Reason, tt.status, tt.id, tt.reason)
			}
		})
	}
}

func TestResponseServerFaults(t *testing.T) {
	tests := []struct {
		name     string
		fault    testsupport.Fault
		n        int // faulted requests; testsupport.Always for all
		requests int
		answered int
		err      string
	}{
		{"500 once", testsupport.Status(500), 1, 2, 1, ""},
		{"reset once", testsupport.Reset, 1, 2, 1, ""},
		{"500 always", testsupport.Status(500), testsupport.Always, DefaultAttempts, 0,
			"putting response (attempt 4 of 4): status 500"},
		{"403 always", testsupport.Status(403), testsupport.Always, DefaultAttempts, 0,
			"putting response (attempt 4 of 4): status 403"},
		{"hang always", testsupport.Hang, testsupport.Always, DefaultAttempts, 0,
			"putting response (attempt 4 of 4): Put"},
		{"reset always", testsupport.Reset, testsupport.Always, DefaultAttempts, 0,
			"putting response (attempt 4 of 4): Put"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testsupport.NewResponseServer(t)
			srv.Fail(tt.n, tt.fault)
			h, logs := newHandler(&fakeCore{}, Options{
				Backoff:    time.Millisecond,
				HTTPClient: &http.Client{Timeout: 100 * time.Millisecond},
			})
			ev := loadEvent(t, "ensure-repo-create.json")
			ev.ResponseURL = srv.URL + "/bucket/key?X-Amz-Signature=faultsecret&X-Amz-Credential=faultcred"
			_, err := h.Handle(context.Background(), ev)
			if got := len(srv.Requests()); got != tt.requests {
				t.Errorf("got %d requests, want %d", got, tt.requests)
			}
			if got := len(srv.Answered()); got != tt.answered {
				t.Errorf("got %d answered, want %d", got, tt.answered)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("got error %v, want one containing %q", err, tt.err)
			}
			if err != nil {
				assertNoSecret(t, "error", err.Error(), secrets(t, ev.ResponseURL))
			}
			assertNoSecret(t, "logs", logs.String(), secrets(t, ev.ResponseURL))
			for _, r := range srv.Requests() {
				if _, ok := r.Header["Content-Type"]; ok || r.Method != http.MethodPut {
					t.Errorf("got %s with Content-Type %q, want PUT without", r.Method,
						r.Header.Get("Content-Type"))
				}
			}
		})
	}
}
