package testsupport

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestResponseServer(t *testing.T) {
	client := &http.Client{Timeout: 300 * time.Millisecond}

	tests := []struct {
		name       string
		faults     []Fault // one request each
		wantStatus []int   // what the client got per request, 0 for an error
	}{
		{name: "answers", wantStatus: []int{200}},
		{name: "500 then 200", faults: []Fault{Status(500)}, wantStatus: []int{500, 200}},
		{name: "403", faults: []Fault{Status(403)}, wantStatus: []int{403, 200}},
		{
			name:       "s3 error",
			faults:     []Fault{APIError(403, "AccessDenied", "Request has expired")},
			wantStatus: []int{403, 200},
		},
		{name: "hang", faults: []Fault{Hang}, wantStatus: []int{0, 200}},
		{name: "reset", faults: []Fault{Reset}, wantStatus: []int{0, 200}},
		{name: "delay", faults: []Fault{Delay(10 * time.Millisecond)}, wantStatus: []int{200, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewResponseServer(t)
			for _, f := range tt.faults {
				s.Fail(1, f)
			}
			var got []int
			for i := range tt.wantStatus {
				body := "body " + string(rune('a'+i))
				got = append(got, statusOf(t, client, http.MethodPut, s.URL+"/path?X-Amz-Signature=x", body))
			}
			if !slices.Equal(got, tt.wantStatus) {
				t.Errorf("got statuses %v, want %v", got, tt.wantStatus)
			}

			reqs := s.Requests()
			if len(reqs) != len(tt.wantStatus) {
				t.Fatalf("got %d requests, want %d", len(reqs), len(tt.wantStatus))
			}
			for i, r := range reqs {
				if r.Method != http.MethodPut || r.Path != "/path?X-Amz-Signature=x" {
					t.Errorf("got %s %s, want PUT /path?X-Amz-Signature=x", r.Method, r.Path)
				}
				if want := "body " + string(rune('a'+i)); string(r.Body) != want {
					t.Errorf("got body %q, want %q", r.Body, want)
				}
				if r.Status != tt.wantStatus[i] {
					t.Errorf("got recorded status %d, want %d", r.Status, tt.wantStatus[i])
				}
			}
			want := 0
			for _, st := range tt.wantStatus {
				if st == http.StatusOK {
					want++
				}
			}
			if got := s.Answered(); len(got) != want {
				t.Errorf("got %d answered requests, want %d", len(got), want)
			}
		})
	}
}

func TestResponseServerHeadersAndWait(t *testing.T) {
	s := NewResponseServer(t)
	go func() {
		req, _ := http.NewRequest(http.MethodPut, s.URL+"/r", strings.NewReader(`{"Status":"SUCCESS"}`))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reqs := s.Wait(ctx, 1)
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	if got := reqs[0].Header.Get("Content-Length"); got != "20" {
		t.Errorf("got Content-Length %q, want 20", got)
	}
	if _, ok := reqs[0].Header["Content-Type"]; ok {
		t.Errorf("got Content-Type %q, want none", reqs[0].Header.Get("Content-Type"))
	}

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if got := s.Wait(short, 2); len(got) != 1 {
		t.Errorf("got %d requests after Wait timed out, want 1", len(got))
	}
}

// statusOf returns the status of a plain HTTP request to url, or 0 on error.
func statusOf(t *testing.T, client *http.Client, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
