package testsupport

import (
	"net/http"
	"sync"
	"testing"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// Always, as the n of Fail, applies a fault to every call until Reset.
const Always = -1

// Proxy is an HTTP reverse proxy in front of an AWS endpoint (moto) that
// records the operation of every request it receives and can answer chosen
// operations with faults instead of forwarding them. Operations are named
// "Service.Operation", e.g. "ECR.DescribeRepositories", "SSM.GetParameter",
// "SNS.Publish", "SQS.ReceiveMessage", "EventBridge.PutEvents",
// "S3.PutObject" (see localrun.Operation). Each attempt the SDK makes is a
// call of its own, so a retried operation is recorded once per attempt. It is
// safe for concurrent use.
type Proxy struct {
	// URL is the proxy's base URL, to be used as the SDK's endpoint.
	URL string

	rec    *localrun.Proxy
	closed chan struct{} // closed when the test ends, to end hangs and delays

	mu     sync.Mutex
	faults map[string]faultQueue
}

// NewProxy starts a proxy in front of target, e.g. Moto(t).URL, and closes it
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{closed: make(chan struct{}), faults: map[string]faultQueue{}}
	rec, err := localrun.StartProxy(target, p.intercept)
	if err != nil {
		t.Fatalf("%v", err)
	}
	p.rec, p.URL = rec, rec.URL

	t.Cleanup(func() {
		close(p.closed)
		p.rec.Close()
	})
	return p
}

// intercept applies the fault waiting for op, if any, and reports whether it
// answered the request.
func (p *Proxy) intercept(w http.ResponseWriter, r *http.Request, op string,
	proto localrun.Protocol) bool {
	p.mu.Lock()
	q := p.faults[op]
	f, ok := q.next()
	if ok {
		p.faults[op] = q
	}
	p.mu.Unlock()
	return ok && f.apply(w, r, proto, p.closed)
}

// Fail applies f to the next n calls of op, after any faults already waiting
// for op; n of Always applies it to every call until Reset.
func (p *Proxy) Fail(op string, n int, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.faults[op]
	q.add(n, f)
	p.faults[op] = q
}

// Calls returns the operations received so far, in order of arrival.
func (p *Proxy) Calls() []string {
	return p.rec.Calls()
}

// Count returns how many calls of op were received.
func (p *Proxy) Count(op string) int {
	return p.rec.Count(op)
}

// Counts returns the number of calls received per operation.
func (p *Proxy) Counts() map[string]int {
	return p.rec.Counts()
}

// Reset forgets the calls received and the faults still waiting.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rec.Reset()
	clear(p.faults)
}
