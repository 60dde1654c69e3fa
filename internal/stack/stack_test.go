package stack

import (
	"errors"
	"reflect"
	"testing"
)

// TestDecodeYAMLShortForms checks that each short-form tag decodes to the
// long form CloudFormation reads.
func TestDecodeYAMLShortForms(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any
	}{
		{"Ref", "!Ref Name", map[string]any{"Ref": "Name"}},
		{"GetAtt dotted", "!GetAtt Queue.Arn", map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}}},
		{"GetAtt nested attribute", "!GetAtt Db.Endpoint.Address",
			map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{"GetAtt list", "!GetAtt [Queue, Arn]", map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}}},
		{"Sub string", "!Sub a-${B}", map[string]any{"Fn::Sub": "a-${B}"}},
		{"Sub list", "!Sub [\"${X}\", {X: !Ref Y}]",
			map[string]any{"Fn::Sub": []any{"${X}", map[string]any{"X": map[string]any{"Ref": "Y"}}}}},
		{"If with NoValue", "!If [C, 1, !Ref AWS::NoValue]",
			map[string]any{"Fn::If": []any{"C", 1, map[string]any{"Ref": "AWS::NoValue"}}}},
		{"Condition", "!Condition C", map[string]any{"Condition": "C"}},
		{"Select of Split", "!Select [0, !Split [\",\", a]]",
			map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::Split": []any{",", "a"}}}}},
		{"long form kept", "{\"Fn::Join\": [\"\", [a, b]]}",
			map[string]any{"Fn::Join": []any{"", []any{"a", "b"}}}},
		{"plain scalars", "[\"true\", true, 3, x]", []any{"true", true, 3, "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeYAML([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// resolverTemplate exercises the resolver's functions.
const resolverTemplate = `
Parameters:
  Prefixes: {Type: String, Default: "a/,b/"}
  Empty: {Type: String, Default: ""}
  Count: {Type: Number, Default: 3}
Conditions:
  HasEmpty: !Not [!Equals [!Ref Empty, ""]]
  HasSecond: !Not [!Equals ["", !Select [1, !Split [",", !Sub "${Prefixes},,"]]]]
  Both: !And [!Condition HasSecond, !Not [!Condition HasEmpty]]
  Either: !Or [!Condition HasEmpty, !Equals [!Ref Count, "3"]]
Resources:
  Queue: {Type: AWS::SQS::Queue}
`

// TestResolver checks each intrinsic function the template uses.
func TestResolver(t *testing.T) {
	tmpl, err := Parse([]byte(resolverTemplate))
	if err != nil {
		t.Fatal(err)
	}
	r, err := tmpl.NewResolver(nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Resource = func(id, attr string) (string, error) { return id + "|" + attr, nil }
	tests := []struct {
		name string
		expr string
		want any
	}{
		{"Ref parameter", "!Ref Prefixes", "a/,b/"},
		{"Ref number parameter", "!Ref Count", "3"},
		{"Ref pseudo", "!Ref AWS::Region", "us-east-1"},
		{"Ref resource", "!Ref Queue", "Queue|"},
		{"GetAtt", "!GetAtt Queue.Arn", "Queue|Arn"},
		{"Sub", "!Sub arn:${AWS::Partition}:${Queue.Arn}:${Prefixes}:${!Literal}",
			"arn:aws:Queue|Arn:a/,b/:${Literal}"},
		{"Sub variables", "!Sub [\"${P}*\", {P: !Select [1, !Split [\",\", !Ref Prefixes]]}]", "b/*"},
		{"Join", "!Join [\"-\", [a, !Ref Count]]", "a-3"},
		{"If true", "!If [HasSecond, yes, no]", "yes"},
		{"If false", "!If [HasEmpty, yes, no]", "no"},
		{"NoValue in a list", "[a, !If [HasEmpty, b, !Ref AWS::NoValue], c]", []any{"a", "c"}},
		{"NoValue in a map", "{a: 1, b: !If [HasEmpty, 2, !Ref AWS::NoValue]}", map[string]any{"a": 1}},
		{"And", "!If [Both, yes, no]", "yes"},
		{"Or", "!If [Either, yes, no]", "yes"},
		{"statement Condition block", "{Condition: {Bool: {k: \"true\"}}, Effect: Allow}",
			map[string]any{"Condition": map[string]any{"Bool": map[string]any{"k": "true"}},
				"Effect": "Allow"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeYAML([]byte(tt.expr))
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Resolve(v)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestResolverErrors checks what the resolver refuses.
func TestResolverErrors(t *testing.T) {
	tmpl, err := Parse([]byte(resolverTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.NewResolver(map[string]string{"Nope": "x"}); err == nil {
		t.Error("got no error overriding an undeclared parameter")
	}
	r, err := tmpl.NewResolver(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		expr     string
		deployed bool // the error is ErrDeployTime
	}{
		{"resource without a Resource function", "!GetAtt Queue.Arn", true},
		{"import", "!ImportValue x", true},
		{"unknown condition", "!If [Nope, a, b]", false},
		{"select out of range", "!Select [5, [a]]", false},
		{"unsupported function", "!FindInMap [M, a, b]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := DecodeYAML([]byte(tt.expr))
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Resolve(v)
			if err == nil {
				t.Fatal("got no error")
			}
			if got := errors.Is(err, ErrDeployTime); got != tt.deployed {
				t.Errorf("got errors.Is(err, ErrDeployTime) %v, want %v (%v)", got, tt.deployed, err)
			}
		})
	}
}
