package request

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// decode turns JSON text into properties the way the doors decode them.
func decode(t testing.TB, text string) map[string]any {
	t.Helper()
	var props map[string]any
	if err := json.Unmarshal([]byte(text), &props); err != nil {
		t.Fatalf("decoding %s: %v", text, err)
	}
	return props
}

// sample is the part of a testdata file that holds repository properties: a
// CloudFormation custom resource request or an EventBridge event.
type sample struct {
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties"`
	Detail                map[string]any `json:"detail"`
}

// loadSample reads testdata/name.
func loadSample(t testing.TB, name string) sample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading sample %q: %v", name, err)
	}
	var s sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decoding sample %q: %v", name, err)
	}
	return s
}

// messages returns the text of every leaf error in err's tree, and fails the
// test when a leaf is not a *FieldError with a field and a rule.
func messages(t testing.TB, err error) []string {
	t.Helper()
	var out []string
	for _, leaf := range leaves(err) {
		var fe *FieldError
		if !errors.As(leaf, &fe) {
			t.Errorf("got a %T (%v), want a *FieldError", leaf, leaf)
			continue
		}
		if fe.Field == "" || fe.Rule == "" {
			t.Errorf("got FieldError{Field: %q, Rule: %q}, want both set", fe.Field, fe.Rule)
		}
		out = append(out, fe.Error())
	}
	return out
}

// leaves returns the errors of err's tree that wrap nothing.
func leaves(err error) []error {
	switch u := err.(type) {
	case nil:
		return nil
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range u.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return leaves(inner)
		}
	}
	return []error{err}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T {
	return &v
}
