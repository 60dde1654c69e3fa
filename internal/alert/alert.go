// Package alert renders a scan result as an SNS message that a person reads
// in an e-mail and a subscription can filter on: a short ASCII subject, a
// plain-text body with the worst findings first, and message attributes, the
// whole publish kept within SNS's size limit however many findings there are.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// The limits SNS sets on a publish.
const (
	// MaxPublishSize is the largest publish SNS accepts, in bytes: body,
	// subject and every attribute's name, type and value together.
	MaxPublishSize = 262144
	// MaxSubjectLen is the longest subject this package writes; SNS wants
	// fewer than 100 characters.
	MaxSubjectLen = 99
	// maxFIFOID is the longest message group or deduplication id.
	maxFIFOID = 128
)

// The names of the message attributes, for subscription filter policies.
const (
	AttrSeverity   = "severity"
	AttrRepository = "repository"
	AttrScanStatus = "scan_status"
	AttrCritical   = "critical"
	AttrHigh       = "high"
)

// The values of the severity attribute besides the severities' names.
const (
	// SeverityNone marks a scan without findings.
	SeverityNone = "NONE"
	// SeverityUnknown marks a scan whose findings are unknown, such as a
	// failed one.
	SeverityUnknown = "UNKNOWN"
)

// The data types of message attributes.
const (
	TypeString = "String"
	TypeNumber = "Number"
)

// Attribute is one SNS message attribute.
type Attribute struct {
	DataType    string
	StringValue string
}

// Message is one SNS publish.
type Message struct {
	// Subject is printable ASCII of at most MaxSubjectLen characters.
	Subject string
	// Body is plain text.
	Body string
	// Attributes are the message attributes, keyed by name.
	Attributes map[string]Attribute
	// GroupID and DeduplicationID are for FIFO topics: one group per
	// repository, and an id derived from the event so that a redelivered event
	// is not published twice. Both are at most 128 characters of printable
	// ASCII without spaces. A standard topic takes neither.
	GroupID, DeduplicationID string
}

// Size returns the bytes the message counts against MaxPublishSize.
func (m Message) Size() int {
	n := len(m.Subject) + len(m.Body)
	for name, a := range m.Attributes {
		n += len(name) + len(a.DataType) + len(a.StringValue)
	}
	return n
}

// Options carry what a message says besides the scan and its findings.
type Options struct {
	// MaxFindings is how many findings the body lists: 20 when zero or
	// less, and at most 1000.
	MaxFindings int
	// Suppressed is the number of findings left out by suppressions, and
	// SuppressedIDs their vulnerability ids.
	Suppressed    int
	SuppressedIDs []string
	// Reason is why a scan failed, as DescribeImageScanFindings describes
	// the scan status.
	Reason string
	// Notes are sentences the body adds, such as "findings not yet
	// available; counts from the event".
	Notes []string
	// Limit lowers the publish size the message must fit in; MaxPublishSize
	// when zero, and never above it.
	Limit int
}

// The defaults and bounds of Options.
const (
	defaultMaxFindings = 20
	maxMaxFindings     = 1000
)

// Render builds the message for a scan and its findings. Findings may come in
// any order and number: the body lists the worst MaxFindings of them, by
// severity then score, and says how many more there are; when that list would
// not fit in the size limit it is cut with a notice. The counts come from the
// scan or, when it reports none, from the findings. Render never fails: every
// text from the event is bounded and cleaned for the subject and body.
func Render(s scan.Scan, findings []scan.Finding, opts Options) Message {
	opts = normalise(opts)
	counts := s.Counts
	if !counts.Reported() && len(findings) > 0 {
		counts.MarkReported()
		for i := range findings {
			counts.Add(findings[i].Severity, 1)
		}
	}
	m := Message{
		Subject:         subject(s, counts),
		Attributes:      attributes(s, counts),
		GroupID:         groupID(s),
		DeduplicationID: deduplicationID(s),
	}
	m.Body = body(s, counts, findings, opts, opts.Limit-m.Size())
	return m
}

// normalise applies the defaults and bounds of opts.
func normalise(opts Options) Options {
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = defaultMaxFindings
	}
	opts.MaxFindings = min(opts.MaxFindings, maxMaxFindings)
	if opts.Limit <= 0 || opts.Limit > MaxPublishSize {
		opts.Limit = MaxPublishSize
	}
	return opts
}

// attributes returns the message attributes subscriptions filter on.
func attributes(s scan.Scan, counts scan.Counts) map[string]Attribute {
	critical, _ := counts.Get(scan.Critical)
	high, _ := counts.Get(scan.High)
	return map[string]Attribute{
		AttrSeverity:   {TypeString, severityValue(s, counts)},
		AttrRepository: {TypeString, orUnknown(oneLine(s.Repository, 256))},
		AttrScanStatus: {TypeString, orUnknown(oneLine(s.Status, 64))},
		AttrCritical:   {TypeNumber, strconv.Itoa(critical)},
		AttrHigh:       {TypeNumber, strconv.Itoa(high)},
	}
}

// severityValue is the severity attribute: the worst severity, NONE for a
// clean scan, UNKNOWN when the findings or their severity are unknown. An
// unrecognized severity is UNKNOWN too, so that filter policies meet no value
// besides the severities' names, NONE and UNKNOWN.
func severityValue(s scan.Scan, counts scan.Counts) string {
	if s.Finding != nil {
		if !s.Finding.Severity.Valid() {
			return SeverityUnknown
		}
		return s.Finding.Severity.String()
	}
	if s.Failed || s.Unsupported || !counts.Reported() {
		return SeverityUnknown
	}
	if worst, ok := counts.Worst(); ok {
		return worst.String()
	}
	if counts.Total() > 0 {
		return SeverityUnknown
	}
	return SeverityNone
}

// orUnknown returns s, or "unknown" when it is empty: SNS refuses empty
// attribute values.
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// fifoID matches what SNS accepts as a message group or deduplication id.
var fifoID = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)

// groupID returns the FIFO message group: the repository, or a shortened form
// with a hash when it is too long.
func groupID(s scan.Scan) string {
	name := s.Repository
	if name == "" {
		name = "unknown"
	}
	if fifoID.MatchString(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	prefix := ascii(name)
	prefix = prefix[:min(len(prefix), maxFIFOID-17)]
	for i := range len(prefix) {
		if prefix[i] == ' ' {
			prefix = prefix[:i]
			break
		}
	}
	return prefix + "-" + hex.EncodeToString(sum[:8])
}

// deduplicationID returns the FIFO deduplication id: the event id when SNS
// accepts it, otherwise a hash of it, or of the scan's identity when the
// event has no id.
func deduplicationID(s scan.Scan) string {
	if fifoID.MatchString(s.EventID) {
		return s.EventID
	}
	key := s.EventID
	if key == "" {
		key = string(s.Source) + "\x00" + s.RegistryID + "\x00" + s.Repository + "\x00" +
			s.Digest + "\x00" + s.Status + "\x00" + s.Time.String()
		if s.Finding != nil {
			key += "\x00" + s.Finding.ARN + "\x00" + s.Finding.ID
		}
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
