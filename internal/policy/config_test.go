package policy

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// env returns a getenv that reads from m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// day returns midnight UTC of a YYYY-MM-DD date.
func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"defaults", nil, Config{Threshold: scan.High, MaxFindings: 20}},
		{"blank values take defaults", map[string]string{
			EnvThreshold: " ", EnvNotifyOnClean: "", EnvMaxFindings: "", EnvSuppressed: " , ",
		}, Config{Threshold: scan.High, MaxFindings: 20}},
		{"every setting", map[string]string{
			EnvThreshold:     "critical",
			EnvNotifyOnClean: "TRUE",
			EnvMaxFindings:   "1000",
			EnvSuppressed:    "CVE-2023-1234, CVE-2024-9:2025-06-30\nRHSA-2023:1234",
		}, Config{
			Threshold:     scan.Critical,
			NotifyOnClean: true,
			MaxFindings:   1000,
			Suppressions: []Suppression{
				{ID: "CVE-2023-1234"},
				{ID: "CVE-2024-9", Until: day("2025-07-01")},
				{ID: "RHSA-2023:1234"},
			},
		}},
		{"informational threshold", map[string]string{EnvThreshold: "INFORMATIONAL"},
			Config{Threshold: scan.Informational, MaxFindings: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(env(tt.env))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"unknown threshold", map[string]string{EnvThreshold: "SEVERE"},
			[]string{EnvThreshold, `"SEVERE"`}},
		{"undefined threshold", map[string]string{EnvThreshold: "UNDEFINED"},
			[]string{EnvThreshold, `"UNDEFINED"`}},
		{"not a boolean", map[string]string{EnvNotifyOnClean: "yes please"},
			[]string{EnvNotifyOnClean, `"yes please"`}},
		{"max findings zero", map[string]string{EnvMaxFindings: "0"},
			[]string{EnvMaxFindings, `"0"`, "1 to 1000"}},
		{"max findings too many", map[string]string{EnvMaxFindings: "1001"},
			[]string{EnvMaxFindings, `"1001"`}},
		{"max findings not a number", map[string]string{EnvMaxFindings: "twenty"},
			[]string{EnvMaxFindings, `"twenty"`}},
		{"suppression date", map[string]string{EnvSuppressed: "CVE-1,CVE-2:2025-13-01"},
			[]string{EnvSuppressed, `entry "CVE-2:2025-13-01"`, `"2025-13-01"`}},
		{"suppression id", map[string]string{EnvSuppressed: "CVE-1,<script>"},
			[]string{EnvSuppressed, `entry "<script>"`}},
		{"suppression without id", map[string]string{EnvSuppressed: ":2025-01-01"},
			[]string{EnvSuppressed, `entry ":2025-01-01"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(tt.env))
			if err == nil {
				t.Fatalf("got no error, want one naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSuppressions(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Suppression
	}{
		{"empty", "", nil},
		{"separators", "A-1;B-2\tC-3", []Suppression{{ID: "A-1"}, {ID: "B-2"}, {ID: "C-3"}}},
		{"an id with a colon and a date", "RHSA-2023:1234:2025-01-31",
			[]Suppression{{ID: "RHSA-2023:1234", Until: day("2025-02-01")}}},
		{"twice keeps the later date", "CVE-1:2025-01-01,cve-1:2025-03-01,CVE-1:2025-02-01",
			[]Suppression{{ID: "CVE-1", Until: day("2025-03-02")}}},
		{"twice without a date never expires", "CVE-1:2025-01-01,CVE-1",
			[]Suppression{{ID: "CVE-1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSuppressions(tt.in)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSuppressionExpiry(t *testing.T) {
	c := Config{Suppressions: []Suppression{{ID: "CVE-1", Until: day("2025-07-01")}}}
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"before", day("2025-06-01"), true},
		{"last moment of the expiry day", day("2025-07-01").Add(-time.Nanosecond), true},
		{"the day after", day("2025-07-01"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Suppressed("cve-1", tt.now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
