package stack

import (
	"fmt"
	"slices"
)

// Statement is one IAM policy statement of a function's own policies,
// resolved for one set of parameter values.
type Statement struct {
	Sid    string
	Effect string
	// Actions lists the statement's actions as written, sorted.
	Actions []string
	// Resources lists the statement's resources, sorted.
	Resources []string
	// Condition is the statement's Condition block, or nil.
	Condition map[string]any
}

// Statements returns the inline policy statements of the function with the
// given logical id, under r's parameter values: the Statement lists of its
// Policies. Statements an Fn::If removes are left out. A policy that is not
// written inline (a managed policy, a SAM policy template) is an error: its
// actions cannot be read from the template.
func (t *Template) Statements(function string, r *Resolver) ([]Statement, error) {
	res, ok := t.Resources[function]
	if !ok || res.Type != TypeFunction {
		return nil, fmt.Errorf("reading policies of %q: no such function", function)
	}
	policies, err := r.Resolve(res.Properties["Policies"])
	if err != nil {
		return nil, fmt.Errorf("resolving policies of %q: %w", function, err)
	}
	list, ok := policies.([]any)
	if !ok && policies != nil {
		return nil, fmt.Errorf("reading policies of %q: got %T, want a list", function, policies)
	}
	var out []Statement
	for i, p := range list {
		doc, _ := p.(map[string]any)
		stmts, ok := doc["Statement"].([]any)
		if !ok {
			return nil, fmt.Errorf("reading policy %d of %q: not an inline policy document", i, function)
		}
		for j, s := range stmts {
			st, err := statement(s)
			if err != nil {
				return nil, fmt.Errorf("reading statement %d of policy %d of %q: %w", j, i, function, err)
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// statement reads one resolved statement.
func statement(v any) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("got %T, want a statement", v)
	}
	var st Statement
	st.Sid, _ = m["Sid"].(string)
	st.Effect, _ = m["Effect"].(string)
	st.Condition, _ = m["Condition"].(map[string]any)
	var err error
	if st.Actions, err = stringList(m["Action"]); err != nil {
		return Statement{}, fmt.Errorf("reading Action: %w", err)
	}
	if st.Resources, err = stringList(m["Resource"]); err != nil {
		return Statement{}, fmt.Errorf("reading Resource: %w", err)
	}
	if _, ok := m["NotAction"]; ok {
		return Statement{}, fmt.Errorf("NotAction cannot be checked against the code")
	}
	if _, ok := m["NotResource"]; ok {
		return Statement{}, fmt.Errorf("NotResource cannot be checked for scope")
	}
	return st, nil
}

// stringList reads a string or a list of strings, sorted.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("got %T in a list, want a string", e)
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out, nil
	}
	return nil, fmt.Errorf("got %T, want a string or a list", v)
}
