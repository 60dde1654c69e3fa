package testsupport

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// maxFormBody bounds how much of a query-protocol request body the proxy
// reads to find the Action.
const maxFormBody = 8 << 20

// Always, as the n of Fail, applies a fault to every call until Reset.
const Always = -1

// Proxy is an HTTP reverse proxy in front of an AWS endpoint (moto) that
// records the operation of every request it receives and can answer chosen
// operations with faults instead of forwarding them. Operations are named
// "Service.Operation", e.g. "ECR.DescribeRepositories", "SSM.GetParameter",
// "SNS.Publish", "SQS.ReceiveMessage", "EventBridge.PutEvents",
// "S3.PutObject". Each attempt the SDK makes is a call of its own, so a
// retried operation is recorded once per attempt. It is safe for concurrent
// use.
type Proxy struct {
	// URL is the proxy's base URL, to be used as the SDK's endpoint.
	URL string

	srv    *httptest.Server
	closed chan struct{} // closed when the test ends, to end hangs and delays

	mu     sync.Mutex
	calls  []string
	faults map[string][]*pending
}

// pending is a fault waiting for calls of an operation.
type pending struct {
	fault Fault
	left  int // calls still to fault; Always: every call
}

// NewProxy starts a proxy in front of target, e.g. Moto(t).URL, and closes it
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("parsing proxy target %q: %v", target, err)
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	p := &Proxy{closed: make(chan struct{}), faults: map[string][]*pending{}}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, proto := identify(r)
		if f, ok := p.record(op); ok && f.apply(w, r, proto, p.closed) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	p.URL = p.srv.URL

	t.Cleanup(func() {
		close(p.closed)
		p.srv.Close()
		transport.CloseIdleConnections()
	})
	return p
}

// record notes a call of op and returns the fault to apply to it, if any.
func (p *Proxy) record(op string) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op)

	queue := p.faults[op]
	if len(queue) == 0 {
		return Fault{}, false
	}
	head := queue[0]
	if head.left > 0 {
		head.left--
		if head.left == 0 {
			p.faults[op] = queue[1:]
		}
	}
	return head.fault, true
}

// Fail applies f to the next n calls of op, after any faults already waiting
// for op; n of Always applies it to every call until Reset.
func (p *Proxy) Fail(op string, n int, f Fault) {
	if n == 0 {
		return
	}
	if n < 0 {
		n = Always
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = append(p.faults[op], &pending{fault: f, left: n})
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

// Reset forgets the calls received and the faults still waiting.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
	clear(p.faults)
}

// Services by SigV4 signing name, as operation names spell them.
var services = map[string]string{
	"cloudformation": "CloudFormation",
	"ecr":            "ECR",
	"events":         "EventBridge",
	"iam":            "IAM",
	"inspector2":     "Inspector2",
	"kms":            "KMS",
	"lambda":         "Lambda",
	"logs":           "CloudWatchLogs",
	"s3":             "S3",
	"sns":            "SNS",
	"sqs":            "SQS",
	"ssm":            "SSM",
	"sts":            "STS",
}

// Services by X-Amz-Target prefix, for JSON protocols.
var targets = map[string]string{
	"AmazonEC2ContainerRegistry_V20150921": "ECR",
	"AmazonSSM":                            "SSM",
	"AmazonSQS":                            "SQS",
	"AWSEvents":                            "EventBridge",
	"Logs_20140328":                        "CloudWatchLogs",
	"TrentService":                         "KMS",
}

// identify returns the operation of an AWS request, "Service.Operation", and
// its protocol. A query-protocol body is read and put back.
func identify(r *http.Request) (string, protocol) {
	scope := signingName(r)
	service := services[scope]
	if service == "" {
		service = scope
	}

	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := strings.Cut(target, ".")
		if !ok {
			return service + "." + target, protocolJSON
		}
		if s, ok := targets[prefix]; ok {
			service = s
		} else if service == "" {
			service = prefix
		}
		return service + "." + op, protocolJSON
	}

	if action := queryAction(r); action != "" {
		return service + "." + action, protocolQuery
	}

	if scope == "s3" {
		return "S3." + s3Operation(r), protocolS3
	}
	if service == "" {
		service = "unknown"
	}
	return service + "." + r.Method + " " + r.URL.Path, protocolJSON
}

// signingName returns the service of the SigV4 credential scope, from the
// Authorization header or, for a pre-signed URL, the X-Amz-Credential query
// parameter; "" when the request is not signed.
func signingName(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	// AKID/date/region/service/aws4_request
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// queryAction returns the Action of a query-protocol request, reading a form
// body and putting it back for the proxy to forward.
func queryAction(r *http.Request) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	form := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	if r.Body == nil || !form {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return ""
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return values.Get("Action")
}

// s3Operation names the S3 operation of a path-style request, for the few
// operations tests use; others are named by method and path.
func s3Operation(r *http.Request) string {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	sub := ""
	subresources := []string{"policy", "tagging", "acl", "versioning", "uploads", "uploadId", "delete"}
	for _, s := range subresources {
		if q.Has(s) {
			sub = s
			break
		}
	}
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key == "" && sub == "":
		switch r.Method {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodGet:
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		}
	case key != "" && sub == "":
		switch r.Method {
		case http.MethodPut:
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return "CopyObject"
			}
			return "PutObject"
		case http.MethodGet:
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodDelete:
			return "DeleteObject"
		}
	}
	return r.Method + " " + r.URL.Path
}
