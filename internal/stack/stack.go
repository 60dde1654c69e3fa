// Package stack reads the project's SAM template the way CloudFormation does:
// short-form intrinsic functions (!Ref, !Sub, !GetAtt, !If, ...), parameter
// defaults, conditions, and the intrinsic functions the template uses. Tests
// use it to check the template against the functions' code and against
// EventBridge, without a deployment.
package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Template is a decoded CloudFormation or SAM template. Intrinsic functions
// keep their long form ({"Ref": ...}, {"Fn::Sub": ...}) whether the file
// writes them short or long, so a Template reads like the JSON CloudFormation
// sees.
type Template struct {
	// Transform is the template's Transform: a string or a list of strings.
	Transform any `json:"Transform"`
	// Globals holds SAM's Globals section, unmerged.
	Globals map[string]any `json:"Globals"`
	// Parameters holds the declared parameters by name.
	Parameters map[string]Parameter `json:"Parameters"`
	// Conditions holds each condition's expression by name.
	Conditions map[string]any `json:"Conditions"`
	// Resources holds the resources by logical id, as written (SAM resources
	// are not expanded).
	Resources map[string]Resource `json:"Resources"`
	// Outputs holds the outputs by logical id.
	Outputs map[string]Output `json:"Outputs"`
}

// Parameter is one template parameter.
type Parameter struct {
	Type                  string `json:"Type"`
	Default               any    `json:"Default"`
	Description           string `json:"Description"`
	AllowedPattern        string `json:"AllowedPattern"`
	AllowedValues         []any  `json:"AllowedValues"`
	MinValue              any    `json:"MinValue"`
	MaxValue              any    `json:"MaxValue"`
	ConstraintDescription string `json:"ConstraintDescription"`
}

// Resource is one template resource.
type Resource struct {
	Type string `json:"Type"`
	// Condition names the condition under which the resource exists; empty
	// means always.
	Condition  string         `json:"Condition"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

// Output is one template output.
type Output struct {
	Description string         `json:"Description"`
	Condition   string         `json:"Condition"`
	Value       any            `json:"Value"`
	Export      map[string]any `json:"Export"`
}

// Load reads and decodes the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading template %q: %w", path, err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("decoding template %q: %w", path, err)
	}
	return t, nil
}

// Parse decodes a template written in YAML (or JSON, which is YAML too).
func Parse(data []byte) (*Template, error) {
	doc, err := DecodeYAML(data)
	if err != nil {
		return nil, err
	}
	// The generic document goes through JSON to fill the typed sections;
	// every value is JSON-shaped by construction.
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding template as JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("reading template sections: %w", err)
	}
	return &t, nil
}

// DecodeYAML decodes one YAML document into maps, slices and scalars, with
// CloudFormation's short-form tags turned into their long form: !Ref x is
// {"Ref": "x"}, !GetAtt a.b is {"Fn::GetAtt": ["a", "b"]}, !Condition c is
// {"Condition": "c"}, and any other !Name v is {"Fn::Name": v}.
func DecodeYAML(data []byte) (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if n.Kind == 0 {
		return nil, fmt.Errorf("parsing YAML: empty document")
	}
	return fromNode(&n)
}

// fromNode turns one YAML node into its generic value.
func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	}
	if len(n.Tag) > 1 && n.Tag[0] == '!' && n.Tag[1] != '!' {
		return fromTagged(n)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			val, err := fromNode(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		return s, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: decoding scalar %q: %w", n.Line, n.Value, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

// fromTagged turns a node carrying a short-form intrinsic tag into its long
// form.
func fromTagged(n *yaml.Node) (any, error) {
	name := n.Tag[1:]
	var val any
	if n.Kind == yaml.ScalarNode {
		// The scalar under an intrinsic tag is the function's argument as
		// written: a name, a Sub string, an index.
		val = n.Value
	} else {
		plain := *n
		plain.Tag = ""
		v, err := fromNode(&plain)
		if err != nil {
			return nil, err
		}
		val = v
	}
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: val}, nil
	case "GetAtt":
		if s, ok := val.(string); ok {
			for i := 0; i < len(s); i++ {
				if s[i] == '.' {
					return map[string]any{"Fn::GetAtt": []any{s[:i], s[i+1:]}}, nil
				}
			}
			return nil, fmt.Errorf("line %d: !GetAtt %q lacks an attribute", n.Line, s)
		}
	}
	return map[string]any{"Fn::" + name: val}, nil
}
