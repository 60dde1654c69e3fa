package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxRequestBody bounds how much of a request body the proxy reads to name
// its operation.
const maxRequestBody = 8 << 20

// proxy is an HTTP reverse proxy in front of moto that records the operation
// of every request it receives, named "Service.Operation" (e.g.
// "ECR.DescribeRepositories", "SSM.GetParameter", "SNS.Publish"). When told
// to, it answers ECR DescribeImageScanFindings itself with generated pages,
// because moto lists one finding per scan. Without a target it answers
// everything with 502 after recording it, which suits a check that nothing
// calls at all; it also records CONNECT requests, so it can stand in as
// HTTPS_PROXY.
type proxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:PORT.
	URL string

	srv       *http.Server
	transport *http.Transport

	mu       sync.Mutex
	calls    []string
	findings int // generated findings in all; 0: forward to the target
}

// startProxy starts a proxy in front of target, "" for none, on a free
// loopback port.
func startProxy(target string) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting proxy: %w", err)
	}
	p := &proxy{URL: "http://" + l.Addr().String()}
	p.transport = http.DefaultTransport.(*http.Transport).Clone()
	p.transport.Proxy = nil

	var rp http.Handler
	if target != "" {
		u, err := url.Parse(target)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("starting proxy for %q: %w", target, err)
		}
		rp = &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
			Transport: p.transport,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			},
		}
	}

	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			op := operation(r)
			total := p.record(op)
			switch {
			case op == "ECR.DescribeImageScanFindings" && total > 0:
				servePage(w, r, total)
			case rp == nil:
				http.Error(w, "proxy: no target", http.StatusBadGateway)
			default:
				rp.ServeHTTP(w, r)
			}
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go p.srv.Serve(l)
	return p, nil
}

// Close stops the proxy.
func (p *proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		err = p.srv.Close()
	}
	p.transport.CloseIdleConnections()
	return err
}

// record notes a call of op and returns the number of findings to generate.
func (p *proxy) record(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op)
	return p.findings
}

// generate makes the proxy answer DescribeImageScanFindings with n generated
// findings, in pages of findingsPage; 0 forwards it again.
func (p *proxy) generate(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.findings = n
}

// Calls returns the operations received so far, in order of arrival.
func (p *proxy) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// Reset forgets the calls received.
func (p *proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// jsonTargets maps the X-Amz-Target prefixes of JSON protocols to service
// names.
var jsonTargets = map[string]string{
	"AmazonEC2ContainerRegistry_V20150921": "ECR",
	"AmazonSSM":                            "SSM",
	"AmazonSQS":                            "SQS",
	"AWSEvents":                            "EventBridge",
	"AWSSecurityTokenServiceV20110615":     "STS",
}

// signingNames maps SigV4 signing names to service names.
var signingNames = map[string]string{
	"ecr": "ECR", "ssm": "SSM", "sns": "SNS", "sqs": "SQS", "sts": "STS", "s3": "S3",
	"events": "EventBridge",
}

// operation names the AWS operation of r as "Service.Operation". A
// query-protocol body is read and put back for forwarding. Requests that are
// not AWS calls are named by method and URL, e.g. "CONNECT ecr.amazonaws.com:443".
func operation(r *http.Request) string {
	if r.Method == http.MethodConnect {
		return "CONNECT " + r.Host
	}
	service := signingNames[signingName(r.Header.Get("Authorization"))]

	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := strings.Cut(target, ".")
		if !ok {
			return orUnknown(service) + "." + target
		}
		if s, ok := jsonTargets[prefix]; ok {
			service = s
		} else if service == "" {
			service = prefix
		}
		return service + "." + op
	}
	if action := formAction(r); action != "" {
		return orUnknown(service) + "." + action
	}
	return orUnknown(service) + "." + r.Method + " " + r.URL.Path
}

// orUnknown returns s, or "unknown" when s is empty.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// signingName returns the service of a SigV4 Authorization header's
// credential scope, "" when there is none.
func signingName(auth string) string {
	_, after, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ := strings.Cut(after, ",")
	// AKID/date/region/service/aws4_request
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// formAction returns the Action of a query-protocol request, from the URL or
// a form body, which it reads and puts back.
func formAction(r *http.Request) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	ct := r.Header.Get("Content-Type")
	if r.Body == nil || !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return ""
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
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

// findingsPage is the number of findings per generated page, the most ECR
// returns per call.
const findingsPage = 1000

// severities are the severities generated findings cycle through.
var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}

// generatedCounts returns the findingSeverityCounts of total generated
// findings.
func generatedCounts(total int) map[string]int {
	counts := map[string]int{}
	for i := range severities {
		n := total / len(severities)
		if i < total%len(severities) {
			n++
		}
		if n > 0 {
			counts[severities[i]] = n
		}
	}
	return counts
}

// servePage answers a DescribeImageScanFindings request with the page of
// generated findings its nextToken asks for: findingsPage findings per page,
// total in all, each with a package, an installed version, a CVSS score and
// a description of a few hundred bytes, as basic scanning lists them.
func servePage(w http.ResponseWriter, r *http.Request, total int) {
	var in struct {
		RepositoryName string `json:"repositoryName"`
		RegistryID     string `json:"registryId"`
		ImageID        struct {
			ImageDigest string `json:"imageDigest"`
		} `json:"imageId"`
		NextToken string `json:"nextToken"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		http.Error(w, "proxy: reading DescribeImageScanFindings: "+err.Error(),
			http.StatusBadRequest)
		return
	}
	page := 0
	if in.NextToken != "" {
		if page, err = strconv.Atoi(in.NextToken); err != nil || page < 0 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"__type":"InvalidParameterException",`+
				`"message":"invalid nextToken"}`)
			return
		}
	}

	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(findingsPageJSON(in.RegistryID, in.RepositoryName, in.ImageID.ImageDigest,
		page, total))
}

// findingsPageJSON returns the body of page (from 0) of total generated
// findings.
func findingsPageJSON(registry, repository, digest string, page, total int) []byte {
	if registry == "" {
		registry = "123456789012"
	}
	type attribute struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	type finding struct {
		Name        string      `json:"name"`
		Description string      `json:"description"`
		URI         string      `json:"uri"`
		Severity    string      `json:"severity"`
		Attributes  []attribute `json:"attributes"`
	}
	start := page * findingsPage
	end := min(start+findingsPage, total)
	findings := make([]finding, 0, max(end-start, 0))
	for i := start; i < end; i++ {
		id := fmt.Sprintf("CVE-2024-%05d", i)
		findings = append(findings, finding{
			Name: id,
			Description: "A flaw in package pkg-" + strconv.Itoa(i%997) + " lets a remote " +
				"attacker who sends a crafted request read memory out of bounds, which may " +
				"disclose information or crash the process. Upgrade to a fixed version.",
			URI:      "https://nvd.nist.gov/vuln/detail/" + id,
			Severity: severities[i%len(severities)],
			Attributes: []attribute{
				{Key: "package_name", Value: "pkg-" + strconv.Itoa(i%997)},
				{Key: "package_version", Value: "1." + strconv.Itoa(i%13) + "." + strconv.Itoa(i%7)},
				{Key: "CVSS2_VECTOR", Value: "AV:N/AC:L/Au:N/C:P/I:N/A:P"},
				{Key: "CVSS2_SCORE", Value: strconv.FormatFloat(float64(i%100)/10, 'f', 1, 64)},
			},
		})
	}
	out := map[string]any{
		"registryId":     registry,
		"repositoryName": repository,
		"imageId":        map[string]string{"imageDigest": digest},
		"imageScanStatus": map[string]string{
			"status":      "COMPLETE",
			"description": "The scan was completed successfully.",
		},
		"imageScanFindings": map[string]any{
			"imageScanCompletedAt":         1.7040672e9,
			"vulnerabilitySourceUpdatedAt": 1.7040672e9,
			"findingSeverityCounts":        generatedCounts(total),
			"findings":                     findings,
		},
	}
	if end < total {
		out["nextToken"] = strconv.Itoa(page + 1)
	}
	b, _ := json.Marshal(out)
	return b
}
