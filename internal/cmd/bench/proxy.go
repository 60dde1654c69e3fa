package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// maxRequestBody bounds how much of a DescribeImageScanFindings request body
// the proxy reads.
const maxRequestBody = 8 << 20

// proxy is a localrun.Proxy in front of moto that records the operation of
// every request it receives (e.g. "ECR.DescribeRepositories", "SNS.Publish").
// When told to, it answers ECR DescribeImageScanFindings itself with
// generated pages, because moto lists one finding per scan. Without a target
// it answers everything else with 502 after recording it, which suits a check
// that nothing calls at all; it also records CONNECT requests, so it can
// stand in as HTTPS_PROXY.
type proxy struct {
	*localrun.Proxy

	mu       sync.Mutex
	findings int // generated findings in all; 0: forward to the target
}

// startProxy starts a proxy in front of target, "" for none, on a free
// loopback port.
func startProxy(target string) (*proxy, error) {
	p := &proxy{}
	rec, err := localrun.StartProxy(target, p.intercept)
	if err != nil {
		return nil, err
	}
	p.Proxy = rec
	return p, nil
}

// intercept answers DescribeImageScanFindings with a generated page when the
// proxy generates findings, and reports whether it did.
func (p *proxy) intercept(w http.ResponseWriter, r *http.Request, op string,
	_ localrun.Protocol) bool {
	if op != "ECR.DescribeImageScanFindings" {
		return false
	}
	p.mu.Lock()
	total := p.findings
	p.mu.Unlock()
	if total == 0 {
		return false
	}
	servePage(w, r, total)
	return true
}

// generate makes the proxy answer DescribeImageScanFindings with n generated
// findings, in pages of findingsPage; 0 forwards it again.
func (p *proxy) generate(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.findings = n
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
