package request

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// The repository policy grammar: the IAM policy elements a resource-based
// policy on an ECR repository uses.
const (
	polVersion      = "Version"
	polID           = "Id"
	polStatement    = "Statement"
	polSid          = "Sid"
	polEffect       = "Effect"
	polPrincipal    = "Principal"
	polNotPrincipal = "NotPrincipal"
	polAction       = "Action"
	polNotAction    = "NotAction"
	polResource     = "Resource"
	polNotResource  = "NotResource"
	polCondition    = "Condition"

	effectAllow = "Allow"
	effectDeny  = "Deny"

	policyVersion2012 = "2012-10-17"
	policyVersion2008 = "2008-10-17"
)

// parseRepositoryPolicy validates a repository policy, given as JSON text or
// as an object, and returns it as canonical JSON. Values are kept as given:
// IAM reads "false" and false alike in a condition, so nothing is coerced.
func parseRepositoryPolicy(p *problems, path string, v any) string {
	doc, ok := asDocument(p, path, v)
	if !ok {
		return ""
	}
	before := p.count()

	versionPath := child(path, polVersion)
	if v, ok := field(doc, polVersion); !ok {
		p.add(versionPath, "is required")
	} else if s, ok := asString(p, versionPath, v); ok &&
		s != policyVersion2012 && s != policyVersion2008 {
		p.add(versionPath, oneOf(policyVersion2012, policyVersion2008))
	}

	if v, ok := field(doc, polID); ok {
		asString(p, child(path, polID), v)
	}

	statementPath := child(path, polStatement)
	if v, ok := field(doc, polStatement); !ok {
		p.add(statementPath, "is required")
	} else {
		switch s := v.(type) {
		case map[string]any:
			checkStatement(p, statementPath, s)
		case []any:
			if len(s) == 0 {
				p.add(statementPath, "must have at least one statement")
			}
			for i, item := range s {
				if st, ok := asObject(p, index(statementPath, i), item); ok {
					checkStatement(p, index(statementPath, i), st)
				}
			}
		default:
			p.add(statementPath, "must be an object or a list of objects")
		}
	}

	rejectUnknown(p, path, doc, polVersion, polID, polStatement)
	if p.count() > before {
		return ""
	}

	text, err := canonicalJSON(doc)
	if err != nil {
		p.addf(path, "must be a JSON object: %s", jsonProblem(err))
		return ""
	}
	if n := utf8.RuneCountInString(text); n > MaxRepositoryPolicyLength {
		p.addf(path, "must be at most %d characters as compact JSON (it is %d)",
			MaxRepositoryPolicyLength, n)
		return ""
	}
	return text
}

// checkStatement validates the elements of one policy statement. Resource
// and Condition are left to IAM: their grammar is large and a mistake there
// is reported by SetRepositoryPolicy with its own words.
func checkStatement(p *problems, path string, st map[string]any) {
	if v, ok := field(st, polSid); ok {
		asString(p, child(path, polSid), v)
	}

	effectPath := child(path, polEffect)
	if v, ok := field(st, polEffect); !ok {
		p.add(effectPath, "is required")
	} else if s, ok := asString(p, effectPath, v); ok && s != effectAllow && s != effectDeny {
		p.add(effectPath, oneOf(effectAllow, effectDeny))
	}

	principal, hasPrincipal := field(st, polPrincipal)
	notPrincipal, hasNotPrincipal := field(st, polNotPrincipal)
	switch {
	case hasPrincipal && hasNotPrincipal:
		p.addf(child(path, polNotPrincipal), "cannot be combined with %s", polPrincipal)
	case hasPrincipal:
		checkPrincipal(p, child(path, polPrincipal), principal)
	case hasNotPrincipal:
		checkPrincipal(p, child(path, polNotPrincipal), notPrincipal)
	default:
		p.addf(child(path, polPrincipal), "is required in a repository policy (or %s)",
			polNotPrincipal)
	}

	action, hasAction := field(st, polAction)
	notAction, hasNotAction := field(st, polNotAction)
	switch {
	case hasAction && hasNotAction:
		p.addf(child(path, polNotAction), "cannot be combined with %s", polAction)
	case hasAction:
		checkStrings(p, child(path, polAction), action)
	case hasNotAction:
		checkStrings(p, child(path, polNotAction), notAction)
	default:
		p.addf(child(path, polAction), "is required (or %s)", polNotAction)
	}

	if v, ok := field(st, polResource); ok {
		checkStrings(p, child(path, polResource), v)
	}
	if v, ok := field(st, polNotResource); ok {
		checkStrings(p, child(path, polNotResource), v)
	}
	if v, ok := field(st, polCondition); ok {
		asObject(p, child(path, polCondition), v)
	}

	rejectUnknown(p, path, st, polSid, polEffect, polPrincipal, polNotPrincipal, polAction,
		polNotAction, polResource, polNotResource, polCondition)
}

// checkPrincipal validates a Principal or NotPrincipal: "*" or an object
// mapping principal types to one or more identifiers.
func checkPrincipal(p *problems, path string, v any) {
	switch pr := v.(type) {
	case string:
		if pr != "*" {
			p.add(path, principalRule)
		}
	case map[string]any:
		if len(pr) == 0 {
			p.add(path, "must name at least one principal")
			return
		}
		for _, kind := range principalTypes {
			if v, ok := field(pr, kind); ok {
				checkStrings(p, child(path, kind), v)
			}
		}
		rejectUnknown(p, path, pr, principalTypes...)
	default:
		p.add(path, principalRule)
	}
}

// principalRule words the shapes of a Principal.
const principalRule = `must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}`

// principalTypes are the keys of a principal object.
var principalTypes = []string{"AWS", "Service", "Federated", "CanonicalUser"}

// checkStrings validates a policy element that holds one string or a
// non-empty list of them.
func checkStrings(p *problems, path string, v any) {
	switch s := v.(type) {
	case string:
		if s == "" {
			p.add(path, "must not be empty")
		}
	case []any:
		if len(s) == 0 {
			p.add(path, "must have at least one entry")
		}
		for i, item := range s {
			if str, ok := asString(p, index(path, i), item); ok && str == "" {
				p.add(index(path, i), "must not be empty")
			}
		}
	default:
		p.add(path, "must be a string or a list of strings")
	}
}

// OpenGrants lists the statements of a repository policy that let in
// principals from outside accountID, one description per finding, for
// example `Statement[0] grants Principal "*"`. It looks at statements whose
// Effect is Allow and finds:
//   - Principal "*", or "*" anywhere in a principal's identifiers
//     (`Statement[1] grants Principal.AWS "*"`);
//   - an AWS principal in another account, given as a 12-digit account id or
//     as an ARN (`Statement[2] grants Principal.AWS
//     "arn:aws:iam::210987654321:root" in account 210987654321`); skipped when
//     accountID is "";
//   - a Service principal in a statement with no aws:SourceAccount,
//     aws:SourceArn or aws:SourceOrgID condition that limits it to accountID
//     (to any one source when accountID is ""): without one, the service may
//     act for a resource in any account;
//   - a Federated principal, whose identities belong to no account;
//   - a CanonicalUser principal, which names an account that cannot be
//     compared with accountID; skipped when accountID is "";
//   - NotPrincipal, which allows everyone it does not name.
//
// Other conditions are not evaluated: a statement open to "*" but limited by,
// say, aws:PrincipalOrgID is still reported, so a caller that refuses open
// policies refuses it too and its operator decides. aws:SourceOrgID counts
// as a limit though the organization cannot be checked here. An empty
// policyJSON grants nothing and gives nil; text that is not a JSON object
// gives one finding, so that a guard built on OpenGrants fails closed.
func OpenGrants(policyJSON, accountID string) []string {
	if policyJSON == "" {
		return nil
	}
	var doc any
	if err := decodeJSON([]byte(policyJSON), &doc); err != nil {
		return []string{"the policy is not valid JSON"}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return []string{"the policy is not a JSON object"}
	}

	var statements []any
	single := false
	switch s := obj[polStatement].(type) {
	case map[string]any:
		statements, single = []any{s}, true
	case []any:
		statements = s
	}

	var findings []string
	for i, item := range statements {
		st, ok := item.(map[string]any)
		if !ok || st[polEffect] != effectAllow {
			continue
		}
		name := polStatement
		if !single {
			name = index(polStatement, i)
		}
		if _, ok := field(st, polNotPrincipal); ok {
			findings = append(findings, name+" allows every principal that its NotPrincipal"+
				" does not name")
		}
		switch pr := st[polPrincipal].(type) {
		case string:
			if strings.Contains(pr, "*") {
				findings = append(findings, fmt.Sprintf("%s grants %s %q", name, polPrincipal, pr))
			}
		case map[string]any:
			kinds := make([]string, 0, len(pr))
			for kind := range pr {
				kinds = append(kinds, kind)
			}
			slices.Sort(kinds)
			g := grant{statement: name, accountID: accountID,
				limited: sourceLimited(st[polCondition], accountID)}
			for _, kind := range kinds {
				for _, id := range identifiers(pr[kind]) {
					if why := g.open(kind, id); why != "" {
						findings = append(findings, why)
					}
				}
			}
		}
	}
	return findings
}

// grant is what OpenGrants knows of one Allow statement while it judges the
// statement's principals.
type grant struct {
	statement string // "Statement" or "Statement[i]"
	accountID string // the repository's account; "" when unknown
	limited   bool   // a source condition limits the statement to accountID
}

// open describes why one principal identifier is open, or returns "".
func (g grant) open(kind, id string) string {
	path := polPrincipal + "." + kind
	if strings.Contains(id, "*") {
		return fmt.Sprintf("%s grants %s %q", g.statement, path, id)
	}
	switch kind {
	case "AWS":
		if g.accountID == "" {
			return ""
		}
		if account := principalAccount(id); account != "" && account != g.accountID {
			return fmt.Sprintf("%s grants %s %q in account %s", g.statement, path, id, account)
		}
		return ""
	case "Service":
		if g.limited {
			return ""
		}
		limit := ""
		if g.accountID != "" {
			limit = " limiting it to account " + g.accountID
		}
		return fmt.Sprintf("%s grants %s %q with no %s condition%s", g.statement, path, id,
			sourceKeysText, limit)
	case "Federated":
		return fmt.Sprintf("%s grants %s %q to identities of no account", g.statement, path, id)
	default:
		// CanonicalUser, and any type IAM may add: an account this cannot check.
		if g.accountID == "" {
			return ""
		}
		return fmt.Sprintf("%s grants %s %q in an account that cannot be checked", g.statement,
			path, id)
	}
}

// Condition keys that name the resource a service principal acts for.
const (
	keySourceAccount = "aws:SourceAccount"
	keySourceArn     = "aws:SourceArn"
	keySourceOrgID   = "aws:SourceOrgID"
)

// sourceKeysText names the source condition keys in a finding.
const sourceKeysText = keySourceAccount + ", " + keySourceArn + " or " + keySourceOrgID

// limitingOperators are the condition operators that, with a source key,
// require the key to be present and to match: their ...IfExists and negated
// forms let a request without the key, or with another value, through.
var limitingOperators = []string{
	"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
}

// sourceLimited reports whether a statement's Condition holds a source
// condition whose every value names accountID (or, when accountID is "",
// one source with no wildcard). Conditions in one statement all apply, so
// one such condition limits the statement.
func sourceLimited(condition any, accountID string) bool {
	ops, ok := condition.(map[string]any)
	if !ok {
		return false
	}
	for op, v := range ops {
		if !slices.ContainsFunc(limitingOperators, func(s string) bool {
			return strings.EqualFold(s, op)
		}) {
			continue
		}
		keys, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for key, values := range keys {
			ids := identifiers(values)
			if len(ids) == 0 || len(ids) != countValues(values) {
				continue
			}
			if slices.IndexFunc(ids, func(id string) bool {
				return !sourceValueLimited(key, id, accountID)
			}) < 0 {
				return true
			}
		}
	}
	return false
}

// countValues returns how many values a condition key holds.
func countValues(v any) int {
	if list, ok := v.([]any); ok {
		return len(list)
	}
	return 1
}

// sourceValueLimited reports whether one value of a condition key limits a
// service principal to accountID. A wildcard or a policy variable may stand
// for a resource of the account in an ARN's last part, never anywhere else:
// there it could let another account's ARN match.
func sourceValueLimited(key, value, accountID string) bool {
	switch {
	case strings.EqualFold(key, keySourceAccount):
		return registryIDPattern.MatchString(value) &&
			(accountID == "" || value == accountID)
	case strings.EqualFold(key, keySourceArn):
		parts := strings.SplitN(value, ":", 6)
		return len(parts) == 6 && parts[0] == "arn" &&
			!strings.ContainsAny(strings.Join(parts[:5], ":"), "*?$") &&
			registryIDPattern.MatchString(parts[4]) &&
			(accountID == "" || parts[4] == accountID)
	case strings.EqualFold(key, keySourceOrgID):
		return value != "" && !strings.ContainsAny(value, "*?$")
	}
	return false
}

// identifiers returns the string identifiers of one principal type.
func identifiers(v any) []string {
	switch ids := v.(type) {
	case string:
		return []string{ids}
	case []any:
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			if s, ok := id.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// principalAccount returns the account of an AWS principal given as a
// 12-digit account id or an ARN, or "" for other forms (such as a role's
// unique id, which names no account).
func principalAccount(id string) string {
	if registryIDPattern.MatchString(id) {
		return id
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && registryIDPattern.MatchString(parts[4]) {
		return parts[4]
	}
	return ""
}

// PublicPolicy reports whether r's repository policy lets anyone at all in:
// a statement that allows Principal "*" (or "*" within a principal), a
// service acting for any source, federated identities, or everyone but a
// NotPrincipal. why describes the first such statement. Principals in other
// accounts need the caller's account id and are found by OpenGrants.
func (r Repository) PublicPolicy() (why string, ok bool) {
	findings := OpenGrants(r.RepositoryPolicy, "")
	if len(findings) == 0 {
		return "", false
	}
	return findings[0], true
}

// EqualJSON reports whether a and b hold the same JSON value: objects with
// the same members in any order, numbers equal as numbers. It suits comparing
// a canonical policy with the text ECR returns. Text that is not JSON is
// equal only to identical text.
func EqualJSON(a, b string) bool {
	if a == b {
		return true
	}
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
