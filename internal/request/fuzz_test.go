package request

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds Parse arbitrary JSON objects, seeded with the properties
// of every request in testdata and the requests of the Parse tests.
// Invariants: no panic; a rejection is one or more *FieldError, each with a
// field and a rule, and comes with the zero Repository; an accepted request
// reads back to the same Repository from its Properties, both as native JSON
// and with every scalar turned into a string as CloudFormation sends it.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("got no seed files (%v), want testdata/*.json", err)
	}
	for _, file := range files {
		s := loadSample(f, filepath.Base(file))
		all := []map[string]any{s.ResourceProperties, s.OldResourceProperties, s.Detail}
		for _, props := range all {
			if props == nil {
				continue
			}
			seed, err := json.Marshal(props)
			if err != nil {
				f.Fatalf("encoding a seed from %s: %v", file, err)
			}
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
