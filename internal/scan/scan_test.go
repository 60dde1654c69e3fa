package scan

import (
	"math"
	"slices"
	"testing"
)

func TestParseSeverity(t *testing.T) {
	tests := []struct {
		in     string
		want   Severity
		wantOK bool
	}{
		{"CRITICAL", Critical, true},
		{" high ", High, true},
		{"Medium", Medium, true},
		{"LOW", Low, true},
		{"INFORMATIONAL", Informational, true},
		{"UNDEFINED", Undefined, true},
		{"UNTRIAGED", Undefined, true},
		{"TOTAL", Undefined, false},
		{"Moderate", Undefined, false},
		{"", Undefined, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseSeverity(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSeverityOrder(t *testing.T) {
	got := Severities()
	want := []Severity{Critical, High, Medium, Low, Informational, Undefined}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] <= got[i] {
			t.Errorf("got %v <= %v, want it worse", got[i-1], got[i])
		}
	}
	if got := Severity(42).String(); got != "Severity(42)" {
		t.Errorf("got %q, want Severity(42)", got)
	}
}

func TestCounts(t *testing.T) {
	var unreported Counts
	tests := []struct {
		name      string
		c         Counts
		worst     Severity
		worstOK   bool
		total     int
		other     int
		atLeastHi int
		str       string
	}{
		{"unreported", unreported, Undefined, false, 0, 0, 0, "unknown"},
		{"empty", countsOf(-1, nil), Undefined, false, 0, 0, 0, "none"},
		{"zeros only", countsOf(-1, map[Severity]int{High: 0, Low: 0}), Undefined, false,
			0, 0, 0, "none"},
		{"basic", countsOf(-1, map[Severity]int{Critical: 2, High: 5, Low: 1}), Critical, true,
			8, 0, 7, "2 CRITICAL, 5 HIGH, 1 LOW"},
		{"with a larger total", countsOf(10, map[Severity]int{Medium: 4}), Medium, true,
			10, 6, 0, "4 MEDIUM, 6 other"},
		{"with a smaller total", countsOf(1, map[Severity]int{High: 4}), High, true,
			4, 0, 4, "4 HIGH"},
		{"unrecognized only", countsOf(-1, map[Severity]int{Unrecognized: 3}), Undefined,
			false, 3, 3, 0, "3 other"},
		{"unrecognized and listed", countsOf(-1, map[Severity]int{Unrecognized: 3, Low: 1}),
			Low, true, 4, 3, 0, "1 LOW, 3 other"},
		{"unrecognized within a total", countsOf(6, map[Severity]int{Unrecognized: 3, High: 1}),
			High, true, 6, 5, 1, "1 HIGH, 5 other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			worst, ok := tt.c.Worst()
			if worst != tt.worst || ok != tt.worstOK {
				t.Errorf("Worst: got %v %v, want %v %v", worst, ok, tt.worst, tt.worstOK)
			}
			if got := tt.c.Total(); got != tt.total {
				t.Errorf("Total: got %d, want %d", got, tt.total)
			}
			if got := tt.c.Other(); got != tt.other {
				t.Errorf("Other: got %d, want %d", got, tt.other)
			}
			if got := tt.c.AtLeast(High); got != tt.atLeastHi {
				t.Errorf("AtLeast(HIGH): got %d, want %d", got, tt.atLeastHi)
			}
			if got := tt.c.String(); got != tt.str {
				t.Errorf("String: got %q, want %q", got, tt.str)
			}
		})
	}
}

func TestCountsAbsentAndAdd(t *testing.T) {
	c := countsOf(5, map[Severity]int{High: 0})
	if n, ok := c.Get(High); n != 0 || !ok {
		t.Errorf("Get(HIGH): got %d %v, want 0 true", n, ok)
	}
	if n, ok := c.Get(Critical); n != 0 || ok {
		t.Errorf("Get(CRITICAL): got %d %v, want 0 false", n, ok)
	}
	c.Add(Critical, 2)
	c.Add(Critical, -5)
	if n, ok := c.Get(Critical); n != 0 || !ok {
		t.Errorf("Get(CRITICAL) after Add: got %d %v, want 0 true", n, ok)
	}
	if total, ok := c.ReportedTotal(); total != 2 || !ok {
		t.Errorf("ReportedTotal: got %d %v, want 2 true", total, ok)
	}
	c.Set(Severity(-2), 3)
	c.Add(Severity(9), 3)
	if got := c.Sum(); got != 0 {
		t.Errorf("Sum after invalid severities: got %d, want 0", got)
	}
	if total, _ := c.ReportedTotal(); total != 2 {
		t.Errorf("ReportedTotal after invalid severities: got %d, want 2", total)
	}

	if c.Has(Unrecognized) {
		t.Errorf("Has(Unrecognized): got true before any, want false")
	}
	c.Add(Unrecognized, 4)
	c.Add(Unrecognized, -1)
	if n, ok := c.Get(Unrecognized); n != 3 || !ok {
		t.Errorf("Get(Unrecognized): got %d %v, want 3 true", n, ok)
	}
	if got, want := c.Other(), 5; got != want { // the reported total, raised by the Adds
		t.Errorf("Other: got %d, want %d", got, want)
	}
	if got := c.Sum(); got != 0 {
		t.Errorf("Sum: got %d, want 0 (Unrecognized is not listed)", got)
	}
}

func TestReadSeverity(t *testing.T) {
	tests := []struct {
		in   string
		want Severity
	}{
		{"high", High},
		{"UNTRIAGED", Undefined},
		{" ", Undefined},
		{"URGENT", Unrecognized},
		{"TOTAL", Unrecognized},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ReadSeverity(tt.in); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := Unrecognized.String(); got != "OTHER" {
		t.Errorf("String: got %q, want OTHER", got)
	}
	if Unrecognized.Valid() {
		t.Errorf("Valid: got true for Unrecognized, want false")
	}
}

func TestCompare(t *testing.T) {
	findings := []Finding{
		{ID: "B", Severity: High, Score: 7},
		{ID: "A", Severity: High, Score: 7},
		{ID: "C", Severity: Critical},
		{ID: "D", Severity: High, Score: math.NaN()},
		{ID: "E", Severity: High, Score: 8.1},
		{ID: "F", Severity: Low, Score: 10},
	}
	slices.SortFunc(findings, func(a, b Finding) int { return Compare(&a, &b) })
	var got []string
	for _, f := range findings {
		got = append(got, f.ID)
	}
	if want := []string{"C", "E", "A", "B", "D", "F"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRef(t *testing.T) {
	tests := []struct {
		name string
		s    Scan
		want string
	}{
		{"tagged", Scan{Repository: "team/app", Tags: []string{"1.4.2", "latest"},
			Digest: sampleDigest}, "team/app:1.4.2"},
		{"untagged", Scan{Repository: "team/app", Digest: sampleDigest},
			"team/app@sha256:111111111111"},
		{"short digest", Scan{Repository: "team/app", Digest: "sha256:abc"}, "team/app@sha256:abc"},
		{"no digest", Scan{Repository: "team/app"}, "team/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Ref(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPackageVersion(t *testing.T) {
	tests := []struct {
		epoch, version, release, want string
	}{
		{"", "1.0", "", "1.0"},
		{"0", "1.0", "3.el9", "1.0-3.el9"},
		{"2", "1.0", "3", "2:1.0-3"},
		{"2", "", "3", ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := PackageVersion(tt.epoch, tt.version, tt.release); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := FixedIn(" NotAvailable "); got != "" {
		t.Errorf("FixedIn: got %q, want empty", got)
	}
}
