package scan

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const (
	sampleDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	sampleRepo   = "example-team/example-app"
	sampleAcct   = "123456789012"
)

// countsOf builds reported counts from severity and count pairs; a total of
// -1 means none is reported.
func countsOf(total int, pairs map[Severity]int) Counts {
	var c Counts
	c.MarkReported()
	for s, n := range pairs {
		c.Set(s, n)
	}
	if total >= 0 {
		c.SetTotal(total)
	}
	return c
}

// readSample reads a file from testdata.
func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSamples(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	basic := Scan{
		Source:     ImageScan,
		EventID:    "01234567-89ab-cdef-0123-456789abcdef",
		Kind:       Basic,
		Account:    sampleAcct,
		Region:     "us-east-1",
		RegistryID: sampleAcct,
		Repository: sampleRepo,
		Digest:     sampleDigest,
		Tags:       []string{"1.0.0"},
		Status:     "COMPLETE",
		Time:       at("2024-01-01T00:05:00Z"),
	}
	withFindings := basic
	withFindings.Counts = countsOf(-1, map[Severity]int{
		Critical: 10, High: 2, Medium: 9, Low: 3, Informational: 0, Undefined: 0,
	})
	zero := basic
	zero.Counts = countsOf(-1, nil)
	failed := basic
	failed.Tags = nil
	failed.Status = "FAILED"
	failed.Failed = true
	enhanced := Scan{
		Source:     InspectorScan,
		EventID:    "fedcba98-7654-3210-fedc-ba9876543210",
		Kind:       Enhanced,
		Account:    sampleAcct,
		Region:     "us-east-1",
		RegistryID: sampleAcct,
		Repository: sampleRepo,
		Digest:     sampleDigest,
		Tags:       []string{"latest"},
		Status:     "INITIAL_SCAN_COMPLETE",
		Counts:     countsOf(158, map[Severity]int{Critical: 7, High: 61, Medium: 62}),
		Time:       at("2024-01-01T00:06:00Z"),
	}
	enhancedZero := enhanced
	enhancedZero.Tags = []string{"1.0.0"}
	enhancedZero.Counts = countsOf(0, map[Severity]int{Critical: 0, High: 0, Medium: 0})
	finding := Scan{
		Source:     InspectorFinding,
		EventID:    "42424242-4242-4242-4242-424242424242",
		Kind:       Enhanced,
		Account:    sampleAcct,
		Region:     "us-east-1",
		RegistryID: sampleAcct,
		Repository: sampleRepo,
		Digest:     sampleDigest,
		Tags:       []string{"1.0.0"},
		Status:     "ACTIVE",
		Counts:     countsOf(-1, map[Severity]int{Medium: 1}),
		Finding: &Finding{
			ID:          "CVE-0000-00001",
			Severity:    Medium,
			Score:       6.5,
			Package:     "example-lib",
			Installed:   "1.0.0-1.example",
			URI:         "https://example.com/cve/CVE-0000-00001",
			Title:       "CVE-0000-00001 - example-lib",
			Description: "Example vulnerability description.",
			ARN: "arn:aws:inspector2:us-east-1:123456789012:finding/" +
				"00000000000000000000000000000001",
		},
		Time: at("2024-01-01T00:06:30Z"),
	}
	tests := []struct {
		file    string
		want    Scan
		ignored bool
	}{
		{file: "ecr-scan-complete-with-findings.json", want: withFindings},
		{file: "ecr-scan-complete-zero-findings.json", want: zero},
		{file: "ecr-scan-failed.json", want: failed},
		{file: "ecr-scan-resource-change.json", ignored: true},
		{file: "ecr-image-action.json", ignored: true},
		{file: "inspector2-scan-ecr.json", want: enhanced},
		{file: "inspector2-scan-ecr-zero-findings.json", want: enhancedZero},
		{file: "inspector2-finding-ecr.json", want: finding},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readSample(t, tt.file)
			got, err := Parse(raw)
			if tt.ignored {
				if !errors.Is(err, ErrIgnored) {
					t.Fatalf("got error %v, want ErrIgnored", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if got.Finding != nil && !reflect.DeepEqual(*got.Finding, *tt.want.Finding) {
				t.Errorf("got finding  %+v\nwant finding %+v", *got.Finding, *tt.want.Finding)
			}

			// The runtime decodes the envelope into events.EventBridgeEvent;
			// FromEvent must read the same.
			var ev events.EventBridgeEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("decoding into events.EventBridgeEvent: %v", err)
			}
			fromEvent, err := FromEvent(ev)
			if err != nil {
				t.Fatalf("FromEvent: got error %v, want none", err)
			}
			if !reflect.DeepEqual(fromEvent, got) {
				t.Errorf("FromEvent: got %+v\nwant %+v", fromEvent, got)
			}
		})
	}
}

// event builds an event around a detail, with the given detail-type.
func event(detailType, detail string) []byte {
	return []byte(`{"version":"0","id":"e-1","detail-type":"` + detailType +
		`","source":"aws.ecr","account":"123456789012","time":"2024-01-01T00:05:00Z",` +
		`"region":"eu-west-1","resources":[],"detail":` + detail + `}`)
}

// imageScan builds an ECR Image Scan detail from extra members.
func imageScan(extra string) string {
	d := `{"scan-status":"COMPLETE","repository-name":"team/app","image-digest":"` +
		sampleDigest + `"`
	if extra != "" {
		d += "," + extra
	}
	return d + "}"
}

func TestParseTolerant(t *testing.T) {
	tests := []struct {
		name  string
		raw   []byte
		check func(t *testing.T, s Scan)
	}{
		{
			name: "counts absent are not reported",
			raw:  event("ECR Image Scan", imageScan("")),
			check: func(t *testing.T, s Scan) {
				if s.Counts.Reported() {
					t.Errorf("got counts reported, want not reported")
				}
			},
		},
		{
			name: "counts null are not reported",
			raw:  event("ECR Image Scan", imageScan(`"finding-severity-counts":null`)),
			check: func(t *testing.T, s Scan) {
				if s.Counts.Reported() {
					t.Errorf("got counts reported, want not reported")
				}
			},
		},
		{
			name: "counts as strings and an untriaged count",
			raw: event("ECR Image Scan", imageScan(
				`"finding-severity-counts":{"HIGH":"3","UNDEFINED":1,"UNTRIAGED":2,"EXTRA":5}`)),
			check: func(t *testing.T, s Scan) {
				if n, _ := s.Counts.Get(High); n != 3 {
					t.Errorf("got HIGH %d, want 3", n)
				}
				if n, _ := s.Counts.Get(Undefined); n != 3 {
					t.Errorf("got UNDEFINED %d, want 3", n)
				}
				if s.Counts.Has(Critical) {
					t.Errorf("got CRITICAL present, want absent")
				}
				if got := s.Counts.Other(); got != 5 {
					t.Errorf("got other %d, want 5 (EXTRA)", got)
				}
			},
		},
		{
			name: "only unrecognized severities count as other",
			raw: event("ECR Image Scan", imageScan(
				`"finding-severity-counts":{"URGENT":4,"Severe":"1","NOTE":"many","":-1}`)),
			check: func(t *testing.T, s Scan) {
				if n, ok := s.Counts.Get(Unrecognized); n != 5 || !ok {
					t.Errorf("got unrecognized %d %v, want 5 true", n, ok)
				}
				if got, want := s.Counts.String(), "5 other"; got != want {
					t.Errorf("got counts %q, want %q", got, want)
				}
				if s.Counts.Total() != 5 || s.Counts.Sum() != 0 {
					t.Errorf("got total %d sum %d, want 5 0", s.Counts.Total(), s.Counts.Sum())
				}
			},
		},
		{
			name: "unrecognized severities within Inspector's total",
			raw: event("Inspector2 Scan", imageScan(
				`"finding-severity-counts":{"HIGH":2,"URGENT":3,"TOTAL":10}`)),
			check: func(t *testing.T, s Scan) {
				if got, want := s.Counts.String(), "2 HIGH, 8 other"; got != want {
					t.Errorf("got counts %q, want %q", got, want)
				}
			},
		},
		{
			name: "Inspector finding of an unrecognized severity",
			raw: event("Inspector2 Finding", `{"severity":"URGENT","resources":[{"details":`+
				`{"awsEcrContainerImage":{"repositoryName":"team/app","imageHash":"`+
				sampleDigest+`"}}}]}`),
			check: func(t *testing.T, s Scan) {
				if s.Finding == nil || s.Finding.Severity != Unrecognized {
					t.Fatalf("got finding %+v, want severity Unrecognized", s.Finding)
				}
				if n, _ := s.Counts.Get(Unrecognized); n != 1 || s.Counts.Total() != 1 {
					t.Errorf("got unrecognized %d total %d, want 1 1", n, s.Counts.Total())
				}
			},
		},
		{
			name: "several tags with duplicates and blanks",
			raw:  event("ECR Image Scan", imageScan(`"image-tags":["1.4.2",""," latest","1.4.2",null]`)),
			check: func(t *testing.T, s Scan) {
				if want := []string{"1.4.2", "latest"}; !reflect.DeepEqual(s.Tags, want) {
					t.Errorf("got tags %q, want %q", s.Tags, want)
				}
			},
		},
		{
			name: "one tag as a string",
			raw:  event("ECR Image Scan", imageScan(`"image-tags":"1.4.2"`)),
			check: func(t *testing.T, s Scan) {
				if want := []string{"1.4.2"}; !reflect.DeepEqual(s.Tags, want) {
					t.Errorf("got tags %q, want %q", s.Tags, want)
				}
			},
		},
		{
			name: "lower-case status",
			raw: event("ECR Image Scan", `{"scan-status":"failed","repository-name":"team/app",`+
				`"image-digest":"`+sampleDigest+`"}`),
			check: func(t *testing.T, s Scan) {
				if s.Status != "FAILED" || !s.Failed {
					t.Errorf("got status %q failed %v, want FAILED true", s.Status, s.Failed)
				}
			},
		},
		{
			name: "unsupported image",
			raw: event("ECR Image Scan", `{"scan-status":"UNSUPPORTED_IMAGE",`+
				`"repository-name":"team/app","image-digest":"`+sampleDigest+`"}`),
			check: func(t *testing.T, s Scan) {
				if !s.Unsupported || s.Failed {
					t.Errorf("got unsupported %v failed %v, want true false", s.Unsupported, s.Failed)
				}
			},
		},
		{
			name: "repository given as an ARN names the registry",
			raw: event("ECR Image Scan", `{"scan-status":"COMPLETE","repository-name":`+
				`"arn:aws:ecr:eu-west-1:210987654321:repository/team/app","image-digest":"`+
				sampleDigest+`"}`),
			check: func(t *testing.T, s Scan) {
				if s.Repository != "team/app" || s.RegistryID != "210987654321" {
					t.Errorf("got repository %q registry %q, want team/app 210987654321",
						s.Repository, s.RegistryID)
				}
			},
		},
		{
			name: "registry from the event's resources",
			raw: []byte(`{"id":"e","detail-type":"ECR Image Scan","account":"123456789012",` +
				`"region":"eu-west-1","resources":["arn:aws:ecr:eu-west-1:210987654321:` +
				`repository/team/app"],"detail":` + imageScan("") + `}`),
			check: func(t *testing.T, s Scan) {
				if s.RegistryID != "210987654321" {
					t.Errorf("got registry %q, want 210987654321", s.RegistryID)
				}
			},
		},
		{
			name: "region from the ARN when the envelope has none",
			raw: []byte(`{"id":"e","detail-type":"Inspector2 Scan","detail":{"scan-status":` +
				`"INITIAL_SCAN_COMPLETE","repository-name":"arn:aws:ecr:ap-south-1:` +
				`210987654321:repository/team/app","image-digest":"` + sampleDigest + `"}}`),
			check: func(t *testing.T, s Scan) {
				if s.Region != "ap-south-1" {
					t.Errorf("got region %q, want ap-south-1", s.Region)
				}
			},
		},
		{
			name: "time in Inspector's layout",
			raw: []byte(`{"id":"e","detail-type":"ECR Image Scan","time":"Jan 2, 2024, 1:05:00 PM",` +
				`"detail":` + imageScan("") + `}`),
			check: func(t *testing.T, s Scan) {
				want := time.Date(2024, 1, 2, 13, 5, 0, 0, time.UTC)
				if !s.Time.Equal(want) {
					t.Errorf("got time %v, want %v", s.Time, want)
				}
			},
		},
		{
			name: "time in epoch seconds",
			raw: []byte(`{"id":"e","detail-type":"ECR Image Scan","time":1704067500.5,` +
				`"detail":` + imageScan("") + `}`),
			check: func(t *testing.T, s Scan) {
				want := time.Unix(1704067500, 5e8).UTC()
				if !s.Time.Equal(want) {
					t.Errorf("got time %v, want %v", s.Time, want)
				}
			},
		},
		{
			name: "unreadable time is left zero",
			raw: []byte(`{"id":"e","detail-type":"ECR Image Scan","time":"yesterday",` +
				`"detail":` + imageScan("") + `}`),
			check: func(t *testing.T, s Scan) {
				if !s.Time.IsZero() {
					t.Errorf("got time %v, want zero", s.Time)
				}
			},
		},
		{
			name: "detail as a JSON string",
			raw:  event("ECR Image Scan", `"`+strings.ReplaceAll(imageScan(""), `"`, `\"`)+`"`),
			check: func(t *testing.T, s Scan) {
				if s.Repository != "team/app" {
					t.Errorf("got repository %q, want team/app", s.Repository)
				}
			},
		},
		{
			name: "Inspector finding with no envelope time, score or source URL",
			raw: []byte(`{"id":"e","detail-type":"Inspector2 Finding","detail":{` +
				`"severity":"critical","title":"GHSA-1234 - lib","updatedAt":"Feb 3, 2024, 4:05:06 PM",` +
				`"packageVulnerabilityDetails":{"cvss":[{"baseScore":7.1},{"baseScore":9.1}],` +
				`"referenceUrls":["","https://example.com/r"],"vulnerablePackages":[{"name":"lib",` +
				`"epoch":2,"version":"1.0","release":"3","fixedInVersion":"2:1.1-1"}]},` +
				`"resources":[{"type":"AWS_ECR_CONTAINER_IMAGE","region":"eu-north-1","details":` +
				`{"awsEcrContainerImage":{"repositoryName":"team/app","imageHash":"` + sampleDigest +
				`","registry":"210987654321"}}}]}}`),
			check: func(t *testing.T, s Scan) {
				want := Finding{ID: "GHSA-1234", Severity: Critical, Score: 9.1, Package: "lib",
					Installed: "2:1.0-3", FixedIn: "2:1.1-1", URI: "https://example.com/r",
					Title: "GHSA-1234 - lib"}
				if s.Finding == nil || !reflect.DeepEqual(*s.Finding, want) {
					t.Errorf("got finding %+v, want %+v", s.Finding, want)
				}
				if s.Status != "ACTIVE" || s.Region != "eu-north-1" || s.RegistryID != "210987654321" {
					t.Errorf("got status %q region %q registry %q, want ACTIVE eu-north-1 210987654321",
						s.Status, s.Region, s.RegistryID)
				}
				if want := time.Date(2024, 2, 3, 16, 5, 6, 0, time.UTC); !s.Time.Equal(want) {
					t.Errorf("got time %v, want %v", s.Time, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.raw)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			tt.check(t, s)
		})
	}
}

func TestParseIgnored(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
	}{
		{"scan resource change", readSample(t, "ecr-scan-resource-change.json")},
		{"image action", readSample(t, "ecr-image-action.json")},
		{"unknown detail-type", event("ECR Image Push", `{}`)},
		{"no detail-type", []byte(`{"id":"e","detail":{}}`)},
		{"Inspector2 Scan of an EC2 instance", event("Inspector2 Scan",
			`{"scan-status":"INITIAL_SCAN_COMPLETE","instance-id":"i-0123",`+
				`"finding-severity-counts":{"CRITICAL":1,"TOTAL":1}}`)},
		{"Inspector2 Finding for an EC2 instance", event("Inspector2 Finding",
			`{"severity":"HIGH","resources":[{"type":"AWS_EC2_INSTANCE","details":`+
				`{"awsEc2Instance":{"type":"t3.micro"}}}]}`)},
		{"Inspector2 Finding without resources", event("Inspector2 Finding", `{"severity":"HIGH"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw)
			if !errors.Is(err, ErrIgnored) {
				t.Errorf("got error %v, want ErrIgnored", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	ecrImage := func(inner string) []byte {
		return event("Inspector2 Finding", `{"resources":[{"type":"AWS_ECR_CONTAINER_IMAGE",`+
			`"details":{"awsEcrContainerImage":{`+inner+`}}}]}`)
	}
	tests := []struct {
		name  string
		raw   []byte
		field string
	}{
		{"not JSON", []byte(`{"id":`), "event"},
		{"not an object", []byte(`[1,2]`), "event"},
		{"id not a string", []byte(`{"id":{},"detail-type":"ECR Image Scan"}`), "id"},
		{"detail missing", []byte(`{"id":"e","detail-type":"ECR Image Scan"}`), "detail"},
		{"detail not an object", event("ECR Image Scan", `[]`), "detail"},
		{"repository missing", event("ECR Image Scan",
			`{"scan-status":"COMPLETE","image-digest":"`+sampleDigest+`"}`),
			"detail.repository-name"},
		{"repository not a name", event("ECR Image Scan",
			`{"scan-status":"COMPLETE","repository-name":"Team App","image-digest":"`+
				sampleDigest+`"}`), "detail.repository-name"},
		{"repository ARN malformed", event("Inspector2 Scan",
			`{"scan-status":"COMPLETE","repository-name":"arn:aws:ecr:x","image-digest":"`+
				sampleDigest+`"}`), "detail.repository-name"},
		{"digest missing", event("ECR Image Scan",
			`{"scan-status":"COMPLETE","repository-name":"team/app"}`), "detail.image-digest"},
		{"digest malformed", event("ECR Image Scan",
			`{"scan-status":"COMPLETE","repository-name":"team/app","image-digest":"sha256 x"}`),
			"detail.image-digest"},
		{"status missing", event("ECR Image Scan",
			`{"repository-name":"team/app","image-digest":"`+sampleDigest+`"}`),
			"detail.scan-status"},
		{"status an object", event("ECR Image Scan", imageScan(`"scan-status":{}`)),
			"detail.scan-status"},
		{"tags not strings", event("ECR Image Scan", imageScan(`"image-tags":[{}]`)),
			"detail.image-tags[0]"},
		{"tags an object", event("ECR Image Scan", imageScan(`"image-tags":{}`)),
			"detail.image-tags"},
		{"counts not an object", event("ECR Image Scan",
			imageScan(`"finding-severity-counts":[]`)), "detail.finding-severity-counts"},
		{"count negative", event("ECR Image Scan",
			imageScan(`"finding-severity-counts":{"HIGH":-1}`)),
			"detail.finding-severity-counts.HIGH"},
		{"count fractional", event("ECR Image Scan",
			imageScan(`"finding-severity-counts":{"LOW":1.5}`)),
			"detail.finding-severity-counts.LOW"},
		{"total not a number", event("Inspector2 Scan",
			imageScan(`"finding-severity-counts":{"TOTAL":"many"}`)),
			"detail.finding-severity-counts.TOTAL"},
		{"ECR image resource without details", event("Inspector2 Finding",
			`{"resources":[{"type":"AWS_ECR_CONTAINER_IMAGE","details":{}}]}`),
			"detail.resources[0].details.awsEcrContainerImage"},
		{"finding without repository", ecrImage(`"imageHash":"` + sampleDigest + `"`),
			"detail.resources[0].details.awsEcrContainerImage.repositoryName"},
		{"finding without digest", ecrImage(`"repositoryName":"team/app"`),
			"detail.resources[0].details.awsEcrContainerImage.imageHash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got error %v, want a *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("got field %q, want %q (error %v)", fe.Field, tt.field, err)
			}
			if errors.Is(err, ErrIgnored) {
				t.Errorf("got ErrIgnored, want a rejection")
			}
		})
	}
}

// seedPatterns match the files FuzzParse is seeded with: the samples in
// testdata and the scan-notifier samples in events/.
var seedPatterns = []string{
	filepath.Join("testdata", "*.json"),
	filepath.Join("..", "..", "events", "scan-notifier-*.json"),
}

// seedFiles returns the files seedPatterns match, and fails when a pattern
// matches none.
func seedFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range seedPatterns {
		matches, err := filepath.Glob(pattern)
		if err != nil || len(matches) == 0 {
			t.Fatalf("got no seed files (%v), want %s", err, pattern)
		}
		files = append(files, matches...)
	}
	return files
}

// TestFuzzParseSeeds checks that FuzzParse is seeded with every scan-notifier
// sample in events/, and that each one is read as a scan or ignored.
func TestFuzzParseSeeds(t *testing.T) {
	events, err := filepath.Glob(filepath.Join("..", "..", "events", "scan-notifier-*.json"))
	if err != nil || len(events) == 0 {
		t.Fatalf("got no scan-notifier samples (%v), want some in events/", err)
	}
	seeded := seedFiles(t)
	for _, file := range events {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if !slices.Contains(seeded, file) {
				t.Fatalf("got seeds from %q, want %s among them", seeded, file)
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(raw); err != nil && !errors.Is(err, ErrIgnored) {
				t.Errorf("got error %v, want a scan or ErrIgnored", err)
			}
		})
	}
}

// FuzzParse feeds Parse arbitrary bytes, seeded with every file seedPatterns
// match. Invariants: no panic; a rejection is ErrIgnored or names a field; a
// scan has a repository name (never an ARN) and a digest, counts that are
// not negative, and a finding exactly when it comes from an Inspector2
// Finding.
func FuzzParse(f *testing.F) {
	for _, file := range seedFiles(f) {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add(event("ECR Image Scan", imageScan(`"finding-severity-counts":{"HIGH":"3"}`)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Parse(raw)
		if err != nil {
			var fe *FieldError
			if !errors.Is(err, ErrIgnored) && (!errors.As(err, &fe) || fe.Field == "") {
				t.Fatalf("got error %v, want ErrIgnored or a *FieldError naming a field", err)
			}
			return
		}
		if s.Repository == "" || s.Digest == "" {
			t.Fatalf("got repository %q digest %q, want both", s.Repository, s.Digest)
		}
		if strings.HasPrefix(s.Repository, "arn:") {
			t.Fatalf("got repository %q, want a name", s.Repository)
		}
		if s.Counts.Total() < 0 || s.Counts.Other() < 0 {
			t.Fatalf("got total %d other %d, want both >= 0", s.Counts.Total(), s.Counts.Other())
		}
		if (s.Source == InspectorFinding) != (s.Finding != nil) {
			t.Fatalf("got source %q with finding %v", s.Source, s.Finding)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, kind := range []struct{ name, file string }{
		{"kind=basic", "ecr-scan-complete-with-findings.json"},
		{"kind=basic-failed", "ecr-scan-failed.json"},
		{"kind=enhanced", "inspector2-scan-ecr.json"},
		{"kind=finding", "inspector2-finding-ecr.json"},
		{"kind=ignored", "ecr-scan-resource-change.json"},
	} {
		raw := readSample(b, kind.file)
		b.Run(kind.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				_, _ = Parse(raw)
			}
		})
	}
}
