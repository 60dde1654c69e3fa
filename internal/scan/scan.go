// Package scan turns the events that report container image scan results (ECR
// basic scanning, Inspector enhanced scanning and single Inspector findings)
// into one model, Scan, and defines the severities, counts and findings that
// the rest of the scan notifier works with.
//
// Reading is tolerant where AWS varies (counts that are {} or absent, tags
// that are empty or several, repository names given as ARNs, timestamps in
// several layouts) and strict where a wrong value would mislead: a scan event
// without a repository or digest is an error that names the field.
package scan

import (
	"cmp"
	"errors"
	"strings"
	"time"
)

// Kind tells basic scanning from enhanced (Inspector) scanning.
type Kind string

// The scanning kinds.
const (
	Basic    Kind = "basic"
	Enhanced Kind = "enhanced"
)

// Source names the kind of event a Scan was read from; its values are the
// events' detail-type.
type Source string

// The events Parse reads.
const (
	ImageScan        Source = "ECR Image Scan"
	InspectorScan    Source = "Inspector2 Scan"
	InspectorFinding Source = "Inspector2 Finding"
)

// The statuses that mark a scan that produced no findings list.
const (
	StatusFailed      = "FAILED"
	StatusUnsupported = "UNSUPPORTED_IMAGE"
)

// ErrIgnored is returned, wrapped, for events that are not image scan
// results: other ECR events, unknown detail-types and Inspector findings for
// resources other than ECR images. Callers acknowledge them without retrying.
var ErrIgnored = errors.New("not an image scan result")

// Scan is one image scan result, whichever event reported it.
type Scan struct {
	// Source is the event's detail-type.
	Source Source
	// EventID is the EventBridge event id, unique per event and kept across
	// redeliveries.
	EventID string
	// Kind is Basic for ECR Image Scan events and Enhanced for Inspector's.
	Kind Kind
	// Account and Region are the event's; RegistryID is the registry that
	// holds the repository, the account unless the event says otherwise.
	Account, Region, RegistryID string
	// Repository is the repository name, never its ARN.
	Repository string
	// Digest is the image digest, such as "sha256:...".
	Digest string
	// Tags holds the image's tags in the event's order without duplicates or
	// empty strings; it is empty for an untagged image.
	Tags []string
	// Status is the scan status as received, trimmed and in upper case:
	// COMPLETE or FAILED for basic scanning, INITIAL_SCAN_COMPLETE and others
	// for enhanced scanning, the finding's status (ACTIVE, SUPPRESSED,
	// CLOSED) for an Inspector2 Finding.
	Status string
	// Failed is set when the scan failed; Unsupported when the image cannot
	// be scanned. Neither carries findings or counts.
	Failed, Unsupported bool
	// Counts holds the findings per severity the event reports. For an
	// Inspector2 Finding it counts that one finding.
	Counts Counts
	// Finding is the one finding an Inspector2 Finding event carries, and nil
	// for scan events.
	Finding *Finding
	// Time is when the event was emitted, the zero time when it has none
	// that can be read.
	Time time.Time
}

// Ref names the image for people: "repository:tag" with the first tag, or
// "repository@sha256:0123456789ab" with a short digest when it is untagged.
func (s Scan) Ref() string {
	if len(s.Tags) > 0 {
		return s.Repository + ":" + s.Tags[0]
	}
	if s.Digest == "" {
		return s.Repository
	}
	return s.Repository + "@" + ShortDigest(s.Digest)
}

// ShortDigest shortens "sha256:<hex>" to the algorithm and its first 12
// digits, the way container tools print image ids.
func ShortDigest(digest string) string {
	algo, hex, ok := strings.Cut(digest, ":")
	if !ok || len(hex) <= 12 {
		return digest
	}
	return algo + ":" + hex[:12]
}

// Finding is one vulnerability in an image, from basic or enhanced scanning.
type Finding struct {
	// ID is the vulnerability id, such as a CVE id.
	ID string
	// Severity is the finding's severity; Undefined when unknown.
	Severity Severity
	// Score is the CVSS or Inspector score, 0 when unknown.
	Score float64
	// Package, Installed and FixedIn name the vulnerable package, its
	// installed version and the version that fixes it; each is empty when
	// unknown (FixedIn also when no fix exists).
	Package, Installed, FixedIn string
	// URI links to the vulnerability's description.
	URI string
	// Title and Description describe the vulnerability.
	Title, Description string
	// ARN is the Inspector finding's ARN, empty for basic findings.
	ARN string
}

// Compare orders findings for presentation: the more severe first, then the
// higher score, then by id, package and installed version, so the order is
// deterministic. It returns a negative number when a comes before b.
func Compare(a, b *Finding) int {
	// cmp.Compare orders a NaN score below every number, so a malformed score
	// cannot break the ordering.
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Package, b.Package); c != 0 {
		return c
	}
	return strings.Compare(a.Installed, b.Installed)
}

// FieldError reports a scan event that cannot be read, naming the field by
// its JSON path (such as "detail.image-digest") and what is wrong with it.
type FieldError struct {
	Field string
	Rule  string
}

// Error returns the field and the rule, such as
// "detail.image-digest: missing".
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Rule
}
