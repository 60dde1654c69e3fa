// Package findings reads an image's scan findings from ECR, basic and
// enhanced alike, in bounded pages and bounded memory.
package findings

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecr-stack/ecr-stack/internal/scan"
)

// API is the part of the ECR client that a Reader calls.
type API interface {
	DescribeImageScanFindings(ctx context.Context, params *ecr.DescribeImageScanFindingsInput,
		optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

// PageSize is the number of findings asked for per page, the most ECR
// returns.
const PageSize = 1000

// The defaults Options falls back to.
const (
	DefaultMaxFindings = 20
	DefaultMaxPages    = 20
)

// maxSuppressedIDs bounds SuppressedIDs; an alert names only a few anyway.
const maxSuppressedIDs = 100

// maxDescription bounds the description kept per finding, in bytes, so a
// verbose advisory cannot grow what is held in memory.
const maxDescription = 1024

// ErrNotFound is returned, wrapped, when the repository, the image or its
// scan no longer exists.
var ErrNotFound = errors.New("image scan not found")

// Image identifies the image whose findings are read. RegistryID may be
// empty for the caller's own registry.
type Image struct {
	RegistryID string
	Repository string
	Digest     string
}

// String names the image as "repository@digest".
func (i Image) String() string {
	return i.Repository + "@" + i.Digest
}

// Options bounds a read. Zero values take the defaults.
type Options struct {
	// MaxFindings is the number of findings kept, the most severe first
	// (default DefaultMaxFindings).
	MaxFindings int
	// MaxPages is the number of pages read before stopping with a note
	// (default DefaultMaxPages, which is DefaultMaxPages*PageSize findings).
	MaxPages int
	// Suppressed reports findings that are left out of counts and lists; nil
	// suppresses nothing.
	Suppressed func(f *scan.Finding) bool
}

// Result is what a read found.
type Result struct {
	// Status and Description are the scan status and its explanation as
	// DescribeImageScanFindings reports them, such as FAILED and
	// "UnsupportedImageError: ...".
	Status, Description string
	// Findings holds at most MaxFindings findings, ordered by scan.Compare.
	Findings []scan.Finding
	// Counts holds the findings per severity, without suppressed ones. When
	// the read stopped early they are the scan's own totals less the
	// suppressed findings seen or, when the scan reports none, the counts of
	// the findings read.
	Counts scan.Counts
	// Listed is the number of findings read and not suppressed; Suppressed
	// the number left out.
	Listed, Suppressed int
	// SuppressedIDs lists the distinct vulnerability ids left out, in the
	// order first seen, at most maxSuppressedIDs of them.
	SuppressedIDs []string
	// Pages is the number of pages read.
	Pages int
	// Truncated is set when the read stopped at MaxPages with more to read.
	Truncated bool
	// Note explains a truncated read for the people who read the alert.
	Note string
}

// Failed reports whether the scan failed or the image cannot be scanned.
func (r Result) Failed() bool {
	return r.Status == string(types.ScanStatusFailed) ||
		r.Status == string(types.ScanStatusUnsupportedImage)
}

// Reader reads scan findings through the ECR API.
type Reader struct {
	api  API
	opts Options
}

// New returns a Reader that calls api, bounded by opts.
func New(api API, opts Options) *Reader {
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = DefaultMaxFindings
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	return &Reader{api: api, opts: opts}
}

// Read fetches the findings of img page by page with the SDK's paginator,
// keeping only the most severe MaxFindings and the counts per severity, so its
// memory does not grow with the number of findings. It stops after MaxPages
// pages and says so in the result's Note. A repository, image or scan that
// no longer exists gives an error that wraps ErrNotFound.
func (r *Reader) Read(ctx context.Context, img Image) (Result, error) {
	in := &ecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String(img.Repository),
		ImageId:        &types.ImageIdentifier{ImageDigest: aws.String(img.Digest)},
		MaxResults:     aws.Int32(PageSize),
	}
	if img.RegistryID != "" {
		in.RegistryId = aws.String(img.RegistryID)
	}
	pages := ecr.NewDescribeImageScanFindingsPaginator(r.api, in)

	var (
		res        Result
		top        = newTopN(r.opts.MaxFindings)
		counts     scan.Counts
		suppressed scan.Counts
		reported   scan.Counts
	)
	add := func(f scan.Finding) {
		if r.opts.Suppressed != nil && r.opts.Suppressed(&f) {
			res.Suppressed++
			suppressed.Add(f.Severity, 1)
			if len(res.SuppressedIDs) < maxSuppressedIDs &&
				!slices.Contains(res.SuppressedIDs, f.ID) {
				res.SuppressedIDs = append(res.SuppressedIDs, f.ID)
			}
			return
		}
		res.Listed++
		counts.Add(f.Severity, 1)
		top.offer(f)
	}

	for pages.HasMorePages() {
		if res.Pages == r.opts.MaxPages {
			res.Truncated = true
			break
		}
		out, err := pages.NextPage(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("describing scan findings of image %q: %w", img,
				notFound(err))
		}
		res.Pages++

		if st := out.ImageScanStatus; st != nil {
			res.Status = string(st.Status)
			res.Description = aws.ToString(st.Description)
		}
		isf := out.ImageScanFindings
		if isf == nil {
			continue
		}
		if res.Pages == 1 {
			reported = flattenCounts(isf.FindingSeverityCounts)
		}
		for i := range isf.Findings {
			add(flattenBasic(&isf.Findings[i]))
		}
		for i := range isf.EnhancedFindings {
			add(flattenEnhanced(&isf.EnhancedFindings[i]))
		}
	}

	res.Findings = top.sorted()
	res.Counts = counts
	// Every finding was read, so a severity without any is known to have
	// none.
	res.Counts.MarkReported()
	switch {
	case res.Truncated && reported.Reported():
		res.Counts = subtract(reported, suppressed)
		res.Note = fmt.Sprintf("Read the first %d pages of findings (%d findings) and stopped; "+
			"the counts are the scan's own totals.", res.Pages, res.Listed+res.Suppressed)
	case res.Truncated:
		res.Note = fmt.Sprintf("Read the first %d pages of findings (%d findings) and stopped; "+
			"the counts cover those findings only.", res.Pages, res.Listed+res.Suppressed)
	}
	return res, nil
}

// notFound wraps ErrNotFound around err when ECR says the repository, image
// or scan does not exist.
func notFound(err error) error {
	var (
		image *types.ImageNotFoundException
		sc    *types.ScanNotFoundException
		repo  *types.RepositoryNotFoundException
	)
	if errors.As(err, &image) || errors.As(err, &sc) || errors.As(err, &repo) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// flattenCounts turns ECR's findingSeverityCounts into scan.Counts the way
// scan reads an event's counts: a TOTAL becomes the reported total, and a key
// that names no known severity counts as scan.Unrecognized rather than being
// lost.
func flattenCounts(m map[string]int32) scan.Counts {
	var c scan.Counts
	if m == nil {
		return c
	}
	c.MarkReported()
	total, hasTotal := 0, false
	for k, n := range m {
		if strings.EqualFold(strings.TrimSpace(k), "TOTAL") {
			total, hasTotal = int(n), true
			continue
		}
		sev, ok := scan.ParseSeverity(k)
		if !ok {
			sev = scan.Unrecognized
		}
		c.Add(sev, int(n))
	}
	if hasTotal {
		c.SetTotal(total)
	}
	return c
}

// subtract returns a less b per severity, scan.Unrecognized included, never
// below zero.
func subtract(a, b scan.Counts) scan.Counts {
	for _, sev := range append(scan.Severities(), scan.Unrecognized) {
		if n, ok := b.Get(sev); ok && n > 0 {
			a.Add(sev, -n)
		}
	}
	return a
}

// flattenBasic converts a basic scanning finding. Its package, version and
// score travel as attributes.
func flattenBasic(f *types.ImageScanFinding) scan.Finding {
	out := scan.Finding{
		ID:          aws.ToString(f.Name),
		URI:         aws.ToString(f.Uri),
		Description: clip(aws.ToString(f.Description), maxDescription),
	}
	out.Severity = scan.ReadSeverity(string(f.Severity))
	var cvss3, cvss2 string
	for _, a := range f.Attributes {
		switch aws.ToString(a.Key) {
		case "package_name":
			out.Package = aws.ToString(a.Value)
		case "package_version":
			out.Installed = aws.ToString(a.Value)
		case "CVSS3_SCORE":
			cvss3 = aws.ToString(a.Value)
		case "CVSS2_SCORE":
			cvss2 = aws.ToString(a.Value)
		}
	}
	for _, s := range []string{cvss3, cvss2} {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			out.Score = v
			break
		}
	}
	return out
}

// flattenEnhanced converts an Inspector finding as ECR lists it.
func flattenEnhanced(f *types.EnhancedImageScanFinding) scan.Finding {
	out := scan.Finding{
		Title:       aws.ToString(f.Title),
		Description: clip(aws.ToString(f.Description), maxDescription),
		ARN:         aws.ToString(f.FindingArn),
		Score:       f.Score,
	}
	out.Severity = scan.ReadSeverity(aws.ToString(f.Severity))
	if out.Score == 0 && f.ScoreDetails != nil && f.ScoreDetails.Cvss != nil {
		out.Score = f.ScoreDetails.Cvss.Score
	}

	if d := f.PackageVulnerabilityDetails; d != nil {
		out.ID = aws.ToString(d.VulnerabilityId)
		out.URI = aws.ToString(d.SourceUrl)
		if out.URI == "" && len(d.ReferenceUrls) > 0 {
			out.URI = d.ReferenceUrls[0]
		}
		if out.Score == 0 {
			for _, c := range d.Cvss {
				out.Score = max(out.Score, c.BaseScore)
			}
		}
		if len(d.VulnerablePackages) > 0 {
			// The first package names the finding, as in Inspector's own
			// events; the others share its vulnerability.
			p := d.VulnerablePackages[0]
			out.Package = aws.ToString(p.Name)
			out.Installed = scan.PackageVersion(epoch(p.Epoch), aws.ToString(p.Version),
				aws.ToString(p.Release))
			out.FixedIn = scan.FixedIn(aws.ToString(p.FixedInVersion))
		}
	}
	if out.ID == "" {
		out.ID, _, _ = strings.Cut(out.Title, " ")
	}
	if out.URI == "" && f.Remediation != nil && f.Remediation.Recommendation != nil {
		out.URI = aws.ToString(f.Remediation.Recommendation.Url)
	}
	return out
}

// epoch writes a package epoch; an absent one is "".
func epoch(e *int32) string {
	if e == nil {
		return ""
	}
	return strconv.Itoa(int(*e))
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// topN keeps the max best findings seen in a min-heap whose root is the
// least severe kept, so each offer costs O(log max) and memory stays at max.
type topN struct {
	max   int
	items []scan.Finding
}

// newTopN returns a topN that keeps the best n findings, with room for
// them allocated once.
func newTopN(n int) topN {
	return topN{max: n, items: make([]scan.Finding, 0, n)}
}

// offer keeps f when it is among the best max seen so far.
func (t *topN) offer(f scan.Finding) {
	if len(t.items) < t.max {
		heap.Push(t, f)
		return
	}
	if scan.Compare(&f, &t.items[0]) < 0 {
		t.items[0] = f
		heap.Fix(t, 0)
	}
}

// sorted returns the kept findings, the best first.
func (t *topN) sorted() []scan.Finding {
	out := make([]scan.Finding, len(t.items))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(t).(scan.Finding)
	}
	return out
}

// Len implements heap.Interface.
func (t *topN) Len() int { return len(t.items) }

// Less implements heap.Interface: the root is the finding that sorts last.
func (t *topN) Less(i, j int) bool { return scan.Compare(&t.items[i], &t.items[j]) > 0 }

// Swap implements heap.Interface.
func (t *topN) Swap(i, j int) { t.items[i], t.items[j] = t.items[j], t.items[i] }

// Push implements heap.Interface.
func (t *topN) Push(x any) { t.items = append(t.items, x.(scan.Finding)) }

// Pop implements heap.Interface.
func (t *topN) Pop() any {
	last := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return last
}
