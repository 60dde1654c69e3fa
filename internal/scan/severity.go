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

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool {
	return s >= Undefined && s <= Critical
}

// String returns the severity's name in upper case, as AWS writes it.
func (s Severity) String() string {
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
