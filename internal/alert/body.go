package alert

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// The bounds on each piece of event text in the body, so that the parts
// around the findings list stay small and the list gets the room.
const (
	maxName        = 256
	maxID          = 128
	maxVersion     = 128
	maxURI         = 1024
	maxTitle       = 256
	maxDescription = 2000
	maxReason      = 2000
	maxNote        = 500
	maxNotes       = 20
	maxTagBytes    = 8192
	maxListedIDs   = 20
	// listReserve is kept free for the line that ends a cut list.
	listReserve = 256
)

// body writes the plain-text body within budget bytes.
func body(s scan.Scan, counts scan.Counts, findings []scan.Finding, opts Options,
	budget int) string {
	head := headline(s, counts, opts) + "\n\n" + image(s) + countsSection(s, counts)
	tail := notes(s, counts, findings, opts) + links(s)
	var list string
	if s.Finding != nil {
		list = "\n" + findingSection(s.Finding)
	} else if len(findings) > 0 {
		list = "\n" + topList(counts, findings, opts.MaxFindings,
			budget-len(head)-len(tail)-listReserve)
	}
	b := head + list + tail
	if len(b) > budget {
		// Only a limit far below SNS's leaves too little room for the fixed
		// parts.
		b = cut(b, budget)
	}
	return b
}

// headline is the body's first sentence: what happened to which image.
func headline(s scan.Scan, counts scan.Counts, opts Options) string {
	ref := oneLine(imageRef(s), maxName+maxName)
	kind := string(s.Kind)
	if kind == "" {
		kind = "image"
	}
	switch {
	case s.Finding != nil:
		return fmt.Sprintf("Amazon Inspector reports %s %s in %s.",
			s.Finding.Severity, oneLine(s.Finding.ID, maxID), ref)
	case s.Failed || s.Unsupported:
		line := fmt.Sprintf("The %s scan of %s did not complete: %s.", kind, ref, status(s))
		reason := oneLine(opts.Reason, maxReason)
		if reason == "" {
			reason = "not given"
		}
		return line + "\nReason: " + reason
	case !counts.Reported():
		return fmt.Sprintf("The %s scan of %s ended with status %s; its findings are unknown.",
			kind, ref, status(s))
	case counts.Total() == 0:
		return fmt.Sprintf("The %s scan of %s found no vulnerabilities.", kind, ref)
	default:
		return fmt.Sprintf("The %s scan of %s found %s: %s.", kind, ref,
			plural(counts.Total(), "vulnerability", "vulnerabilities"), counts)
	}
}

// image describes the image.
func image(s scan.Scan) string {
	var b strings.Builder
	b.WriteString("Image\n")
	field(&b, "Repository", oneLine(s.Repository, maxName))
	registry := oneLine(s.RegistryID, maxName)
	if region := oneLine(s.Region, maxName); region != "" {
		registry = strings.TrimPrefix(registry+", "+region, ", ")
	}
	field(&b, "Registry", registry)
	field(&b, "Digest", oneLine(s.Digest, maxName))
	field(&b, "Tags", tags(s.Tags))
	scanText := string(s.Kind)
	if st := oneLine(s.Status, 64); st != "" {
		scanText = strings.TrimPrefix(scanText+", "+st, ", ")
	}
	field(&b, "Scan", scanText)
	if !s.Time.IsZero() {
		field(&b, "Time", s.Time.UTC().Format(time.RFC3339))
	}
	field(&b, "Event", oneLine(s.EventID, maxID))
	return b.String()
}

// field writes one "  Name: value" line, or nothing when the value is empty.
func field(b *strings.Builder, name, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(b, "  %-13s %s\n", name+":", value)
}

// tags lists every tag, within maxTagBytes, or says the image is untagged.
func tags(list []string) string {
	if len(list) == 0 {
		return "(untagged)"
	}
	var b strings.Builder
	for i, t := range list {
		t = oneLine(t, maxName+64)
		if b.Len()+len(t) > maxTagBytes {
			fmt.Fprintf(&b, " and %d more", len(list)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t)
	}
	return b.String()
}

// countsSection lists the counts per severity as reported, absent severities
// left out.
func countsSection(s scan.Scan, counts scan.Counts) string {
	if s.Finding != nil || s.Failed || s.Unsupported {
		return ""
	}
	if !counts.Reported() {
		return "\nFindings by severity: not reported\n"
	}
	if counts.Total() == 0 {
		return "\nFindings by severity: none\n"
	}
	var b strings.Builder
	b.WriteString("\nFindings by severity\n")
	for _, sev := range scan.Severities() {
		if n, ok := counts.Get(sev); ok {
			fmt.Fprintf(&b, "  %-14s %6d\n", sev, n)
		}
	}
	if n := counts.Other(); n > 0 {
		fmt.Fprintf(&b, "  %-14s %6d\n", "other", n)
	}
	fmt.Fprintf(&b, "  %-14s %6d\n", "total", counts.Total())
	return b.String()
}

// topList lists the worst findings, at most limit of them and within budget
// bytes, and says how many more there are.
func topList(counts scan.Counts, findings []scan.Finding, limit, budget int) string {
	total := findingTotal(counts, findings)
	idx := top(findings, limit)
	var b strings.Builder
	if len(idx) < total {
		fmt.Fprintf(&b, "Top %d of %d findings, worst first\n", len(idx), total)
	} else {
		fmt.Fprintf(&b, "%s, worst first\n", plural(total, "finding", "findings"))
	}
	shown := 0
	for n, i := range idx {
		entry := listEntry(n+1, &findings[i])
		if b.Len()+len(entry) > budget {
			break
		}
		b.WriteString(entry)
		shown++
	}
	switch more := total - shown; {
	case shown < len(idx):
		fmt.Fprintf(&b, "  ... and %d more, not listed to keep this message within "+
			"the SNS size limit; see the scan results in the ECR console.\n", more)
	case more > 0:
		fmt.Fprintf(&b, "  ... and %d more; see the scan results in the ECR console.\n", more)
	}
	return b.String()
}

// findingTotal is the number of findings the list is taken from: the counted
// ones, or those passed when there are more of them.
func findingTotal(counts scan.Counts, findings []scan.Finding) int {
	return max(counts.Total(), len(findings))
}

// listEntry renders one finding of the list.
func listEntry(n int, f *scan.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4d. %s  %s%s\n", n, orDash(oneLine(f.ID, maxID)), f.Severity, score(f))
	if pkg := packageLine(f); pkg != "" {
		fmt.Fprintf(&b, "      %s\n", pkg)
	}
	if uri := oneLine(f.URI, maxURI); uri != "" {
		fmt.Fprintf(&b, "      %s\n", uri)
	}
	return b.String()
}

// score formats a known score, such as "  score 9.8".
func score(f *scan.Finding) string {
	if !(f.Score > 0) || f.Score > 1000 {
		return ""
	}
	return "  score " + strconv.FormatFloat(f.Score, 'f', 1, 64)
}

// packageLine says which package is affected and which version fixes it,
// such as "openssl 1.1.1k-1 -> 1.1.1w-1".
func packageLine(f *scan.Finding) string {
	pkg := strings.TrimSpace(oneLine(f.Package, maxName) + " " +
		oneLine(f.Installed, maxVersion))
	if pkg == "" {
		return ""
	}
	if fixed := oneLine(scan.FixedIn(f.FixedIn), maxVersion); fixed != "" {
		return pkg + " -> " + fixed
	}
	return pkg + " (no fixed version listed)"
}

// findingSection describes the single finding of an Inspector2 Finding.
func findingSection(f *scan.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Finding\n  %s  %s%s\n", orDash(oneLine(f.ID, maxID)), f.Severity, score(f))
	field(&b, "Title", oneLine(f.Title, maxTitle))
	field(&b, "Package", packageLine(f))
	field(&b, "Details", oneLine(f.URI, maxURI))
	field(&b, "Finding ARN", oneLine(f.ARN, maxURI))
	field(&b, "Description", oneLine(f.Description, maxDescription))
	return b.String()
}

// notes writes the notes: suppressed findings, findings that could not be
// listed, and the caller's notes.
func notes(s scan.Scan, counts scan.Counts, findings []scan.Finding, opts Options) string {
	var list []string
	if opts.Suppressed > 0 {
		ids := opts.SuppressedIDs[:min(len(opts.SuppressedIDs), maxListedIDs)]
		clean := make([]string, 0, len(ids))
		for _, id := range ids {
			if id = oneLine(id, maxID); id != "" {
				clean = append(clean, id)
			}
		}
		note := plural(opts.Suppressed, "finding", "findings") +
			" left out by suppressions, neither counted nor listed"
		if len(clean) > 0 {
			note += ": " + strings.Join(clean, ", ")
			if len(opts.SuppressedIDs) > len(ids) {
				note += fmt.Sprintf(" and %d more", len(opts.SuppressedIDs)-len(ids))
			}
		}
		list = append(list, note)
	}
	if s.Finding == nil && !s.Failed && !s.Unsupported && len(findings) == 0 &&
		counts.Total() > 0 {
		list = append(list, "the findings are not listed here; see the scan results "+
			"in the ECR console")
	}
	for i, n := range opts.Notes {
		if i == maxNotes {
			list = append(list, "and "+plural(len(opts.Notes)-i, "more note", "more notes"))
			break
		}
		if n = oneLine(n, maxNote); n != "" {
			list = append(list, n)
		}
	}
	if len(list) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nNotes\n")
	for _, n := range list {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	return b.String()
}

// The patterns the parts of a console link must match, so that a link never
// carries text from an event that is not what it claims to be.
var (
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$`)
	registryPattern   = regexp.MustCompile(`^\d{12}$`)
	repositoryPattern = regexp.MustCompile(
		`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	digestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

// links writes the links to the image's scan results and details in the ECR
// console, when the scan names a valid region, registry, repository and
// digest.
func links(s scan.Scan) string {
	base := consoleURL(s.Region)
	if base == "" || !registryPattern.MatchString(s.RegistryID) ||
		len(s.Repository) > maxName || !repositoryPattern.MatchString(s.Repository) ||
		len(s.Digest) > maxName || !digestPattern.MatchString(s.Digest) {
		return ""
	}
	image := base + "/ecr/repositories/private/" + s.RegistryID + "/" + s.Repository +
		"/_/image/" + s.Digest
	query := "?region=" + s.Region
	var b strings.Builder
	b.WriteString("\nIn the ECR console\n")
	field(&b, "Scan results", image+"/scan-results"+query)
	field(&b, "Image", image+"/details"+query)
	return b.String()
}

// consoleURL returns the console's address for a region in its partition, or
// "" for a region it cannot link to.
func consoleURL(region string) string {
	switch {
	case !regionPattern.MatchString(region):
		return ""
	case strings.HasPrefix(region, "cn-"):
		return "https://" + region + ".console.amazonaws.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "https://" + region + ".console.amazonaws-us-gov.com"
	case strings.HasPrefix(region, "us-iso"), strings.HasPrefix(region, "eu-isoe"):
		return ""
	default:
		return "https://" + region + ".console.aws.amazon.com"
	}
}

// plural writes a count with the noun that agrees with it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
