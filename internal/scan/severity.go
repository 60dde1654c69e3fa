package scan

import (
	"strconv"
	"strings"
)

// Severity ranks a vulnerability. Greater values are worse, so CRITICAL >
// HIGH > MEDIUM > LOW > INFORMATIONAL > UNDEFINED, and the zero value is
// Undefined.
type Severity int

// The severities ECR and Inspector report, from the least to the most severe.
const (
	Undefined Severity = iota
	Informational
	Low
	Medium
	High
	Critical
)

// Unrecognized stands for a severity name that neither ECR nor Inspector
// documents, such as one added after this was written. It is not one of
// Severities and ranks below them all when findings are ordered, but nobody
// can tell where it really ranks: Counts keeps its findings apart and reports
// them as other, and the notification policy alerts on them whatever its
// threshold rather than drop them.
const Unrecognized Severity = -1

// numSeverities is the number of defined severities; it sizes the arrays in
// Counts.
const numSeverities = int(Critical) + 1

var severityNames = [numSeverities]string{
	Undefined:     "UNDEFINED",
	Informational: "INFORMATIONAL",
	Low:           "LOW",
	Medium:        "MEDIUM",
	High:          "HIGH",
	Critical:      "CRITICAL",
}

// Severities returns every severity from the worst to the least severe, the
// order in which counts and findings are presented.
func Severities() []Severity {
	return []Severity{Critical, High, Medium, Low, Informational, Undefined}
}

// ParseSeverity reads a severity name as ECR and Inspector write it, ignoring
// case and surrounding space. Inspector's UNTRIAGED reads as Undefined. It
// reports false for anything else, including "TOTAL".
func ParseSeverity(s string) (Severity, bool) {
	name := strings.ToUpper(strings.TrimSpace(s))
	if name == "UNTRIAGED" {
		return Undefined, true
	}
	for i, n := range severityNames {
		if n == name {
			return Severity(i), true
		}
	}
	return Undefined, false
}

// ReadSeverity reads the severity of one finding or count: the severity
// ParseSeverity finds, Undefined for a blank name, and Unrecognized for any
// other name, so that a new severity is not mistaken for an absent one.
func ReadSeverity(s string) Severity {
	if sev, ok := ParseSeverity(s); ok {
		return sev
	}
	if strings.TrimSpace(s) == "" {
		return Undefined
	}
	return Unrecognized
}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool {
	return s >= Undefined && s <= Critical
}

// String returns the severity's name in upper case, as AWS writes it, and
// OTHER for Unrecognized.
func (s Severity) String() string {
	if s == Unrecognized {
		return "OTHER"
	}
	if !s.Valid() {
		return "Severity(" + strconv.Itoa(int(s)) + ")"
	}
	return severityNames[s]
}

// MarshalText writes the severity's name, so severities read well in JSON
// and in structured logs.
func (s Severity) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}
