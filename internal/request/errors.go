package request

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// FieldError reports one property of a request that breaks one rule. Field
// is the dotted path of the property as the request spells it, with list
// indexes in brackets (for example "Tags[2].Key" or
// "LifecyclePolicy.LifecyclePolicyText.rules[0].selection.countNumber"), and
// Rule says in plain words what the value must be.
type FieldError struct {
	Field string
	Rule  string
}

// Error returns the field and the rule separated by a colon.
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Rule
}

// FieldErrors returns every *FieldError in err's tree, in the order they were
// reported. It returns nil when err holds none. errors.As finds only the first
// of several, so callers that show every problem use this instead.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects the rule violations of one request in the order the
// fields are visited.
type problems struct {
	errs []error
}

// add records that field breaks rule.
func (p *problems) add(field, rule string) {
	p.errs = append(p.errs, &FieldError{Field: field, Rule: rule})
}

// addf records that field breaks the rule formatted from format and args.
func (p *problems) addf(field, format string, args ...any) {
	p.add(field, fmt.Sprintf(format, args...))
}

// count returns how many problems have been recorded so far.
func (p *problems) count() int {
	return len(p.errs)
}

// err returns nil, the single *FieldError, or all of them joined.
func (p *problems) err() error {
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	default:
		return errors.Join(p.errs...)
	}
}

// child returns the path of the property name inside the object at path.
func child(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index returns the path of element i of the list at path.
func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// field returns the value of name in obj and whether it is named. A JSON null
// counts as not named, so a request may spell "not set" either way.
func field(obj map[string]any, name string) (any, bool) {
	v, ok := obj[name]
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// rejectUnknown reports every property of obj that is not in known, sorted by
// name so the report is stable. A name that differs from a known one only in
// case gets a hint, since that is the usual slip in a hand-written template.
func rejectUnknown(p *problems, path string, obj map[string]any, known ...string) {
	var unknown []string
	for name := range obj {
		if !slices.Contains(known, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		rule := "is not a known property"
		for _, k := range known {
			if nearly(k, name) {
				rule = fmt.Sprintf("is not a known property; did you mean %q?", k)
				break
			}
		}
		p.add(child(path, displayName(name)), rule)
	}
}

// maxDisplayName is how much of an unknown property's name a report shows.
const maxDisplayName = 64

// displayName spells an unknown property's name for a field path: quoted
// when it is empty or holds characters that would blur the path, and cut
// short when long, so one stray name cannot crowd out the other problems.
func displayName(name string) string {
	if r := []rune(name); len(r) > maxDisplayName {
		name = string(r[:maxDisplayName-3]) + "..."
	}
	plain := name != ""
	for _, c := range name {
		if !unicode.IsGraphic(c) || c == ' ' || strings.ContainsRune(`.[]"`, c) {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	return strconv.Quote(name)
}

// nearly reports whether a and b differ only in case and at most one added,
// dropped or changed character, which is how a hand-written name usually
// goes wrong ("scanOnPush", "Statements").
func nearly(a, b string) bool {
	x, y := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	if len(x) > len(y) {
		x, y = y, x
	}
	if len(y)-len(x) > 1 {
		return false
	}
	i := 0
	for i < len(x) && x[i] == y[i] {
		i++
	}
	if len(x) == len(y) {
		return i == len(x) || string(x[i+1:]) == string(y[i+1:])
	}
	return string(x[i:]) == string(y[i+1:])
}

// oneOf words the rule for a value that must be one of values.
func oneOf(values ...string) string {
	return "must be one of " + strings.Join(values, ", ")
}
