package localrun

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// proxyShutdownTimeout bounds how long Proxy.Close waits for requests in
// flight before it closes their connections.
const proxyShutdownTimeout = 2 * time.Second

// Interceptor sees each request a Proxy receives, after the Proxy has
// recorded it, with the operation and protocol Operation gives it. It reports
// whether it answered the request itself; false lets the Proxy forward it.
type Interceptor func(w http.ResponseWriter, r *http.Request, op string, proto Protocol) bool

// Proxy is an HTTP reverse proxy in front of an AWS endpoint (moto) that
// records the operation of every request it receives, as Operation names it.
// Each attempt an SDK makes is a request of its own, so a retried operation
// is recorded once per attempt. It is safe for concurrent use.
type Proxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:PORT, to be used as the
	// SDK's endpoint.
	URL string

	srv       *http.Server
	transport *http.Transport

	mu    sync.Mutex
	calls []string
}

// StartProxy starts a Proxy in front of target, e.g. Moto.URL, on a free
// loopback port, and hands every request to intercept, if not nil, before
// forwarding it. With target "" the proxy forwards nothing and answers 502
// to what intercept leaves; since it records CONNECT requests too, it can
// then stand in as HTTPS_PROXY to show that a program calls nothing at all.
func StartProxy(target string, intercept Interceptor) (*Proxy, error) {
	var forward http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "proxy: no target", http.StatusBadGateway)
	})
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	if target != "" {
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("starting proxy for %q: %w", target, err)
		}
		forward = &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
			Transport: transport,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			},
		}
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting proxy for %q: %w", target, err)
	}
	p := &Proxy{URL: "http://" + l.Addr().String(), transport: transport}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			op, proto := Operation(r)
			p.record(op)
			if intercept != nil && intercept(w, r, op, proto) {
				return
			}
			forward.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go p.srv.Serve(l)
	return p, nil
}

// Close stops the proxy. It waits a little for requests in flight, then
// closes their connections.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), proxyShutdownTimeout)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		err = p.srv.Close()
	}
	p.transport.CloseIdleConnections()
	return err
}

// record notes a call of op.
func (p *Proxy) record(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op)
}

// Calls returns the operations received so far, in order of arrival.
func (p *Proxy) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// Count returns how many calls of op were received.
func (p *Proxy) Count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c == op {
			n++
		}
	}
	return n
}

// Counts returns the number of calls received per operation.
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	counts := map[string]int{}
	for _, c := range p.calls {
		counts[c]++
	}
	return counts
}

// Reset forgets the calls received.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}
