package testsupport

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// Event reads the file name of the module's events/ folder into a T, failing
// the test on a field T does not have, so a sample cannot drift from the type
// its handler takes.
func Event[T any](t testing.TB, name string) T {
	t.Helper()
	root, err := localrun.ModuleRoot()
	if err != nil {
		t.Fatalf("finding the module root: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(root, "events", name))
	if err != nil {
		t.Fatalf("reading event: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev T
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return ev
}

// WithDetail returns ev with its detail, a JSON object, changed by edit.
func WithDetail(t testing.TB, ev events.EventBridgeEvent,
	edit func(detail map[string]any)) events.EventBridgeEvent {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatalf("decoding detail: %v", err)
	}
	edit(d)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("encoding detail: %v", err)
	}
	ev.Detail = b
	return ev
}
