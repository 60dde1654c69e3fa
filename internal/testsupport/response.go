package testsupport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// Request is one request a ResponseServer received.
type Request struct {
	Method string
	Path   string // with the raw query, as a pre-signed URL carries it
	Header http.Header
	Body   []byte

	// Status is what the server answered: 200 when no fault applied, the
	// fault's status, or 0 when the fault answered nothing (Reset, Hang).
	Status int
}

// ResponseServer stands in for the pre-signed S3 URL a CloudFormation custom
// resource answers to. It records every request and answers 200 with an
// empty body, unless a fault set with Fail applies. It is safe for concurrent
// use.
type ResponseServer struct {
	// URL is the server's base URL; any path under it is accepted.
	URL string

	srv    *httptest.Server
	closed chan struct{}

	mu       sync.Mutex
	requests []Request
	faults   faultQueue
	arrived  chan struct{} // closed and replaced on every request
}

// NewResponseServer starts a ResponseServer and closes it when the test ends.
func NewResponseServer(t testing.TB) *ResponseServer {
	t.Helper()
	s := &ResponseServer{closed: make(chan struct{}), arrived: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.closed)
		s.srv.Close()
	})
	return s
}

// serve records a request and answers it.
func (s *ResponseServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}

	s.mu.Lock()
	fault, faulted := s.faults.next()
	s.mu.Unlock()

	req.Status = http.StatusOK
	if faulted {
		switch fault.kind {
		case faultStatus, faultAPIError:
			req.Status = fault.status
		case faultReset, faultHang:
			req.Status = 0
		}
	}
	// Record before answering, so a client that has its answer finds its
	// request recorded.
	s.add(req)

	if faulted && fault.apply(w, r, localrun.ProtocolS3, s.closed) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

// add records req and wakes Wait.
func (s *ResponseServer) add(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// Fail applies f to the next n requests, after any faults already waiting; n
// of Always applies it to every request. Status(500), Status(403), Reset,
// Hang and Delay(d) are the faults a response URL meets.
func (s *ResponseServer) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.add(n, f)
}

// Requests returns the requests received so far, faulted ones included, in
// order of arrival.
func (s *ResponseServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Answered returns the requests answered with 200, in order of arrival.
func (s *ResponseServer) Answered() []Request {
	var ok []Request
	for _, r := range s.Requests() {
		if r.Status == http.StatusOK {
			ok = append(ok, r)
		}
	}
	return ok
}

// Wait blocks until at least n requests have arrived or ctx ends, and
// returns the requests received.
func (s *ResponseServer) Wait(ctx context.Context, n int) []Request {
	for {
		s.mu.Lock()
		got, arrived := len(s.requests), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Requests()
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return s.Requests()
		}
	}
}
