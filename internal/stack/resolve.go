package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// ErrDeployTime reports a value only a deployment knows: a resource's Ref or
// attribute when the Resolver has no Resource function, or an import.
var ErrDeployTime = errors.New("known only after deployment")

// Resolver evaluates intrinsic functions for one set of parameter values:
// Ref, Fn::Sub, Fn::Join, Fn::Split, Fn::Select, Fn::If, Fn::GetAtt,
// Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition. AWS::NoValue removes
// the list element or map entry it stands for.
type Resolver struct {
	// Parameters holds the value of every template parameter, as a string.
	Parameters map[string]string
	// Pseudo holds the pseudo parameters (AWS::Region, AWS::AccountId, ...).
	Pseudo map[string]string
	// Resource answers Ref (attribute "") and Fn::GetAtt for a resource;
	// nil answers ErrDeployTime.
	Resource func(logicalID, attribute string) (string, error)

	conditions map[string]any
	evaluated  map[string]bool
	evaluating map[string]bool
}

// DefaultPseudo is the account and place a Resolver pretends to deploy to.
var DefaultPseudo = map[string]string{
	"AWS::AccountId": "123456789012",
	"AWS::Region":    "us-east-1",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
	"AWS::StackName": "ecr-stack",
	"AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/ecr-stack/" +
		"00000000-0000-0000-0000-000000000000",
}

// NewResolver returns a Resolver for the template's parameter defaults with
// overrides applied, and DefaultPseudo. An override of an undeclared
// parameter, or a parameter left without a value, is an error.
func (t *Template) NewResolver(overrides map[string]string) (*Resolver, error) {
	params := make(map[string]string, len(t.Parameters))
	for name, p := range t.Parameters {
		if p.Default != nil {
			params[name] = scalarString(p.Default)
		}
	}
	for name, v := range overrides {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("overriding parameter %q: not declared", name)
		}
		params[name] = v
	}
	for name := range t.Parameters {
		if _, ok := params[name]; !ok {
			return nil, fmt.Errorf("resolving parameter %q: no default and no value", name)
		}
	}
	return &Resolver{
		Parameters: params,
		Pseudo:     maps.Clone(DefaultPseudo),
		conditions: t.Conditions,
		evaluated:  map[string]bool{},
		evaluating: map[string]bool{},
	}, nil
}

// noValue is what Ref AWS::NoValue resolves to until its container drops it.
type noValue struct{}

// Resolve returns v with every intrinsic function evaluated. A top-level
// AWS::NoValue resolves to nil.
func (r *Resolver) Resolve(v any) (any, error) {
	out, err := r.resolve(v)
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

// String resolves v and requires a string (a number is written as one).
func (r *Resolver) String(v any) (string, error) {
	out, err := r.Resolve(v)
	if err != nil {
		return "", err
	}
	switch s := out.(type) {
	case string:
		return s, nil
	case json.Number, int, int64, float64, bool:
		return scalarString(s), nil
	}
	return "", fmt.Errorf("resolving %s: got %T, want a string", brief(v), out)
}

// Condition evaluates the named template condition.
func (r *Resolver) Condition(name string) (bool, error) {
	if v, ok := r.evaluated[name]; ok {
		return v, nil
	}
	expr, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("evaluating condition %q: not declared", name)
	}
	if r.evaluating[name] {
		return false, fmt.Errorf("evaluating condition %q: it refers to itself", name)
	}
	r.evaluating[name] = true
	defer delete(r.evaluating, name)
	out, err := r.resolve(expr)
	if err != nil {
		return false, fmt.Errorf("evaluating condition %q: %w", name, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("evaluating condition %q: got %T, want a boolean", name, out)
	}
	r.evaluated[name] = b
	return b, nil
}

// resolve evaluates v, keeping noValue for the caller to drop.
func (r *Resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			val, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, ok := val.(noValue); ok {
				continue
			}
			out = append(out, val)
		}
		return out, nil
	case map[string]any:
		if name, arg, ok := intrinsic(x); ok {
			return r.call(name, arg)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			val, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, ok := val.(noValue); ok {
				continue
			}
			out[k] = val
		}
		return out, nil
	}
	return v, nil
}

// intrinsic reports whether m is an intrinsic function call and returns its
// name and argument.
func intrinsic(m map[string]any) (string, any, bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		switch {
		case k == "Ref":
			return k, v, true
		case k == "Condition":
			// A statement's Condition block is a map; a condition reference
			// names one condition.
			if _, ok := v.(string); ok {
				return k, v, true
			}
		case strings.HasPrefix(k, "Fn::"):
			return k, v, true
		}
	}
	return "", nil, false
}

// call evaluates one intrinsic function.
func (r *Resolver) call(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("resolving Ref: got %T, want a name", arg)
		}
		return r.ref(s)
	case "Condition":
		return r.Condition(arg.(string))
	case "Fn::GetAtt":
		args, err := r.args(name, arg, 2)
		if err != nil {
			return nil, err
		}
		id, err := r.String(args[0])
		if err != nil {
			return nil, err
		}
		attr, err := r.String(args[1])
		if err != nil {
			return nil, err
		}
		return r.resource(id, attr)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		args, err := r.args(name, arg, 2)
		if err != nil {
			return nil, err
		}
		sep, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("resolving Fn::Join: the delimiter must be a literal string")
		}
		list, err := r.list(args[1])
		if err != nil {
			return nil, fmt.Errorf("resolving Fn::Join: %w", err)
		}
		parts := make([]string, 0, len(list))
		for _, e := range list {
			s, err := r.String(e)
			if err != nil {
				return nil, err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, sep), nil
	case "Fn::Split":
		args, err := r.args(name, arg, 2)
		if err != nil {
			return nil, err
		}
		sep, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("resolving Fn::Split: the delimiter must be a literal string")
		}
		s, err := r.String(args[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		args, err := r.args(name, arg, 2)
		if err != nil {
			return nil, err
		}
		is, err := r.String(args[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("resolving Fn::Select: index %q: %w", is, err)
		}
		list, err := r.list(args[1])
		if err != nil {
			return nil, fmt.Errorf("resolving Fn::Select: %w", err)
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("resolving Fn::Select: index %d outside a list of %d", i, len(list))
		}
		return list[i], nil
	case "Fn::If":
		args, err := r.args(name, arg, 3)
		if err != nil {
			return nil, err
		}
		cond, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("resolving Fn::If: got %T, want a condition name", args[0])
		}
		b, err := r.Condition(cond)
		if err != nil {
			return nil, err
		}
		if b {
			return r.resolve(args[1])
		}
		return r.resolve(args[2])
	case "Fn::Equals":
		args, err := r.args(name, arg, 2)
		if err != nil {
			return nil, err
		}
		a, err := r.String(args[0])
		if err != nil {
			return nil, err
		}
		b, err := r.String(args[1])
		if err != nil {
			return nil, err
		}
		return a == b, nil
	case "Fn::Not":
		args, err := r.args(name, arg, 1)
		if err != nil {
			return nil, err
		}
		b, err := r.bool(args[0])
		if err != nil {
			return nil, err
		}
		return !b, nil
	case "Fn::And", "Fn::Or":
		list, ok := arg.([]any)
		if !ok || len(list) < 2 {
			return nil, fmt.Errorf("resolving %s: want a list of at least two conditions", name)
		}
		and := name == "Fn::And"
		for _, e := range list {
			b, err := r.bool(e)
			if err != nil {
				return nil, err
			}
			if b != and {
				return !and, nil
			}
		}
		return and, nil
	case "Fn::ImportValue":
		return nil, fmt.Errorf("resolving Fn::ImportValue: %w", ErrDeployTime)
	}
	return nil, fmt.Errorf("resolving %s: not supported", name)
}

// ref resolves Ref of a parameter, pseudo parameter or resource.
func (r *Resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := r.Parameters[name]; ok {
		return v, nil
	}
	if v, ok := r.Pseudo[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, fmt.Errorf("resolving Ref %q: unknown pseudo parameter", name)
	}
	return r.resource(name, "")
}

// resource resolves a resource reference through r.Resource.
func (r *Resolver) resource(id, attr string) (string, error) {
	what := id
	if attr != "" {
		what += "." + attr
	}
	if r.Resource == nil {
		return "", fmt.Errorf("resolving %q: %w", what, ErrDeployTime)
	}
	v, err := r.Resource(id, attr)
	if err != nil {
		return "", fmt.Errorf("resolving %q: %w", what, err)
	}
	return v, nil
}

// sub evaluates Fn::Sub in its string and its [string, variables] forms.
func (r *Resolver) sub(arg any) (any, error) {
	var (
		text string
		vars = map[string]string{}
	)
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("resolving Fn::Sub: want [string, variables]")
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("resolving Fn::Sub: the string must be literal")
		}
		text = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resolving Fn::Sub: got %T, want a variable map", a[1])
		}
		for k, v := range m {
			s, err := r.String(v)
			if err != nil {
				return nil, fmt.Errorf("resolving Fn::Sub variable %q: %w", k, err)
			}
			vars[k] = s
		}
	default:
		return nil, fmt.Errorf("resolving Fn::Sub: got %T", arg)
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("resolving Fn::Sub: unterminated ${ in %q", text)
		}
		name := text[i+2 : i+j]
		text = text[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		v, err := r.subVar(name, vars)
		if err != nil {
			return nil, err
		}
		b.WriteString(v)
	}
}

// subVar resolves one ${name} of Fn::Sub.
func (r *Resolver) subVar(name string, vars map[string]string) (string, error) {
	if v, ok := vars[name]; ok {
		return v, nil
	}
	if id, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
		return r.resource(id, attr)
	}
	v, err := r.ref(name)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("resolving ${%s}: got %T, want a string", name, v)
	}
	return s, nil
}

// args resolves nothing; it checks that arg is a list of n elements.
func (r *Resolver) args(name string, arg any, n int) ([]any, error) {
	list, ok := arg.([]any)
	if !ok || len(list) != n {
		return nil, fmt.Errorf("resolving %s: want a list of %d arguments", name, n)
	}
	return list, nil
}

// list resolves v and requires a list.
func (r *Resolver) list(v any) ([]any, error) {
	out, err := r.resolve(v)
	if err != nil {
		return nil, err
	}
	list, ok := out.([]any)
	if !ok {
		return nil, fmt.Errorf("got %T, want a list", out)
	}
	return list, nil
}

// bool resolves v and requires a boolean.
func (r *Resolver) bool(v any) (bool, error) {
	out, err := r.resolve(v)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("got %T, want a condition", out)
	}
	return b, nil
}

// scalarString writes a scalar the way CloudFormation passes it on: numbers
// and booleans as their text.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// brief shortens a value for an error message.
func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
