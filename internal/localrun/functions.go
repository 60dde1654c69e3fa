package localrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Function is one of the stack's Lambda functions.
type Function struct {
	// Dir names the function's directory under functions/, and its bootstrap's
	// directory under the build directory: "ensure-repo".
	Dir string

	// LogicalID is the function's logical id in template.yaml and the name of
	// its section in an env-vars file: "EnsureRepoFunction".
	LogicalID string
}

// The stack's functions.
var (
	EnsureRepo   = Function{Dir: "ensure-repo", LogicalID: "EnsureRepoFunction"}
	ScanNotifier = Function{Dir: "scan-notifier", LogicalID: "ScanNotifierFunction"}
)

// Functions lists the stack's functions.
func Functions() []Function {
	return []Function{EnsureRepo, ScanNotifier}
}

// LookupFunction returns the function called name, given as its directory
// ("ensure-repo") or its logical id ("EnsureRepoFunction"). The error lists
// the names it accepts.
func LookupFunction(name string) (Function, error) {
	var names []string
	for _, f := range Functions() {
		if name == f.Dir || name == f.LogicalID {
			return f, nil
		}
		names = append(names, f.Dir, f.LogicalID)
	}
	return Function{}, fmt.Errorf("finding function %q: want one of %s", name,
		strings.Join(names, ", "))
}

// envParameters is the section of an env-vars file that applies to every
// function, as in `sam local invoke --env-vars`.
const envParameters = "Parameters"

// ReadEnvFile reads the environment of the function logicalID from an
// env-vars file in the format `sam local invoke --env-vars` takes: a JSON
// object with one object of variables per logical id, and optionally a
// "Parameters" object for every function, which the function's own section
// overrides. String, number and boolean values are taken as their text; null
// and nested values are rejected. It returns KEY=VALUE pairs sorted by key,
// and none when the file has no section for the function.
func ReadEnvFile(path, logicalID string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading env-vars file: %w", err)
	}
	var sections map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &sections); err != nil {
		return nil, fmt.Errorf("reading env-vars file %q: want an object of objects per "+
			"function logical id: %w", path, err)
	}

	vars := map[string]string{}
	for _, name := range []string{envParameters, logicalID} {
		for key, raw := range sections[name] {
			v, err := envValue(raw)
			if err != nil {
				return nil, fmt.Errorf("reading env-vars file %q: %s.%s: %w", path, name, key, err)
			}
			vars[key] = v
		}
	}

	keys := slices.Sorted(maps.Keys(vars))
	env := make([]string, 0, len(keys))
	for _, key := range keys {
		env = append(env, key+"="+vars[key])
	}
	return env, nil
}

// envValue returns the text of a scalar JSON value.
func envValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", fmt.Errorf("got null, want a string, number or boolean")
	default:
		return "", fmt.Errorf("got %s, want a string, number or boolean", raw)
	}
}
