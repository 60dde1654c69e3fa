package request

import (
	"errors"
	"fmt"
	"strings"
)

// Scope is what ensure-repo may manage: the repositories whose names start
// with one of RepositoryPrefixes (every repository when there are none) and
// the parameters below ParameterPrefix. The stack grants ensure-repo's IAM
// permissions on nothing else, so every front door holds its requests to the
// same Scope and refuses one outside it with a message that names the field,
// before a call could fail with AccessDenied.
type Scope struct {
	// ParameterPrefix is a parameter path such as "/ecr/repositories"; a "/"
	// at its end is ignored. URIs go below it by default, and a request may
	// name its parameter only below it.
	ParameterPrefix string
	// RepositoryPrefixes are the prefixes a repository name may start with;
	// none allows every name.
	RepositoryPrefixes []string
}

// AllowsRepository reports whether the repository called name is in s.
func (s Scope) AllowsRepository(name string) bool {
	if len(s.RepositoryPrefixes) == 0 {
		return true
	}
	for _, p := range s.RepositoryPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// AllowsParameter reports whether the parameter called name is below
// s.ParameterPrefix.
func (s Scope) AllowsParameter(name string) bool {
	return strings.HasPrefix(name, s.parameterPath())
}

// ParameterName returns the parameter that receives r's URI:
// r.UriParameterName when named, otherwise DefaultParameterName below
// s.ParameterPrefix. The default is always in s; neither is validated.
func (s Scope) ParameterName(r Repository) string {
	if r.UriParameterName != "" {
		return r.UriParameterName
	}
	return DefaultParameterName(s.ParameterPrefix, r.Name)
}

// Check reports every way r leaves s, each as a *FieldError, joined with
// errors.Join in field order: a RepositoryName that starts with none of the
// repository prefixes, and a UriParameterName that is not below the
// parameter prefix. It returns nil when r is in s.
func (s Scope) Check(r Repository) error {
	var problems []error
	if !s.AllowsRepository(r.Name) {
		problems = append(problems, &FieldError{Field: propName,
			Rule: "must start with one of the allowed prefixes " + quoteAll(s.RepositoryPrefixes)})
	}
	if r.UriParameterName != "" && !s.AllowsParameter(r.UriParameterName) {
		problems = append(problems, &FieldError{Field: propUriParameterName,
			Rule: fmt.Sprintf("must start with the parameter prefix %q", s.parameterPath())})
	}
	return errors.Join(problems...)
}

// parameterPath returns the parameter prefix ending in exactly one "/".
func (s Scope) parameterPath() string {
	return strings.TrimRight(s.ParameterPrefix, "/") + "/"
}

// quoteAll returns the strings quoted and separated by commas.
func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
