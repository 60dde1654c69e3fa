package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// Decision says what to do with a scan result.
type Decision struct {
	// Notify is set when a message is due.
	Notify bool
	// NeedFindings is set when the event alone cannot decide: the findings
	// must be listed and passed to Apply, which decides. When they cannot be
	// listed (the image is gone, or the findings are not yet available), treat
	// it as Notify and say so in the message: a result that may be at or above
	// the threshold is never dropped for lack of detail.
	NeedFindings bool
	// Reason explains the decision in a short lower-case phrase for logs.
	Reason string
}

// Decide decides from the event alone, so that a scan below the threshold
// costs no API call.
//
// A failed or unsupported scan always notifies. An Inspector2 Finding
// notifies when it is active, not suppressed and at or above the threshold.
// A scan notifies when its counts reach the threshold, but needs its findings
// first when suppressions are active (suppressed findings may be all that
// reach it), when the event has no counts, or when Inspector's TOTAL counts
// findings of unlisted severities that could reach it. Findings of an
// unrecognized severity (a name ECR and Inspector do not document) count as
// reaching any threshold: nobody can tell where the severity ranks, so the
// scan notifies and the message lists them as other. A clean scan notifies
// only with NotifyOnClean.
func (c Config) Decide(s scan.Scan, now time.Time) Decision {
	if s.Finding != nil {
		return c.decideFinding(s, now)
	}
	if s.Failed {
		return Decision{Notify: true, Reason: "scan " + strings.ToLower(s.Status)}
	}
	if s.Unsupported {
		return Decision{Notify: true, Reason: "image not supported"}
	}
	counts := s.Counts
	if !counts.Reported() {
		return Decision{NeedFindings: true, Reason: "event carries no counts"}
	}
	reached := counts.AtLeast(c.Threshold)
	unrecognized, _ := counts.Get(scan.Unrecognized)
	unknown := counts.Other() > 0 && c.unlistedAtOrAbove(counts)
	if reached > 0 || unrecognized > 0 || unknown {
		switch {
		case len(c.active(now)) > 0:
			return Decision{NeedFindings: true, Reason: "suppressions may lower the counts"}
		case reached > 0 || unrecognized > 0:
			return Decision{Notify: true, Reason: c.reachedReason(reached, unrecognized)}
		default:
			return Decision{NeedFindings: true,
				Reason: "findings of unlisted severity may reach the threshold"}
		}
	}
	if counts.Total() == 0 {
		return Decision{Notify: c.NotifyOnClean, Reason: "no findings"}
	}
	return Decision{Reason: c.belowReason()}
}

// unlistedAtOrAbove reports whether a severity at or above the threshold is
// missing from counts, so findings counted only in a total might have it.
func (c Config) unlistedAtOrAbove(counts scan.Counts) bool {
	for s := scan.Critical; s >= c.Threshold && s > scan.Undefined; s-- {
		if !counts.Has(s) {
			return true
		}
	}
	return false
}

// decideFinding decides on the single finding of an Inspector2 Finding.
func (c Config) decideFinding(s scan.Scan, now time.Time) Decision {
	f := s.Finding
	switch {
	case s.Status != "" && s.Status != "ACTIVE":
		return Decision{Reason: "finding is " + strings.ToLower(s.Status)}
	case c.Suppressed(f.ID, now):
		return Decision{Reason: "finding is suppressed"}
	case f.Severity == scan.Unrecognized:
		return Decision{Notify: true, Reason: c.reachedReason(0, 1)}
	case f.Severity >= c.Threshold:
		return Decision{Notify: true, Reason: c.reachedReason(1, 0)}
	default:
		return Decision{Reason: fmt.Sprintf("finding %s is below the threshold %s",
			f.Severity, c.Threshold)}
	}
}

// reachedReason says how many findings reached the threshold and how many
// have an unrecognized severity.
func (c Config) reachedReason(n, unrecognized int) string {
	switch {
	case unrecognized == 0:
		return fmt.Sprintf("%d at or above %s", n, c.Threshold)
	case n == 0:
		return fmt.Sprintf("%d of unrecognized severity", unrecognized)
	default:
		return fmt.Sprintf("%d at or above %s, %d of unrecognized severity", n, c.Threshold,
			unrecognized)
	}
}

// belowReason says that nothing reached the threshold.
func (c Config) belowReason() string {
	return "nothing at or above " + c.Threshold.String()
}

// Outcome is the decision once the findings are known, with the findings and
// counts a message reports.
type Outcome struct {
	Decision
	// Scan is the scan with its counts lowered by the suppressed findings.
	Scan scan.Scan
	// Findings are the findings left after suppressions, in their original
	// order.
	Findings []scan.Finding
	// Suppressed is the number of findings left out; SuppressedIDs lists
	// their distinct vulnerability ids in the order first seen.
	Suppressed    int
	SuppressedIDs []string
}

// Apply leaves suppressed findings out and decides again with what remains.
// It calls nothing and does not modify findings; it returns findings itself
// when nothing is suppressed.
//
// findings is the list as fetched, possibly bounded. When it holds at least
// as many findings as the counts of s report, or s reports no counts, the
// counts are recomputed from the findings kept; otherwise each suppressed
// finding is taken off the counts of s, which a caller may first replace with
// the counts the API reports. An expired suppression no longer applies.
func (c Config) Apply(s scan.Scan, findings []scan.Finding, now time.Time) Outcome {
	out := Outcome{Scan: s, Findings: findings}
	if s.Finding != nil || s.Failed || s.Unsupported {
		out.Decision = c.Decide(s, now)
		return out
	}
	active := c.active(now)
	if len(active) > 0 {
		out.Findings = c.drop(&out, findings, active)
	}
	complete := !s.Counts.Reported() || len(findings) >= s.Counts.Total()
	if complete {
		var counts scan.Counts
		counts.MarkReported()
		for i := range out.Findings {
			counts.Add(out.Findings[i].Severity, 1)
		}
		out.Scan.Counts = counts
	}
	out.Decision = c.decideWithFindings(out.Scan, out.Findings, out.Suppressed)
	return out
}

// drop returns the findings that no active suppression names, taking each one
// it drops off out's counts. It allocates only when something is dropped.
func (c Config) drop(out *Outcome, findings []scan.Finding, active map[string]bool) []scan.Finding {
	first := -1
	for i := range findings {
		if active[strings.ToUpper(findings[i].ID)] {
			first = i
			break
		}
	}
	if first < 0 {
		return findings
	}
	kept := make([]scan.Finding, first, len(findings)-1)
	copy(kept, findings[:first])
	for i := first; i < len(findings); i++ {
		f := &findings[i]
		if !active[strings.ToUpper(f.ID)] {
			kept = append(kept, *f)
			continue
		}
		out.Suppressed++
		out.Scan.Counts.Add(f.Severity, -1)
		if !containsFold(out.SuppressedIDs, f.ID) {
			out.SuppressedIDs = append(out.SuppressedIDs, f.ID)
		}
	}
	return kept
}

// containsFold reports whether list holds id, ignoring case.
func containsFold(list []string, id string) bool {
	for _, s := range list {
		if strings.EqualFold(s, id) {
			return true
		}
	}
	return false
}

// decideWithFindings is Decide once the findings are known and suppressions
// applied, so suppressions no longer defer the decision.
func (c Config) decideWithFindings(s scan.Scan, findings []scan.Finding, suppressed int) Decision {
	counts := s.Counts
	reached := counts.AtLeast(c.Threshold)
	unrecognized, _ := counts.Get(scan.Unrecognized)
	if reached == 0 && unrecognized == 0 {
		// Findings counted only in a total have a severity in the list.
		for i := range findings {
			switch sev := findings[i].Severity; {
			case sev == scan.Unrecognized:
				unrecognized++
			case sev >= c.Threshold:
				reached++
			}
		}
	}
	switch {
	case reached > 0 || unrecognized > 0:
		return Decision{Notify: true, Reason: c.reachedReason(reached, unrecognized)}
	case counts.Total() == 0 && len(findings) == 0:
		reason := "no findings"
		if suppressed > 0 {
			reason = "no findings after suppressions"
		}
		return Decision{Notify: c.NotifyOnClean, Reason: reason}
	default:
		return Decision{Reason: c.belowReason()}
	}
}
