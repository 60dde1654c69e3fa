package request

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// FuzzParse feeds Parse arbitrary JSON objects, seeded with the properties
// of every request in testdata and in the ensure-repo samples in events/ (the
// ResourceProperties and OldResourceProperties of the CloudFormation
// requests, the detail of the self-service event) and with the requests of
// the Parse tests.
// Invariants: no panic; a rejection is one or more *FieldError, each with a
// field and a rule, and comes with the zero Repository; an accepted request
// reads back to the same Repository from its Properties, both as native JSON
// and with every scalar turned into a string as CloudFormation sends it.
func FuzzParse(f *testing.F) {
	for _, file := range seedFiles(f) {
		for _, seed := range propertySeeds(f, file) {
			f.Add(seed)
		}
	}
	for _, c := range parseCases() {
		f.Add([]byte(c.props))
	}
	for _, c := range parseErrorCases() {
		f.Add([]byte(c.props))
	}
	f.Add([]byte(`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":` +
		`"{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"tagged\",` +
		`\"tagPatternList\":[\"v*\"],\"countType\":\"imageCountMoreThan\",\"countNumber\":3},` +
		`\"action\":{\"type\":\"expire\"}}]}"}}`))
	f.Add([]byte(`{"RepositoryName":"app","ImageTagMutability":"MUTABLE_WITH_EXCLUSION",` +
		`"ImageTagMutabilityExclusionFilters":[` +
		`{"ImageTagMutabilityExclusionFilterType":"WILDCARD",` +
		`"ImageTagMutabilityExclusionFilterValue":"dev-*"}],"UriParameterName":"/a/b"}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var native map[string]any
		if err := json.Unmarshal(data, &native); err != nil {
			return
		}
		checkParse(t, native)

		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var exact map[string]any
		if err := dec.Decode(&exact); err == nil {
			checkParse(t, exact)
		}
	})
}

// seedPatterns match the files FuzzParse takes its first seeds from.
var seedPatterns = []string{
	filepath.Join("testdata", "*.json"),
	filepath.Join("..", "..", "events", "ensure-repo-*.json"),
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

// TestFuzzParseSeeds checks that FuzzParse is seeded with every ensure-repo
// sample in events/ and that each of their sets of properties is accepted,
// so the seeds start the fuzzer on requests that reach the deep checks.
func TestFuzzParseSeeds(t *testing.T) {
	events, err := filepath.Glob(filepath.Join("..", "..", "events", "ensure-repo-*.json"))
	if err != nil || len(events) == 0 {
		t.Fatalf("got no ensure-repo samples (%v), want some in events/", err)
	}
	seeded := seedFiles(t)
	for _, file := range events {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if !slices.Contains(seeded, file) {
				t.Fatalf("got seeds from %q, want %s among them", seeded, file)
			}
			for _, seed := range propertySeeds(t, file) {
				if _, err := Parse(decode(t, string(seed))); err != nil {
					t.Errorf("got error %v for %s, want none", err, seed)
				}
			}
		})
	}
}

// propertySeeds returns, as JSON, every set of repository properties that the
// request or event in file carries, and fails when it carries none.
func propertySeeds(t testing.TB, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading seed file: %v", err)
	}
	var s sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decoding seed file %s: %v", file, err)
	}
	var seeds [][]byte
	for _, props := range []map[string]any{s.ResourceProperties, s.OldResourceProperties,
		s.Detail} {
		if props == nil {
			continue
		}
		seed, err := json.Marshal(props)
		if err != nil {
			t.Fatalf("encoding a seed from %s: %v", file, err)
		}
		seeds = append(seeds, seed)
	}
	if len(seeds) == 0 {
		t.Fatalf("got no repository properties in %s, want ResourceProperties or detail", file)
	}
	return seeds
}

// checkParse asserts FuzzParse's invariants for one set of properties.
func checkParse(t *testing.T, props map[string]any) {
	t.Helper()
	r, err := Parse(props)
	if err != nil {
		if !reflect.DeepEqual(r, Repository{}) {
			t.Errorf("got %s with error %v, want the zero Repository", show(r), err)
		}
		if msgs := messages(t, err); len(msgs) == 0 {
			t.Errorf("got error %v with no FieldError in it", err)
		}
		return
	}
	if r.Name == "" {
		t.Errorf("got %s with no name and no error", show(r))
	}
	for name, again := range map[string]map[string]any{
		"native":  viaJSON(t, r.Properties()),
		"strings": stringify(viaJSON(t, r.Properties())).(map[string]any),
	} {
		got, err := Parse(again)
		if err != nil {
			t.Fatalf("%s: re-parsing %s: got error %v, want none", name, show(r), err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%s: re-parsing gave %s, want %s", name, show(got), show(r))
		}
	}
}
