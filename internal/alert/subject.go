package alert

import (
	"strconv"
	"strings"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// subject says, in printable ASCII within MaxSubjectLen, what happened and to
// which image: "2 CRITICAL, 5 HIGH in team/app:1.4.2", "Scan FAILED for
// team/app:1.4.2", "No findings in team/app@sha256:0123456789ab" or
// "MEDIUM CVE-2024-1 in team/app:1.4.2".
func subject(s scan.Scan, counts scan.Counts) string {
	var (
		parts []string
		link  = " in "
	)
	switch {
	case s.Finding != nil:
		parts = []string{s.Finding.Severity.String() + " " + cut(ascii(s.Finding.ID), 40)}
	case s.Failed || s.Unsupported || !counts.Reported():
		parts = []string{"Scan " + status(s)}
		link = " for "
	case counts.Total() == 0:
		parts = []string{"No findings"}
	default:
		for _, sev := range scan.Severities() {
			if n, _ := counts.Get(sev); n > 0 {
				parts = append(parts, strconv.Itoa(n)+" "+sev.String())
			}
		}
		if n := counts.Other(); n > 0 {
			parts = append(parts, strconv.Itoa(n)+" other")
		}
	}
	ref := ascii(imageRef(s))
	var more string
	if len(s.Tags) > 1 {
		more = " (+" + plural(len(s.Tags)-1, "tag", "tags") + ")"
	}
	return fit(parts, link, ref, more)
}

// status returns the scan status for a subject: printable ASCII, short, and
// UNKNOWN when there is none.
func status(s scan.Scan) string {
	st := cut(ascii(s.Status), 32)
	if st == "" {
		return "UNKNOWN"
	}
	return st
}

// fit joins the parts, the link and the image reference within
// MaxSubjectLen. It gives way in this order: the note on further tags, the
// least severe counts down to the two worst, the middle of the reference
// (keeping at least minRef characters of it), and then the second count.
func fit(parts []string, link, ref, more string) string {
	const minRef = 32
	head := func(k int) string {
		if k >= len(parts) {
			return strings.Join(parts, ", ") + link
		}
		return strings.Join(parts[:k], ", ") + ", " + ellipsis + link
	}
	if s := head(len(parts)) + ref + more; len(s) <= MaxSubjectLen {
		return s
	}
	for k := len(parts); k >= 1; k-- {
		if s := head(k) + ref; len(s) <= MaxSubjectLen {
			return s
		}
		if k > 2 {
			continue
		}
		if h := head(k); MaxSubjectLen-len(h) >= minRef {
			return h + middle(ref, MaxSubjectLen-len(h))
		}
	}
	return cut(head(1)+ref, MaxSubjectLen)
}

// imageRef names the image: "repository:tag" with its first tag, or
// "repository@sha256:0123456789ab" when it is untagged.
func imageRef(s scan.Scan) string {
	repo := s.Repository
	if repo == "" {
		repo = "unknown repository"
	}
	s.Repository = repo
	return s.Ref()
}
