package scan

import (
	"strconv"
	"strings"
)

// Counts holds the number of findings per severity as an event or an API
// response reports them. A severity that was not reported is absent, which is
// distinct from a reported zero: basic scanning lists only the severities that
// have findings, and Inspector lists some severities and a TOTAL that may
// include others. Findings of an Unrecognized severity are kept apart from
// the listed severities and counted among the others. The zero value reports
// nothing. Counts is comparable.
type Counts struct {
	n        [numSeverities]int
	present  [numSeverities]bool
	total    int
	hasTotal bool
	reported bool
	// unrecognized counts the findings of Unrecognized severities, and
	// hasUnrecognized says whether any such count was recorded.
	unrecognized    int
	hasUnrecognized bool
}

// Get returns the count for s, which may be Unrecognized, and whether it was
// reported.
func (c Counts) Get(s Severity) (n int, present bool) {
	if s == Unrecognized {
		return c.unrecognized, c.hasUnrecognized
	}
	if !s.Valid() {
		return 0, false
	}
	return c.n[s], c.present[s]
}

// Has reports whether a count for s was reported, zero or not.
func (c Counts) Has(s Severity) bool {
	_, ok := c.Get(s)
	return ok
}

// Set records n findings of severity s, which may be Unrecognized; a
// negative n records zero. Other invalid severities are ignored.
func (c *Counts) Set(s Severity, n int) {
	switch {
	case s == Unrecognized:
		c.unrecognized, c.hasUnrecognized = max(n, 0), true
	case s.Valid():
		c.n[s] = max(n, 0)
		c.present[s] = true
	default:
		return
	}
	c.reported = true
}

// Add adds n, which may be negative, to the count for s, which may be
// Unrecognized, and to the reported total when there is one, never going
// below zero. Other invalid severities are ignored.
func (c *Counts) Add(s Severity, n int) {
	switch {
	case s == Unrecognized:
		c.unrecognized, c.hasUnrecognized = max(c.unrecognized+n, 0), true
	case s.Valid():
		c.n[s] = max(c.n[s]+n, 0)
		c.present[s] = true
	default:
		return
	}
	c.reported = true
	if c.hasTotal {
		c.total = max(c.total+n, 0)
	}
}

// SetTotal records a total reported beside the per-severity counts, such as
// Inspector's TOTAL, which also counts severities it does not list.
func (c *Counts) SetTotal(n int) {
	c.total = max(n, 0)
	c.hasTotal = true
	c.reported = true
}

// ReportedTotal returns the total recorded with SetTotal and whether there is
// one.
func (c Counts) ReportedTotal() (int, bool) {
	return c.total, c.hasTotal
}

// Reported reports whether any count or total was recorded, even an empty set
// of counts ({} in an event).
func (c Counts) Reported() bool {
	return c.reported
}

// MarkReported records that counts were reported even though none is listed,
// as for an event whose counts are {}: every severity is then known to have no
// findings.
func (c *Counts) MarkReported() {
	c.reported = true
}

// Worst returns the most severe severity with at least one finding, and false
// when no listed severity has any.
func (c Counts) Worst() (Severity, bool) {
	for s := Critical; s >= Undefined; s-- {
		if c.n[s] > 0 {
			return s, true
		}
	}
	return Undefined, false
}

// Sum returns the sum of the listed per-severity counts, leaving out those of
// Unrecognized severities.
func (c Counts) Sum() int {
	sum := 0
	for _, n := range c.n {
		sum += n
	}
	return sum
}

// Total returns the number of findings: the reported total when there is one
// and it is not smaller than the sum of every count, Unrecognized ones
// included, otherwise that sum.
func (c Counts) Total() int {
	return max(c.total, c.Sum()+c.unrecognized)
}

// Other returns the number of findings beyond the listed severities: those
// of Unrecognized severities and those a reported total includes without
// listing them, whose severity is therefore unknown.
func (c Counts) Other() int {
	return c.Total() - c.Sum()
}

// AtLeast returns the number of listed findings of severity s or worse.
func (c Counts) AtLeast(s Severity) int {
	sum := 0
	for t := Critical; t >= max(s, Undefined); t-- {
		sum += c.n[t]
	}
	return sum
}

// String lists the non-zero counts from the worst severity down, such as
// "2 CRITICAL, 5 HIGH", followed by the findings of unknown severity; it
// returns "none" when there are no findings and "unknown" when nothing was
// reported.
func (c Counts) String() string {
	if !c.reported {
		return "unknown"
	}
	var parts []string
	for _, s := range Severities() {
		if c.n[s] > 0 {
			parts = append(parts, strconv.Itoa(c.n[s])+" "+s.String())
		}
	}
	if o := c.Other(); o > 0 {
		parts = append(parts, strconv.Itoa(o)+" other")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
