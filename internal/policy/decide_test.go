package policy

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// now is the time every decision is taken at.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// counts builds reported counts; a total of -1 reports none.
func counts(total int, pairs map[scan.Severity]int) scan.Counts {
	var c scan.Counts
	c.MarkReported()
	for s, n := range pairs {
		c.Set(s, n)
	}
	if total >= 0 {
		c.SetTotal(total)
	}
	return c
}

// basic returns a completed basic scan with the given counts.
func basic(c scan.Counts) scan.Scan {
	return scan.Scan{Source: scan.ImageScan, Kind: scan.Basic, Repository: "team/app",
		Status: "COMPLETE", Counts: c}
}

// finding returns an Inspector2 Finding scan with one finding of severity sev.
func finding(sev scan.Severity, status string) scan.Scan {
	f := scan.Finding{ID: "CVE-1", Severity: sev}
	var c scan.Counts
	c.Set(sev, 1)
	return scan.Scan{Source: scan.InspectorFinding, Kind: scan.Enhanced,
		Repository: "team/app", Status: status, Counts: c, Finding: &f}
}

func TestDecide(t *testing.T) {
	def := Default()
	clean := def
	clean.NotifyOnClean = true
	low := def
	low.Threshold = scan.Low
	medium := def
	medium.Threshold = scan.Medium
	suppressing := def
	suppressing.Suppressions = []Suppression{{ID: "CVE-1"}}
	expired := def
	expired.Suppressions = []Suppression{{ID: "CVE-1", Until: now.Add(-time.Hour)}}
	failed := basic(scan.Counts{})
	failed.Status, failed.Failed = "FAILED", true
	unsupported := basic(scan.Counts{})
	unsupported.Status, unsupported.Unsupported = "UNSUPPORTED_IMAGE", true
	inspector := counts(158, map[scan.Severity]int{scan.Critical: 0, scan.High: 0, scan.Medium: 2})

	tests := []struct {
		name string
		c    Config
		s    scan.Scan
		want Decision
	}{
		{"failed", def, failed, Decision{Notify: true, Reason: "scan failed"}},
		{"unsupported", def, unsupported, Decision{Notify: true, Reason: "image not supported"}},
		{"failed ignores suppressions", suppressing, failed,
			Decision{Notify: true, Reason: "scan failed"}},
		{"no counts", def, basic(scan.Counts{}),
			Decision{NeedFindings: true, Reason: "event carries no counts"}},
		{"clean", def, basic(counts(-1, nil)), Decision{Reason: "no findings"}},
		{"clean with notify on clean", clean, basic(counts(-1, nil)),
			Decision{Notify: true, Reason: "no findings"}},
		{"below", def, basic(counts(-1, map[scan.Severity]int{scan.Medium: 9, scan.High: 0})),
			Decision{Reason: "nothing at or above HIGH"}},
		{"at", def, basic(counts(-1, map[scan.Severity]int{scan.High: 2, scan.Critical: 1})),
			Decision{Notify: true, Reason: "3 at or above HIGH"}},
		{"at with suppressions", suppressing,
			basic(counts(-1, map[scan.Severity]int{scan.High: 2})),
			Decision{NeedFindings: true, Reason: "suppressions may lower the counts"}},
		{"below with suppressions needs no findings", suppressing,
			basic(counts(-1, map[scan.Severity]int{scan.Low: 2})),
			Decision{Reason: "nothing at or above HIGH"}},
		{"at with only expired suppressions", expired,
			basic(counts(-1, map[scan.Severity]int{scan.High: 2})),
			Decision{Notify: true, Reason: "2 at or above HIGH"}},
		{"inspector total hides severities below MEDIUM", medium, basic(inspector),
			Decision{Notify: true, Reason: "2 at or above MEDIUM"}},
		{"inspector total may hide LOW", low,
			basic(counts(158, map[scan.Severity]int{scan.Critical: 0, scan.High: 0, scan.Medium: 0})),
			Decision{NeedFindings: true, Reason: "findings of unlisted severity may reach the threshold"}},
		{"inspector total complete", low,
			basic(counts(0, map[scan.Severity]int{scan.Critical: 0, scan.High: 0})),
			Decision{Reason: "no findings"}},
		{"only unrecognized severities", def,
			basic(counts(-1, map[scan.Severity]int{scan.Unrecognized: 4})),
			Decision{Notify: true, Reason: "4 of unrecognized severity"}},
		{"unrecognized severities and some at", def,
			basic(counts(-1, map[scan.Severity]int{scan.Unrecognized: 1, scan.High: 2})),
			Decision{Notify: true, Reason: "2 at or above HIGH, 1 of unrecognized severity"}},
		{"unrecognized severities with suppressions", suppressing,
			basic(counts(-1, map[scan.Severity]int{scan.Unrecognized: 4, scan.Low: 1})),
			Decision{NeedFindings: true, Reason: "suppressions may lower the counts"}},
		{"finding of an unrecognized severity", def, finding(scan.Unrecognized, "ACTIVE"),
			Decision{Notify: true, Reason: "1 of unrecognized severity"}},
		{"finding at", def, finding(scan.Critical, "ACTIVE"),
			Decision{Notify: true, Reason: "1 at or above HIGH"}},
		{"finding below", def, finding(scan.Medium, "ACTIVE"),
			Decision{Reason: "finding MEDIUM is below the threshold HIGH"}},
		{"finding suppressed", suppressing, finding(scan.Critical, "ACTIVE"),
			Decision{Reason: "finding is suppressed"}},
		{"finding suppression expired", expired, finding(scan.Critical, "ACTIVE"),
			Decision{Notify: true, Reason: "1 at or above HIGH"}},
		{"finding closed", def, finding(scan.Critical, "CLOSED"),
			Decision{Reason: "finding is closed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Decide(tt.s, now); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	suppressing := Default()
	suppressing.Suppressions = []Suppression{
		{ID: "CVE-1"},
		{ID: "CVE-OLD", Until: now.Add(-time.Hour)},
	}
	withClean := suppressing
	withClean.NotifyOnClean = true
	f := func(id string, sev scan.Severity) scan.Finding {
		return scan.Finding{ID: id, Severity: sev}
	}

	tests := []struct {
		name           string
		c              Config
		s              scan.Scan
		findings       []scan.Finding
		wantDecision   Decision
		wantIDs        []string
		wantCounts     scan.Counts
		wantSuppressed []string
	}{
		{
			name: "suppressed findings leave nothing at the threshold",
			c:    suppressing,
			s:    basic(counts(-1, map[scan.Severity]int{scan.High: 2, scan.Low: 1})),
			findings: []scan.Finding{
				f("cve-1", scan.High), f("CVE-1", scan.High), f("CVE-3", scan.Low),
			},
			wantDecision:   Decision{Reason: "nothing at or above HIGH"},
			wantIDs:        []string{"CVE-3"},
			wantCounts:     counts(-1, map[scan.Severity]int{scan.Low: 1}),
			wantSuppressed: []string{"cve-1"},
		},
		{
			name: "an expired suppression counts again",
			c:    suppressing,
			s:    basic(counts(-1, map[scan.Severity]int{scan.High: 2})),
			findings: []scan.Finding{
				f("CVE-1", scan.High), f("CVE-OLD", scan.High),
			},
			wantDecision:   Decision{Notify: true, Reason: "1 at or above HIGH"},
			wantIDs:        []string{"CVE-OLD"},
			wantCounts:     counts(-1, map[scan.Severity]int{scan.High: 1}),
			wantSuppressed: []string{"CVE-1"},
		},
		{
			name:           "everything suppressed with notify on clean",
			c:              withClean,
			s:              basic(counts(-1, map[scan.Severity]int{scan.Critical: 1})),
			findings:       []scan.Finding{f("CVE-1", scan.Critical)},
			wantDecision:   Decision{Notify: true, Reason: "no findings after suppressions"},
			wantIDs:        nil,
			wantCounts:     counts(-1, nil),
			wantSuppressed: []string{"CVE-1"},
		},
		{
			name: "a bounded list takes suppressed findings off the event counts",
			c:    suppressing,
			s:    basic(counts(-1, map[scan.Severity]int{scan.Critical: 500, scan.High: 500})),
			findings: []scan.Finding{
				f("CVE-1", scan.Critical), f("CVE-2", scan.Critical),
			},
			wantDecision: Decision{Notify: true, Reason: "999 at or above HIGH"},
			wantIDs:      []string{"CVE-2"},
			wantCounts: counts(-1, map[scan.Severity]int{
				scan.Critical: 499, scan.High: 500,
			}),
			wantSuppressed: []string{"CVE-1"},
		},
		{
			name: "no counts in the event are taken from the findings",
			c:    Default(),
			s:    basic(scan.Counts{}),
			findings: []scan.Finding{
				f("CVE-2", scan.Medium), f("CVE-3", scan.Critical),
			},
			wantDecision: Decision{Notify: true, Reason: "1 at or above HIGH"},
			wantIDs:      []string{"CVE-2", "CVE-3"},
			wantCounts:   counts(-1, map[scan.Severity]int{scan.Medium: 1, scan.Critical: 1}),
		},
		{
			name:         "no counts and no findings is clean",
			c:            Default(),
			s:            basic(scan.Counts{}),
			wantDecision: Decision{Reason: "no findings"},
			wantCounts:   counts(-1, nil),
		},
		{
			name: "findings of unlisted severity are counted from the list",
			c:    Config{Threshold: scan.Low, MaxFindings: 20},
			s: basic(counts(3, map[scan.Severity]int{
				scan.Critical: 0, scan.High: 0, scan.Medium: 0,
			})),
			findings: []scan.Finding{
				f("CVE-2", scan.Low), f("CVE-3", scan.Informational), f("CVE-4", scan.Undefined),
			},
			wantDecision: Decision{Notify: true, Reason: "1 at or above LOW"},
			wantIDs:      []string{"CVE-2", "CVE-3", "CVE-4"},
			wantCounts: counts(-1, map[scan.Severity]int{
				scan.Low: 1, scan.Informational: 1, scan.Undefined: 1,
			}),
		},
		{
			name: "findings of an unrecognized severity notify after suppressions",
			c:    suppressing,
			s: basic(counts(-1, map[scan.Severity]int{
				scan.Unrecognized: 2, scan.Low: 1,
			})),
			findings: []scan.Finding{
				f("CVE-1", scan.Unrecognized), f("CVE-2", scan.Unrecognized),
				f("CVE-3", scan.Low),
			},
			wantDecision: Decision{Notify: true, Reason: "1 of unrecognized severity"},
			wantIDs:      []string{"CVE-2", "CVE-3"},
			wantCounts: counts(-1, map[scan.Severity]int{
				scan.Unrecognized: 1, scan.Low: 1,
			}),
			wantSuppressed: []string{"CVE-1"},
		},
		{
			name: "findings of an unrecognized severity counted only in a total",
			c:    Default(),
			s:    basic(counts(2, map[scan.Severity]int{scan.Critical: 0, scan.High: 0})),
			findings: []scan.Finding{
				f("CVE-2", scan.Unrecognized), f("CVE-3", scan.Low),
			},
			wantDecision: Decision{Notify: true, Reason: "1 of unrecognized severity"},
			wantIDs:      []string{"CVE-2", "CVE-3"},
			wantCounts: counts(-1, map[scan.Severity]int{
				scan.Unrecognized: 1, scan.Low: 1,
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]scan.Finding(nil), tt.findings...)
			got := tt.c.Apply(tt.s, tt.findings, now)
			if got.Decision != tt.wantDecision {
				t.Errorf("decision: got %+v, want %+v", got.Decision, tt.wantDecision)
			}
			var ids []string
			for _, f := range got.Findings {
				ids = append(ids, f.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("findings: got %v, want %v", ids, tt.wantIDs)
			}
			if got.Scan.Counts != tt.wantCounts {
				t.Errorf("counts: got %v, want %v", got.Scan.Counts, tt.wantCounts)
			}
			if !reflect.DeepEqual(got.SuppressedIDs, tt.wantSuppressed) {
				t.Errorf("suppressed ids: got %v, want %v", got.SuppressedIDs, tt.wantSuppressed)
			}
			if got.Suppressed != len(tt.findings)-len(got.Findings) {
				t.Errorf("suppressed: got %d, want %d", got.Suppressed,
					len(tt.findings)-len(got.Findings))
			}
			if !reflect.DeepEqual(tt.findings, before) {
				t.Errorf("Apply modified its input")
			}
		})
	}
}

func TestApplyKeepsTheSliceWhenNothingIsSuppressed(t *testing.T) {
	c := Default()
	c.Suppressions = []Suppression{{ID: "CVE-9"}}
	findings := []scan.Finding{{ID: "CVE-1", Severity: scan.High}}
	got := c.Apply(basic(counts(-1, map[scan.Severity]int{scan.High: 1})), findings, now)
	if &got.Findings[0] != &findings[0] {
		t.Errorf("got a copy, want the same slice")
	}
}

func TestApplyFailedAndFindingEvents(t *testing.T) {
	failed := basic(scan.Counts{})
	failed.Status, failed.Failed = "FAILED", true
	got := Default().Apply(failed, nil, now)
	if want := (Decision{Notify: true, Reason: "scan failed"}); got.Decision != want {
		t.Errorf("failed: got %+v, want %+v", got.Decision, want)
	}
	if got.Scan.Counts.Reported() {
		t.Errorf("failed: got counts %v, want none reported", got.Scan.Counts)
	}
	ev := finding(scan.High, "ACTIVE")
	got = Default().Apply(ev, nil, now)
	if want := (Decision{Notify: true, Reason: "1 at or above HIGH"}); got.Decision != want {
		t.Errorf("finding: got %+v, want %+v", got.Decision, want)
	}
}
