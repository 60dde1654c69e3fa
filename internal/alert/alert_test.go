package alert

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// update rewrites the golden files instead of comparing with them.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// parseSample reads an event sample from testdata into a Scan.
func parseSample(t testing.TB, name string) scan.Scan {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := scan.Parse(raw)
	if err != nil {
		t.Fatalf("parsing %s: %v", name, err)
	}
	return s
}

// generate returns n findings with a spread of severities, scores, packages
// and fixes, the same on every run.
func generate(n int) []scan.Finding {
	r := rand.New(rand.NewPCG(1, 2))
	sevs := scan.Severities()
	out := make([]scan.Finding, n)
	for i := range out {
		id := fmt.Sprintf("CVE-20%02d-%05d", 10+r.IntN(15), r.IntN(100000))
		f := scan.Finding{
			ID:        id,
			Severity:  sevs[r.IntN(len(sevs))],
			Package:   fmt.Sprintf("package-%d", r.IntN(300)),
			Installed: fmt.Sprintf("%d.%d.%d-%d", r.IntN(4), r.IntN(20), r.IntN(10), r.IntN(5)),
			URI:       "https://nvd.nist.gov/vuln/detail/" + id,
		}
		if r.IntN(4) > 0 {
			f.Score = float64(r.IntN(100)) / 10
		}
		if r.IntN(2) == 0 {
			f.FixedIn = f.Installed + ".1"
		}
		out[i] = f
	}
	return out
}

// tally counts findings per severity, as an event reports them.
func tally(findings []scan.Finding) scan.Counts {
	var c scan.Counts
	c.MarkReported()
	for _, f := range findings {
		c.Add(f.Severity, 1)
	}
	return c
}

// renderCase is one message to render and check.
type renderCase struct {
	name     string
	s        scan.Scan
	findings []scan.Finding
	opts     Options
	// contains lists text the body must hold.
	contains []string
	subject  string
}

// renderCases returns the cases that have golden files.
func renderCases(t testing.TB) []renderCase {
	many := generate(40)
	manyScan := parseSample(t, "ecr-scan-complete-with-findings.json")
	manyScan.Counts = tally(many)

	failed := parseSample(t, "ecr-scan-failed.json")

	untagged := parseSample(t, "ecr-scan-complete-with-findings.json")
	untagged.Tags = nil
	untaggedFindings := generate(3)
	untagged.Counts = tally(untaggedFindings)

	tagged := parseSample(t, "ecr-scan-complete-with-findings.json")
	tagged.Tags = []string{"1.4.2", "1.4", "1", "latest", "stable"}
	taggedFindings := []scan.Finding{
		{ID: "CVE-2024-0001", Severity: scan.Critical, Score: 9.8, Package: "openssl",
			Installed: "3.0.11-1", FixedIn: "3.0.13-1",
			URI: "https://nvd.nist.gov/vuln/detail/CVE-2024-0001"},
	}
	tagged.Counts = tally(taggedFindings)

	enhanced := parseSample(t, "inspector2-scan-ecr.json")
	enhancedFindings := []scan.Finding{
		{ID: "CVE-0000-00001", Severity: scan.High, Score: 8.1, Package: "example-lib",
			Installed: "1.0.0-1", FixedIn: "NotAvailable", URI: "https://example.com/cve",
			Title: "CVE-0000-00001 - example-lib", Description: "Example vulnerability description.",
			ARN: "arn:aws:inspector2:us-east-1:123456789012:finding/00000000000000000000000000000001"},
		{ID: "CVE-0000-00002", Severity: scan.Critical, Score: 9.1, Package: "example-core",
			Installed: "2.1", FixedIn: "2.2", URI: "https://example.com/cve/2"},
		{ID: "CVE-0000-00003", Severity: scan.Critical, Score: 9.8, Package: "example-core",
			Installed: "2.1", FixedIn: "2.3", URI: "https://example.com/cve/3"},
		{ID: "CVE-0000-00004", Severity: scan.Medium, Package: "example-util",
			Installed: "0.9"},
	}

	suppressed := parseSample(t, "ecr-scan-complete-with-findings.json")
	suppressedFindings := generate(5)
	suppressed.Counts = tally(suppressedFindings)

	huge := generate(10000)
	for i := range huge {
		huge[i].URI += "?ref=" + strings.Repeat("x", 200)
	}
	hugeScan := parseSample(t, "inspector2-scan-ecr.json")
	hugeScan.Counts = tally(huge)

	notListed := parseSample(t, "inspector2-scan-ecr.json")

	long := parseSample(t, "ecr-scan-complete-with-findings.json")
	long.Repository = strings.Repeat("very-long-team-name/", 6) + "service"
	long.Tags = []string{"release-2024.01.01-" + strings.Repeat("abcdef", 10)}

	unsupported := parseSample(t, "ecr-scan-failed.json")
	unsupported.Status, unsupported.Failed, unsupported.Unsupported = "UNSUPPORTED_IMAGE", false, true

	unrecognized := parseSample(t, "ecr-scan-complete-with-findings.json")
	unrecognized.Tags = []string{"1.4.2", "latest"}
	unrecognizedFindings := []scan.Finding{
		{ID: "CVE-2024-0002", Severity: scan.High, Score: 7.5, Package: "zlib",
			Installed: "1.2.13", FixedIn: "1.3"},
		{ID: "CVE-2024-0003", Severity: scan.Unrecognized, Package: "zlib",
			Installed: "1.2.13"},
		{ID: "CVE-2024-0004", Severity: scan.Unrecognized},
	}
	unrecognized.Counts = tally(unrecognizedFindings)

	return []renderCase{
		{name: "many", s: manyScan, findings: many,
			contains: []string{"Top 20 of 40 findings", "... and 20 more"}},
		{name: "clean", s: parseSample(t, "ecr-scan-complete-zero-findings.json"),
			subject:  "No findings in example-team/example-app:1.0.0",
			contains: []string{"found no vulnerabilities", "Findings by severity: none"}},
		{name: "failed", s: failed,
			opts: Options{Reason: "UnsupportedImageError: The operating system and/or " +
				"package manager are not supported."},
			subject:  "Scan FAILED for example-team/example-app@sha256:111111111111",
			contains: []string{"Reason: UnsupportedImageError", "(untagged)"}},
		{name: "failed-without-reason", s: failed,
			contains: []string{"Reason: not given"}},
		{name: "unsupported", s: unsupported,
			subject: "Scan UNSUPPORTED_IMAGE for example-team/example-app@sha256:111111111111"},
		{name: "untagged", s: untagged, findings: untaggedFindings,
			contains: []string{"(untagged)", "@sha256:111111111111"}},
		{name: "several-tags", s: tagged, findings: taggedFindings,
			subject:  "1 CRITICAL in example-team/example-app:1.4.2 (+4 tags)",
			contains: []string{"1.4.2, 1.4, 1, latest, stable", "openssl 3.0.11-1 -> 3.0.13-1"}},
		{name: "enhanced", s: enhanced, findings: enhancedFindings,
			subject: "7 CRITICAL, 61 HIGH, 62 MEDIUM, 28 other in example-team/example-app:latest",
			contains: []string{"other", "total             158",
				"example-lib 1.0.0-1 (no fixed version listed)", "Top 4 of 158 findings"}},
		{name: "suppressed", s: suppressed, findings: suppressedFindings,
			opts: Options{Suppressed: 3, SuppressedIDs: []string{"CVE-2023-1234", "CVE-2024-9"}},
			contains: []string{"3 findings left out by suppressions, neither counted nor " +
				"listed: CVE-2023-1234, CVE-2024-9"}},
		{name: "truncated-10000", s: hugeScan, findings: huge,
			// A lower limit keeps the golden file small; the real limit is
			// checked by TestRenderFitsSNS.
			opts: Options{MaxFindings: 1000, Limit: 32 << 10},
			contains: []string{"Top 1000 of 10000 findings",
				"not listed to keep this message within the SNS size limit"}},
		{name: "not-listed", s: notListed,
			opts: Options{Notes: []string{"findings not yet available; counts from the event"}},
			contains: []string{"findings not yet available; counts from the event",
				"the findings are not listed here"}},
		{name: "inspector-finding", s: parseSample(t, "inspector2-finding-ecr.json"),
			subject: "MEDIUM CVE-0000-00001 in example-team/example-app:1.0.0",
			contains: []string{"Finding ARN:", "example-lib 1.0.0-1.example (no fixed version listed)",
				"Example vulnerability description."}},
		{name: "long-names", s: long, findings: generate(2)},
		{name: "unrecognized", s: unrecognized, findings: unrecognizedFindings,
			subject: "1 HIGH, 2 other in example-team/example-app:1.4.2 (+1 tag)",
			contains: []string{"found 3 vulnerabilities: 1 HIGH, 2 other.",
				"  other               2\n", "CVE-2024-0003  OTHER"}},
	}
}

// printableASCII matches a subject SNS accepts: printable ASCII that does not
// start with a space.
var printableASCII = regexp.MustCompile(`^[\x21-\x7e][\x20-\x7e]*$`)

// checkRules asserts the rules every message keeps, whatever its input.
func checkRules(t *testing.T, m Message, limit int) {
	t.Helper()
	if len(m.Subject) > MaxSubjectLen || !printableASCII.MatchString(m.Subject) {
		t.Errorf("subject %q (%d bytes): want printable ASCII, not starting with a space, "+
			"at most %d", m.Subject, len(m.Subject), MaxSubjectLen)
	}
	if size := m.Size(); size > limit {
		t.Errorf("got size %d, want at most %d", size, limit)
	}
	if !utf8.ValidString(m.Body) {
		t.Errorf("got a body that is not valid UTF-8")
	}
	for _, r := range m.Body {
		if r != '\n' && !bodyRune(r) {
			t.Errorf("got body character %U, want none outside text", r)
			break
		}
	}
	want := map[string]string{
		AttrSeverity: TypeString, AttrRepository: TypeString, AttrScanStatus: TypeString,
		AttrCritical: TypeNumber, AttrHigh: TypeNumber,
	}
	if len(m.Attributes) != len(want) {
		t.Errorf("got %d attributes, want %d", len(m.Attributes), len(want))
	}
	for name, typ := range want {
		a, ok := m.Attributes[name]
		if !ok || a.DataType != typ || a.StringValue == "" {
			t.Errorf("attribute %s: got %+v, want a non-empty %s", name, a, typ)
			continue
		}
		if typ == TypeNumber {
			if _, err := strconv.Atoi(a.StringValue); err != nil {
				t.Errorf("attribute %s: got %q, want a number", name, a.StringValue)
			}
		}
	}
	for name, id := range map[string]string{"group": m.GroupID, "deduplication": m.DeduplicationID} {
		if !fifoID.MatchString(id) {
			t.Errorf("%s id %q: want 1 to 128 printable ASCII characters without spaces", name, id)
		}
	}
}

// golden formats a message for its golden file.
func golden(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Subject: %s\n", m.Subject)
	names := make([]string, 0, len(m.Attributes))
	for name := range m.Attributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := m.Attributes[name]
		fmt.Fprintf(&b, "Attribute: %s (%s) = %s\n", name, a.DataType, a.StringValue)
	}
	fmt.Fprintf(&b, "GroupID: %s\nDeduplicationID: %s\nSize: %d\n\n%s", m.GroupID,
		m.DeduplicationID, m.Size(), m.Body)
	return b.String()
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range renderCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			m := Render(tt.s, tt.findings, tt.opts)
			limit := tt.opts.Limit
			if limit == 0 {
				limit = MaxPublishSize
			}
			checkRules(t, m, limit)
			if tt.subject != "" && m.Subject != tt.subject {
				t.Errorf("got subject %q, want %q", m.Subject, tt.subject)
			}
			for _, c := range tt.contains {
				if !strings.Contains(m.Body, c) {
					t.Errorf("got a body without %q", c)
				}
			}
			path := filepath.Join("testdata", tt.name+".golden")
			got := golden(m)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file: %v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("got a message that differs from %s (run go test -update and review "+
					"the diff)\n%s", path, got)
			}
		})
	}
}

func TestRenderFitsSNS(t *testing.T) {
	huge := generate(10000)
	for i := range huge {
		huge[i].URI += "?ref=" + strings.Repeat("y", 900)
		huge[i].Package = strings.Repeat("p", 300)
	}
	s := parseSample(t, "inspector2-scan-ecr.json")
	s.Tags = make([]string, 2000)
	for i := range s.Tags {
		s.Tags[i] = fmt.Sprintf("tag-%04d-%s", i, strings.Repeat("t", 250))
	}
	notes := make([]string, 50)
	for i := range notes {
		notes[i] = strings.Repeat("note ", 200)
	}
	m := Render(s, huge, Options{MaxFindings: 1000, Notes: notes,
		Reason: strings.Repeat("r", 10000)})
	checkRules(t, m, MaxPublishSize)
	if m.Size() < MaxPublishSize-4096 {
		t.Errorf("got size %d, want the list to use the room up to %d", m.Size(), MaxPublishSize)
	}
	if !strings.Contains(m.Body, "within the SNS size limit") {
		t.Errorf("got a body without the truncation notice")
	}
	if !strings.Contains(m.Body, "In the ECR console") {
		t.Errorf("got a body without the console links after truncation")
	}
}

// TestRenderGrammar checks that counts of one read in the singular, and how
// findings of an unrecognized severity read.
func TestRenderGrammar(t *testing.T) {
	one := []scan.Finding{{ID: "CVE-1", Severity: scan.High, Score: 7}}
	two := []scan.Finding{one[0], {ID: "CVE-2", Severity: scan.Low}}
	base := scan.Scan{Source: scan.ImageScan, Kind: scan.Basic, Repository: "team/app",
		Digest: "sha256:" + strings.Repeat("1", 64), Status: "COMPLETE",
		Tags: []string{"1.4.2"}}
	withTags := func(tags ...string) scan.Scan {
		s := base
		s.Tags = tags
		return s
	}
	var unrecognized scan.Counts
	unrecognized.Set(scan.Unrecognized, 4)
	onlyUnrecognized := base
	onlyUnrecognized.Counts = unrecognized
	unrecognizedFinding := base
	unrecognizedFinding.Source, unrecognizedFinding.Kind = scan.InspectorFinding, scan.Enhanced
	unrecognizedFinding.Finding = &scan.Finding{ID: "CVE-7", Severity: scan.Unrecognized}
	unrecognizedFinding.Counts.Set(scan.Unrecognized, 1)
	notes := make([]string, maxNotes+1)
	for i := range notes {
		notes[i] = "note " + strconv.Itoa(i)
	}

	tests := []struct {
		name         string
		s            scan.Scan
		findings     []scan.Finding
		opts         Options
		wantSubject  string
		want         []string
		wantNot      []string
		wantSeverity string
	}{
		{name: "one more tag", s: withTags("1.4.2", "latest"), findings: one,
			wantSubject: "1 HIGH in team/app:1.4.2 (+1 tag)",
			want:        []string{"found 1 vulnerability: 1 HIGH.", "1 finding, worst first"}},
		{name: "two more tags", s: withTags("1.4.2", "1.4", "latest"), findings: two,
			wantSubject: "1 HIGH, 1 LOW in team/app:1.4.2 (+2 tags)",
			want:        []string{"found 2 vulnerabilities", "2 findings, worst first"}},
		{name: "one more finding", s: base, findings: two, opts: Options{MaxFindings: 1},
			wantSubject: "1 HIGH, 1 LOW in team/app:1.4.2",
			want:        []string{"Top 1 of 2 findings", "... and 1 more; see"}},
		{name: "one suppressed", s: base, findings: one,
			opts: Options{Suppressed: 1, SuppressedIDs: []string{"CVE-9"}},
			want: []string{"1 finding left out by suppressions"}},
		{name: "one more note", s: base, findings: one, opts: Options{Notes: notes},
			want: []string{"  - and 1 more note\n"}, wantNot: []string{"more notes"}},
		{name: "a finding of an unrecognized severity", s: unrecognizedFinding,
			wantSubject:  "OTHER CVE-7 in team/app:1.4.2",
			want:         []string{"Amazon Inspector reports OTHER CVE-7 in team/app:1.4.2."},
			wantSeverity: SeverityUnknown},
		{name: "only unrecognized severities", s: onlyUnrecognized,
			wantSubject: "4 other in team/app:1.4.2", wantSeverity: SeverityUnknown,
			want: []string{"found 4 vulnerabilities: 4 other.",
				"  other               4\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			if !s.Counts.Reported() {
				s.Counts = tally(tt.findings)
			}
			m := Render(s, tt.findings, tt.opts)
			checkRules(t, m, MaxPublishSize)
			if tt.wantSubject != "" && m.Subject != tt.wantSubject {
				t.Errorf("got subject %q, want %q", m.Subject, tt.wantSubject)
			}
			for _, w := range tt.want {
				if !strings.Contains(m.Body, w) {
					t.Errorf("got a body without %q:\n%s", w, m.Body)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(m.Body, w) {
					t.Errorf("got a body with %q, want none:\n%s", w, m.Body)
				}
			}
			got := m.Attributes[AttrSeverity].StringValue
			if tt.wantSeverity != "" && got != tt.wantSeverity {
				t.Errorf("got severity attribute %q, want %q", got, tt.wantSeverity)
			}
		})
	}
}

func TestSubjectFits(t *testing.T) {
	all := scan.Counts{}
	for _, s := range scan.Severities() {
		all.Set(s, 1<<30)
	}
	all.SetTotal(1 << 31)
	tests := []struct {
		name string
		s    scan.Scan
		want string
	}{
		{"several tags", scan.Scan{Repository: "team/app", Tags: []string{"a", "b", "c"},
			Counts: all}, ""},
		{"long repository", scan.Scan{Repository: strings.Repeat("r", 256),
			Tags: []string{strings.Repeat("t", 300)}, Counts: all}, ""},
		{"control characters", scan.Scan{Repository: "team/\x00app\n", Tags: []string{"é\t1"},
			Status: "FAILED", Failed: true}, "Scan FAILED for team/?app :? 1"},
		{"no repository", scan.Scan{Status: "FAILED", Failed: true},
			"Scan FAILED for unknown repository"},
		{"keeps the worst severity", scan.Scan{Repository: strings.Repeat("r", 120),
			Counts: all}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Render(tt.s, nil, Options{})
			checkRules(t, m, MaxPublishSize)
			if tt.want != "" && m.Subject != tt.want {
				t.Errorf("got %q, want %q", m.Subject, tt.want)
			}
			if tt.s.Counts.Total() > 0 && !strings.HasPrefix(m.Subject, "1073741824 CRITICAL") {
				t.Errorf("got %q, want it to start with the worst severity", m.Subject)
			}
		})
	}
}

func TestFIFOIDs(t *testing.T) {
	const hashed = "(a SHA-256 in hex)"
	long := strings.Repeat("a/", 100) + "b"
	tests := []struct {
		name      string
		s         scan.Scan
		wantGroup string
		wantDedup string
	}{
		{"event id", scan.Scan{Repository: "team/app", EventID: "e-1"}, "team/app", "e-1"},
		{"long repository", scan.Scan{Repository: long, EventID: "e-1"},
			long[:111] + "-", "e-1"},
		{"event id with spaces", scan.Scan{Repository: "team/app", EventID: "a b"}, "team/app",
			hashed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Render(tt.s, nil, Options{})
			if !strings.HasPrefix(m.GroupID, tt.wantGroup) || len(m.GroupID) > maxFIFOID {
				t.Errorf("group: got %q, want %q... within %d", m.GroupID, tt.wantGroup, maxFIFOID)
			}
			if tt.wantDedup == hashed {
				if len(m.DeduplicationID) != 64 || m.DeduplicationID == tt.s.EventID {
					t.Errorf("dedup: got %q, want a hash", m.DeduplicationID)
				}
				return
			}
			if m.DeduplicationID != tt.wantDedup {
				t.Errorf("dedup: got %q, want %q", m.DeduplicationID, tt.wantDedup)
			}
		})
	}
	a := Render(scan.Scan{Repository: "team/app", Digest: "sha256:1"}, nil, Options{})
	b := Render(scan.Scan{Repository: "team/app", Digest: "sha256:2"}, nil, Options{})
	if a.DeduplicationID == b.DeduplicationID {
		t.Errorf("got the same dedup id %q for different images without event ids",
			a.DeduplicationID)
	}
}

func TestTop(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 100, 2000} {
		findings := make([]scan.Finding, n)
		for i := range findings {
			// Few distinct values, so ties are common.
			findings[i] = scan.Finding{ID: strconv.Itoa(r.IntN(5)),
				Severity: scan.Severity(r.IntN(6)), Score: float64(r.IntN(3))}
		}
		for _, k := range []int{1, 20, 1000} {
			t.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(t *testing.T) {
				want := make([]int, n)
				for i := range want {
					want[i] = i
				}
				slices.SortStableFunc(want, func(i, j int) int {
					return scan.Compare(&findings[i], &findings[j])
				})
				want = want[:min(k, n)]
				got := top(findings, k)
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
}

// fuzzSeedPatterns match the events whose scans seed FuzzRender: the
// samples in testdata and the scan-notifier samples in events/.
var fuzzSeedPatterns = []string{
	filepath.Join("testdata", "*.json"),
	filepath.Join("..", "..", "events", "scan-notifier-*.json"),
}

// seedScan is a scan read from a sample, and the file it came from.
type seedScan struct {
	file string
	scan scan.Scan
}

// seedScans reads every event fuzzSeedPatterns match with scan.Parse and
// returns the scans, leaving out events scan-notifier ignores. It fails when
// a pattern matches nothing or an event cannot be read.
func seedScans(t testing.TB) []seedScan {
	t.Helper()
	var out []seedScan
	for _, pattern := range fuzzSeedPatterns {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("got no seed files (%v), want %s", err, pattern)
		}
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := scan.Parse(raw)
			if errors.Is(err, scan.ErrIgnored) {
				continue
			}
			if err != nil {
				t.Fatalf("parsing %s: %v", file, err)
			}
			out = append(out, seedScan{file: file, scan: s})
		}
	}
	return out
}

// The bits of FuzzRender's flags argument.
const (
	fuzzFailed        = 1 << 0 // the scan failed
	fuzzFinding       = 1 << 1 // the scan is an Inspector2 Finding
	fuzzTally         = 1 << 2 // counts come from the generated findings
	fuzzUnsupported   = 1 << 3 // the image cannot be scanned
	fuzzEnhanced      = 1 << 4 // enhanced scanning
	fuzzSeverityShift = 5      // the top 3 bits hold the finding's severity + 1
)

// fuzzInput holds FuzzRender's arguments.
type fuzzInput struct {
	repo, tags, status, counts, id, uri, digest, region, registry, eventID string

	n, max uint16
	flags  uint8
}

// fuzzArgs returns FuzzRender's arguments for a scan: its fields, its
// counts as encodeCounts writes them, no generated findings and the default
// list length.
func fuzzArgs(s scan.Scan) fuzzInput {
	var flags int
	if s.Failed {
		flags |= fuzzFailed
	}
	if s.Unsupported {
		flags |= fuzzUnsupported
	}
	if s.Kind == scan.Enhanced {
		flags |= fuzzEnhanced
	}
	in := fuzzInput{repo: s.Repository, tags: strings.Join(s.Tags, "\n"), status: s.Status,
		counts: encodeCounts(s.Counts), digest: s.Digest, region: s.Region,
		registry: s.RegistryID, eventID: s.EventID, max: defaultMaxFindings}
	if s.Finding != nil {
		flags |= fuzzFinding | (int(s.Finding.Severity)+1)<<fuzzSeverityShift
		in.id, in.uri = s.Finding.ID, s.Finding.URI
	}
	in.flags = uint8(flags)
	return in
}

// encodeCounts writes counts as "CRITICAL=2,OTHER=1,TOTAL=9": "" when none
// were reported and "{}" when the report is empty.
func encodeCounts(c scan.Counts) string {
	if !c.Reported() {
		return ""
	}
	var items []string
	for _, sev := range append(scan.Severities(), scan.Unrecognized) {
		if n, ok := c.Get(sev); ok {
			items = append(items, sev.String()+"="+strconv.Itoa(n))
		}
	}
	if total, ok := c.ReportedTotal(); ok {
		items = append(items, "TOTAL="+strconv.Itoa(total))
	}
	if len(items) == 0 {
		return "{}"
	}
	return strings.Join(items, ",")
}

// decodeCounts reads what encodeCounts writes, skipping malformed items and
// counts beyond what an event may carry.
func decodeCounts(text string) scan.Counts {
	var c scan.Counts
	if text == "" {
		return c
	}
	c.MarkReported()
	for item := range strings.SplitSeq(text, ",") {
		name, value, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(value)
		if !ok || err != nil || n > 1<<30 {
			continue
		}
		if name == "TOTAL" {
			c.SetTotal(n)
			continue
		}
		c.Set(scan.ReadSeverity(name), n)
	}
	return c
}

// TestFuzzRenderSeeds checks that FuzzRender is seeded with the scan of every
// scan-notifier sample in events/ that is not ignored, with its counts intact.
func TestFuzzRenderSeeds(t *testing.T) {
	events, err := filepath.Glob(filepath.Join("..", "..", "events", "scan-notifier-*.json"))
	if err != nil || len(events) == 0 {
		t.Fatalf("got no scan-notifier samples (%v), want some in events/", err)
	}
	seeded := map[string]scan.Scan{}
	for _, s := range seedScans(t) {
		seeded[s.file] = s.scan
	}
	for _, file := range events {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want, err := scan.Parse(raw)
			if errors.Is(err, scan.ErrIgnored) {
				return
			}
			got, ok := seeded[file]
			if !ok {
				t.Fatalf("got no seed from %s, want one", file)
			}
			if got.EventID != want.EventID || got.Counts != want.Counts {
				t.Errorf("got seed %q with counts %v, want %q with %v", got.EventID,
					got.Counts, want.EventID, want.Counts)
			}
			if c := decodeCounts(encodeCounts(want.Counts)); c != want.Counts {
				t.Errorf("got counts %v after encoding, want %v", c, want.Counts)
			}
		})
	}
}

// FuzzRender renders arbitrary scans and findings, seeded with the scans of
// the sample events (see fuzzSeedPatterns) and a few extreme inputs, and
// asserts the rules of checkRules: a printable ASCII subject within
// MaxSubjectLen, a publish within MaxPublishSize, text-only UTF-8, every
// attribute, and FIFO ids SNS accepts.
func FuzzRender(f *testing.F) {
	for _, s := range seedScans(f) {
		a := fuzzArgs(s.scan)
		f.Add(a.repo, a.tags, a.status, a.counts, a.id, a.uri, a.digest, a.region, a.registry,
			a.eventID, a.n, a.flags, a.max)
	}
	f.Add("example-team/example-app", "1.0.0\nlatest", "COMPLETE", "CRITICAL=2,OTHER=1",
		"CVE-2024-1", "https://x", "sha256:"+strings.Repeat("1", 64), "us-east-1",
		"123456789012", "01234567-89ab", uint16(30), uint8(5), uint16(20))
	f.Add("", "", "", "", "", "", "", "", "", "", uint16(0), uint8(0), uint16(0))
	f.Add(strings.Repeat("a", 300), "\x00\xff\u2028", "FAILED", "{}", "\n", "\t", "x",
		strings.Repeat("é", 40), "\r", strings.Repeat("é", 100), uint16(2000), uint8(255),
		uint16(1000))
	f.Fuzz(func(t *testing.T, repo, tags, status, counts, id, uri, digest, region,
		registry, eventID string, n uint16, flags uint8, max uint16) {
		s := scan.Scan{Repository: repo, Status: status, EventID: eventID, Region: region,
			RegistryID: registry, Digest: digest, Kind: scan.Basic,
			Counts: decodeCounts(counts)}
		if tags != "" {
			s.Tags = strings.Split(tags, "\n")
		}
		s.Failed = flags&fuzzFailed != 0
		s.Unsupported = flags&fuzzUnsupported != 0
		if flags&fuzzEnhanced != 0 {
			s.Kind = scan.Enhanced
		}
		if flags&fuzzFinding != 0 {
			sev := scan.Severity(int(flags>>fuzzSeverityShift) - 1)
			s.Finding = &scan.Finding{ID: id, URI: uri, Severity: sev}
		}
		findings := make([]scan.Finding, int(n)%3000)
		for i := range findings {
			findings[i] = scan.Finding{ID: id + strconv.Itoa(i), URI: uri, Package: repo,
				Installed: tags, FixedIn: status, Severity: scan.Severity(i%8 - 1),
				Score: float64(i%11) - 0.5}
		}
		if flags&fuzzTally != 0 {
			s.Counts = tally(findings)
			s.Counts.SetTotal(int(n) * int(flags))
		}
		opts := Options{MaxFindings: int(max), Reason: uri, Notes: []string{id, repo},
			Suppressed: int(flags), SuppressedIDs: []string{id}}
		m := Render(s, findings, opts)
		checkRules(t, m, MaxPublishSize)
	})
}

func BenchmarkRender(b *testing.B) {
	s := parseSample(b, "inspector2-scan-ecr.json")
	for _, n := range []int{10, 1000, 10000} {
		findings := generate(n)
		s.Counts = tally(findings)
		b.Run(fmt.Sprintf("findings=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Render(s, findings, Options{})
			}
		})
	}
}
