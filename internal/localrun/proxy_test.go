package localrun

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestProxy(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("got "), b...))
	}))
	defer backend.Close()

	// intercept answers ListTopics itself and leaves the rest.
	intercept := func(w http.ResponseWriter, r *http.Request, op string, proto Protocol) bool {
		if op != "unknown.ListTopics" || proto != ProtocolQuery {
			return false
		}
		_, _ = io.WriteString(w, "intercepted")
		return true
	}

	tests := []struct {
		name       string
		target     string
		body       string
		wantStatus int
		wantBody   string
		wantCall   string
	}{
		{
			name: "forwards with the body", target: backend.URL, body: "Action=Publish",
			wantStatus: http.StatusOK, wantBody: "got Action=Publish", wantCall: "unknown.Publish",
		},
		{
			name: "intercepted", target: backend.URL, body: "Action=ListTopics",
			wantStatus: http.StatusOK, wantBody: "intercepted", wantCall: "unknown.ListTopics",
		},
		{
			name: "no target", target: "", body: "Action=Publish",
			wantStatus: http.StatusBadGateway, wantBody: "proxy: no target\n",
			wantCall: "unknown.Publish",
		},
		{
			name: "no target, intercepted", target: "", body: "Action=ListTopics",
			wantStatus: http.StatusOK, wantBody: "intercepted", wantCall: "unknown.ListTopics",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := StartProxy(tt.target, intercept)
			if err != nil {
				t.Fatalf("StartProxy: %v", err)
			}
			defer p.Close()

			for range 2 {
				req, err := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(tt.body))
				if err != nil {
					t.Fatalf("NewRequest: %v", err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("POST: %v", err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
					t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus,
						tt.wantBody)
				}
			}

			want := []string{tt.wantCall, tt.wantCall}
			if got := p.Calls(); !slices.Equal(got, want) {
				t.Errorf("got calls %q, want %q", got, want)
			}
			if got := p.Count(tt.wantCall); got != 2 {
				t.Errorf("got count %d, want 2", got)
			}
			if got := p.Counts(); len(got) != 1 || got[tt.wantCall] != 2 {
				t.Errorf("got counts %v, want %s: 2", got, tt.wantCall)
			}
			p.Reset()
			if got := p.Calls(); len(got) != 0 {
				t.Errorf("got calls %q after Reset, want none", got)
			}
		})
	}
}

func TestStartProxyBadTarget(t *testing.T) {
	_, err := StartProxy("http://[::1", nil)
	if err == nil || !strings.Contains(err.Error(), `starting proxy for "http://[::1"`) {
		t.Errorf("got %v, want an error naming the target", err)
	}
}
