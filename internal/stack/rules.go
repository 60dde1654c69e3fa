package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Resource types the readers below know.
const (
	TypeFunction = "AWS::Serverless::Function"
	TypeRule     = "AWS::Events::Rule"
)

// Rule is one EventBridge rule the template creates, resolved for one set of
// parameter values.
type Rule struct {
	// Name is the rule's logical id: that of an AWS::Events::Rule, or the one
	// SAM generates for a function's event (function id + event name).
	Name string
	// Bus is the name of the event bus the rule is on.
	Bus string
	// Pattern is the rule's event pattern as JSON.
	Pattern json.RawMessage
	// Function is the logical id of the function the rule invokes; empty
	// for a rule whose targets are other resources.
	Function string
	// Targets lists the logical ids of the resources an AWS::Events::Rule
	// targets.
	Targets []string
}

// Rules returns the EventBridge rules the template creates under r's
// parameter values: AWS::Events::Rule resources, and the EventBridgeRule and
// CloudWatchEvent events of SAM functions. Resources whose condition is false
// are left out. The rules are sorted by name.
func (t *Template) Rules(r *Resolver) ([]Rule, error) {
	var rules []Rule
	for id, res := range t.Resources {
		ok, err := t.exists(r, id, res)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		switch res.Type {
		case TypeFunction:
			events, _ := res.Properties["Events"].(map[string]any)
			for name, e := range events {
				ev, _ := e.(map[string]any)
				typ, _ := ev["Type"].(string)
				if typ != "EventBridgeRule" && typ != "CloudWatchEvent" {
					continue
				}
				props, _ := ev["Properties"].(map[string]any)
				rule, err := newRule(r, id+name, props["EventBusName"], props["Pattern"])
				if err != nil {
					return nil, fmt.Errorf("reading event %q of %q: %w", name, id, err)
				}
				rule.Function = id
				rules = append(rules, rule)
			}
		case TypeRule:
			rule, err := newRule(r, id, res.Properties["EventBusName"], res.Properties["EventPattern"])
			if err != nil {
				return nil, fmt.Errorf("reading rule %q: %w", id, err)
			}
			targets, _ := res.Properties["Targets"].([]any)
			for _, tg := range targets {
				m, _ := tg.(map[string]any)
				if ref := referenced(m["Arn"]); ref != "" {
					rule.Targets = append(rule.Targets, ref)
				}
			}
			rules = append(rules, rule)
		}
	}
	slices.SortFunc(rules, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return rules, nil
}

// newRule resolves a rule's bus and pattern.
func newRule(r *Resolver, name string, bus, pattern any) (Rule, error) {
	rule := Rule{Name: name, Bus: "default"}
	if bus != nil {
		b, err := r.String(bus)
		if err != nil {
			return Rule{}, fmt.Errorf("resolving the event bus: %w", err)
		}
		// EventBusName takes a name or an ARN.
		if _, after, ok := strings.Cut(b, ":event-bus/"); ok {
			b = after
		}
		rule.Bus = b
	}
	if pattern == nil {
		return Rule{}, fmt.Errorf("the rule has no event pattern")
	}
	p, err := r.Resolve(pattern)
	if err != nil {
		return Rule{}, fmt.Errorf("resolving the event pattern: %w", err)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return Rule{}, fmt.Errorf("encoding the event pattern: %w", err)
	}
	rule.Pattern = raw
	return rule, nil
}

// exists reports whether a resource exists under r's parameter values.
func (t *Template) exists(r *Resolver, id string, res Resource) (bool, error) {
	if res.Condition == "" {
		return true, nil
	}
	ok, err := r.Condition(res.Condition)
	if err != nil {
		return false, fmt.Errorf("reading resource %q: %w", id, err)
	}
	return ok, nil
}

// referenced returns the logical id that a Ref or Fn::GetAtt names, or "".
func referenced(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if s, ok := m["Ref"].(string); ok {
		return s
	}
	if l, ok := m["Fn::GetAtt"].([]any); ok && len(l) > 0 {
		s, _ := l[0].(string)
		return s
	}
	return ""
}
