package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// envelope is the part of an EventBridge event that every kind shares.
type envelope struct {
	id, detailType, source, account, region string
	time                                    time.Time
	resources                               []string
	detail                                  json.RawMessage
}

// Parse reads an EventBridge event as raw JSON. It returns an error wrapping
// ErrIgnored for events that are not image scan results, and an error
// wrapping a *FieldError that names the field for a scan event that cannot be
// read. The envelope's time may be RFC 3339, Inspector's
// "Jan 2, 2006, 3:04:05 PM" or epoch seconds; one that cannot be read leaves
// Time zero rather than rejecting the event.
func Parse(raw []byte) (Scan, error) {
	ev, _, err := decodeObject(raw, "")
	if err != nil || ev.m == nil {
		return Scan{}, fmt.Errorf("reading event: %w",
			&FieldError{Field: "event", Rule: "not a JSON object"})
	}
	var env envelope
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"id", &env.id}, {"detail-type", &env.detailType}, {"source", &env.source},
		{"account", &env.account}, {"region", &env.region},
	} {
		if *f.dst, err = ev.str(f.key); err != nil {
			return Scan{}, fmt.Errorf("reading event: %w", err)
		}
	}
	env.time, _ = readTime(ev.m["time"])
	if env.resources, err = ev.strs("resources"); err != nil {
		// Resources only help to find the registry; an odd list is not worth
		// rejecting a scan result for.
		env.resources = nil
	}
	env.detail = ev.m["detail"]
	return parse(env)
}

// FromEvent reads an event that the Lambda runtime has already decoded. It
// behaves like Parse.
func FromEvent(ev events.EventBridgeEvent) (Scan, error) {
	return parse(envelope{
		id:         strings.TrimSpace(ev.ID),
		detailType: strings.TrimSpace(ev.DetailType),
		source:     strings.TrimSpace(ev.Source),
		account:    strings.TrimSpace(ev.AccountID),
		region:     strings.TrimSpace(ev.Region),
		time:       ev.Time.UTC(),
		resources:  ev.Resources,
		detail:     ev.Detail,
	})
}

// parse dispatches on the detail-type and wraps every error with the event.
func parse(env envelope) (Scan, error) {
	var (
		s   Scan
		err error
	)
	switch Source(env.detailType) {
	case ImageScan:
		s, err = parseImageScan(env)
	case InspectorScan:
		s, err = parseInspectorScan(env)
	case InspectorFinding:
		s, err = parseInspectorFinding(env)
	default:
		err = fmt.Errorf("detail-type %q: %w", env.detailType, ErrIgnored)
	}
	if err != nil {
		return Scan{}, fmt.Errorf("reading event %q: %w", env.id, err)
	}
	return s, nil
}

// newScan fills the fields every kind takes from the envelope.
func newScan(env envelope, kind Kind) Scan {
	return Scan{
		Source:     Source(env.detailType),
		EventID:    env.id,
		Kind:       kind,
		Account:    env.account,
		Region:     env.region,
		RegistryID: env.account,
		Time:       env.time,
	}
}

// detail decodes the event's detail, which scan events must carry. A detail
// delivered as a string holding JSON is accepted too.
func detail(env envelope) (object, error) {
	raw := bytes.TrimSpace(env.detail)
	var inner string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &inner) == nil {
		raw = json.RawMessage(inner)
	}
	d, ok, err := decodeObject(raw, "detail")
	if err != nil {
		return object{}, err
	}
	if !ok {
		return object{}, &FieldError{Field: "detail", Rule: "missing"}
	}
	return d, nil
}

// parseImageScan reads an "ECR Image Scan" event from basic scanning.
func parseImageScan(env envelope) (Scan, error) {
	d, err := detail(env)
	if err != nil {
		return Scan{}, err
	}
	s := newScan(env, Basic)
	return s, readScanDetail(&s, env, d)
}

// parseInspectorScan reads an "Inspector2 Scan" event from enhanced scanning.
// Inspector sends the same detail-type for EC2 instances and Lambda functions;
// those carry no repository or digest and are ignored.
func parseInspectorScan(env envelope) (Scan, error) {
	d, err := detail(env)
	if err != nil {
		return Scan{}, err
	}
	if !d.has("repository-name") && !d.has("image-digest") {
		return Scan{}, fmt.Errorf("detail-type %q without a repository: %w",
			env.detailType, ErrIgnored)
	}
	s := newScan(env, Enhanced)
	return s, readScanDetail(&s, env, d)
}

// readScanDetail reads the detail that both scan events share.
func readScanDetail(s *Scan, env envelope, d object) error {
	var err error
	if err = readRepository(s, env, d, "repository-name"); err != nil {
		return err
	}
	if s.Digest, err = readDigest(d, "image-digest"); err != nil {
		return err
	}
	if s.Tags, err = d.strs("image-tags"); err != nil {
		return err
	}
	if s.Status, err = d.str("scan-status"); err != nil {
		return err
	}
	if s.Status == "" {
		return &FieldError{Field: d.field("scan-status"), Rule: "missing"}
	}
	setStatus(s, s.Status)
	if s.Counts, err = readCounts(d, "finding-severity-counts"); err != nil {
		return err
	}
	return nil
}

// setStatus records the status in upper case and derives the failure flags.
func setStatus(s *Scan, status string) {
	s.Status = strings.ToUpper(strings.TrimSpace(status))
	s.Failed = s.Status == StatusFailed || strings.HasSuffix(s.Status, "_FAILED")
	s.Unsupported = strings.HasPrefix(s.Status, "UNSUPPORTED")
}

// repositoryName matches ECR repository names; anything else in a name would
// end up in links and subjects.
var repositoryName = regexp.MustCompile(
	`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// readRepository reads the repository name, which may be given as its ARN,
// and takes the registry and region from the ARN, or from the event's
// resources, when they say.
func readRepository(s *Scan, env envelope, d object, key string) error {
	name, err := d.str(key)
	if err != nil {
		return err
	}
	if name == "" {
		return &FieldError{Field: d.field(key), Rule: "missing"}
	}
	if strings.HasPrefix(name, "arn:") {
		region, account, repo, ok := parseRepositoryARN(name)
		if !ok {
			return &FieldError{Field: d.field(key), Rule: "not a repository ARN"}
		}
		name = repo
		s.RegistryID = account
		if s.Region == "" {
			s.Region = region
		}
	} else if region, account, ok := registryFromResources(env.resources, name); ok {
		s.RegistryID = account
		if s.Region == "" {
			s.Region = region
		}
	}
	if len(name) < 2 || len(name) > 256 || !repositoryName.MatchString(name) {
		return &FieldError{Field: d.field(key), Rule: "not a repository name"}
	}
	s.Repository = name
	return nil
}

// parseRepositoryARN splits
// "arn:<partition>:ecr:<region>:<account>:repository/<name>[/<digest>]" into its
// region, account and repository name.
func parseRepositoryARN(arn string) (region, account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "ecr" {
		return "", "", "", false
	}
	name, ok = strings.CutPrefix(parts[5], "repository/")
	if !ok || name == "" {
		return "", "", "", false
	}
	// An image ARN appends "/sha256" and the digest's hex after a colon, which
	// SplitN left in name.
	if i := strings.LastIndex(name, "/"); i >= 0 && strings.Contains(name[i:], ":") {
		name = name[:i]
	}
	return parts[3], parts[4], name, true
}

// registryFromResources finds the repository's ARN among the event's
// resources and returns its region and account.
func registryFromResources(resources []string, name string) (region, account string, ok bool) {
	for _, r := range resources {
		region, account, repo, ok := parseRepositoryARN(r)
		if ok && repo == name && account != "" {
			return region, account, true
		}
	}
	return "", "", false
}

// digestPattern matches an OCI content digest such as "sha256:<hex>".
var digestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

// readDigest reads a required image digest.
func readDigest(d object, key string) (string, error) {
	digest, err := d.str(key)
	if err != nil {
		return "", err
	}
	if digest == "" {
		return "", &FieldError{Field: d.field(key), Rule: "missing"}
	}
	if len(digest) > 256 || !digestPattern.MatchString(digest) {
		return "", &FieldError{Field: d.field(key), Rule: "not an image digest"}
	}
	return digest, nil
}

// readCounts reads finding-severity-counts: absent or null leaves the counts
// unreported, {} reports no findings and TOTAL becomes the reported total. A
// key that names no known severity, such as one AWS adds later, counts as
// Unrecognized, so its findings are reported as other rather than lost; its
// value is skipped when it is not a count, since nothing says it is one.
func readCounts(d object, key string) (Counts, error) {
	var c Counts
	o, ok, err := d.object(key)
	if err != nil || !ok {
		return c, err
	}
	c.MarkReported()
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	total, hasTotal := 0, false
	for _, k := range keys {
		if isNull(o.m[k]) {
			continue
		}
		sev, known := ParseSeverity(k)
		isTotal := strings.EqualFold(strings.TrimSpace(k), "TOTAL")
		n, err := o.count(k)
		if !known && !isTotal {
			if err != nil {
				continue
			}
			sev = Unrecognized
		}
		if err != nil {
			return Counts{}, err
		}
		if isTotal {
			total, hasTotal = n, true
			continue
		}
		// UNDEFINED and UNTRIAGED both read as Undefined, and every
		// unrecognized name as Unrecognized, so they add up.
		prev, _ := c.Get(sev)
		c.Set(sev, prev+n)
	}
	if hasTotal {
		c.SetTotal(total)
	}
	return c, nil
}

// parseInspectorFinding reads an "Inspector2 Finding" event, which carries one
// finding. Findings for resources other than ECR images are ignored.
func parseInspectorFinding(env envelope) (Scan, error) {
	d, err := detail(env)
	if err != nil {
		return Scan{}, err
	}
	img, res, found, err := ecrImage(d)
	if err != nil {
		return Scan{}, err
	}
	if !found {
		return Scan{}, fmt.Errorf("detail-type %q for a resource other than an ECR image: %w",
			env.detailType, ErrIgnored)
	}
	s := newScan(env, Enhanced)
	if err := readRepository(&s, env, img, "repositoryName"); err != nil {
		return Scan{}, err
	}
	if s.Digest, err = readDigest(img, "imageHash"); err != nil {
		return Scan{}, err
	}
	if s.Tags, err = img.strs("imageTags"); err != nil {
		return Scan{}, err
	}
	if registry := img.text("registry"); registry != "" {
		s.RegistryID = registry
	}
	if s.Region == "" {
		if region := res.text("region"); region != "" && region != "N/A" {
			s.Region = region
		}
	}
	status := d.text("status")
	if status == "" {
		status = "ACTIVE"
	}
	setStatus(&s, status)
	if s.Time.IsZero() {
		for _, key := range []string{"updatedAt", "lastObservedAt", "firstObservedAt"} {
			if t, ok := readTime(d.m[key]); ok {
				s.Time = t
				break
			}
		}
	}
	f := readFinding(d)
	s.Finding = &f
	s.Counts.Set(f.Severity, 1)
	return s, nil
}

// ecrImage finds the first resource with awsEcrContainerImage details. It
// reports an error for an ECR image resource without those details.
func ecrImage(d object) (img, res object, found bool, err error) {
	for i, raw := range d.array("resources") {
		res, ok, err := decodeObject(raw, d.field("resources")+"["+strconv.Itoa(i)+"]")
		if err != nil || !ok {
			continue
		}
		details, _, err := res.object("details")
		if err != nil {
			return object{}, object{}, false, err
		}
		img, ok, err := details.object("awsEcrContainerImage")
		if err != nil {
			return object{}, object{}, false, err
		}
		if ok {
			return img, res, true, nil
		}
		if res.text("type") == "AWS_ECR_CONTAINER_IMAGE" {
			return object{}, object{}, false, &FieldError{
				Field: details.field("awsEcrContainerImage"),
				Rule:  "missing",
			}
		}
	}
	return object{}, object{}, false, nil
}

// readFinding reads the descriptive part of an Inspector finding. Nothing
// here rejects the event: a finding with an odd score or no package is still
// worth reporting.
func readFinding(d object) Finding {
	f := Finding{
		Title:       d.text("title"),
		Description: d.text("description"),
		ARN:         d.text("findingArn"),
	}
	f.Severity = ReadSeverity(d.text("severity"))
	pvd, _, _ := d.object("packageVulnerabilityDetails")
	f.ID = pvd.text("vulnerabilityId")
	if f.ID == "" {
		f.ID, _, _ = strings.Cut(f.Title, " ")
	}
	if f.ID == "" {
		f.ID = f.ARN
	}
	if score, ok := d.number("inspectorScore"); ok {
		f.Score = score
	} else {
		for _, raw := range pvd.array("cvss") {
			cvss, _, _ := decodeObject(raw, "")
			if score, ok := cvss.number("baseScore"); ok && score > f.Score {
				f.Score = score
			}
		}
	}
	f.URI = pvd.text("sourceUrl")
	if f.URI == "" {
		for _, raw := range pvd.array("referenceUrls") {
			if u, ok := scalarText(raw); ok && strings.TrimSpace(u) != "" {
				f.URI = strings.TrimSpace(u)
				break
			}
		}
	}
	if pkgs := pvd.array("vulnerablePackages"); len(pkgs) > 0 {
		pkg, _, _ := decodeObject(pkgs[0], "")
		f.Package = pkg.text("name")
		f.Installed = PackageVersion(pkg.text("epoch"), pkg.text("version"), pkg.text("release"))
		f.FixedIn = FixedIn(pkg.text("fixedInVersion"))
	}
	return f
}

// PackageVersion joins the parts of a package version the way package
// managers print them: "epoch:version-release", leaving out a zero or empty
// epoch and an empty release.
func PackageVersion(epoch, version, release string) string {
	if version == "" {
		return ""
	}
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch != "" && epoch != "0" {
		v = epoch + ":" + v
	}
	return v
}

// FixedIn normalises a fixed-in version: Inspector writes "NotAvailable" when
// no fix exists, which reads as "" like an unknown version.
func FixedIn(v string) string {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "NotAvailable") {
		return ""
	}
	return v
}
