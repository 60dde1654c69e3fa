package request

import (
	"fmt"
	"strings"
)

// SSM Parameter Store's naming limits. SSM counts the parameter's ARN
// ("arn:aws:ssm:us-east-1:123456789012:parameter" and the name) against its
// 1011-character limit, so MaxParameterNameLength (947) keeps 64 characters
// for the ARN prefix of any partition and region: a name valid here is valid
// everywhere.
const (
	MaxParameterNameLength = 1011 - parameterARNReserve
	MaxParameterLevels     = 15
	parameterARNReserve    = 64
)

// ValidateParameterName checks name against SSM's rules for the parameter
// that receives a repository URI, before any call is made: a fully qualified
// name that starts with "/", at most MaxParameterLevels levels, at most
// MaxParameterNameLength characters from a-z, A-Z, 0-9, "_", ".", "-" and
// "/", no empty level, and a first level that does not start with "aws" or
// "ssm" in any case (SSM reserves both). A violation is a *FieldError on
// "UriParameterName".
func ValidateParameterName(name string) error {
	fail := func(rule string) error {
		return &FieldError{Field: propUriParameterName, Rule: rule}
	}
	if name == "" {
		return fail("must not be empty")
	}
	if !strings.HasPrefix(name, "/") {
		return fail(`must start with "/"`)
	}
	for _, c := range name {
		if !parameterNameChar(c) {
			return fail(fmt.Sprintf("must contain only letters a-z and A-Z, digits and"+
				" the characters _ . - / (found %q)", c))
		}
	}
	if len(name) > MaxParameterNameLength {
		return fail(fmt.Sprintf("must be at most %d characters long", MaxParameterNameLength))
	}
	if strings.Contains(name, "//") || strings.HasSuffix(name, "/") {
		return fail(`must not have an empty level ("//" or a "/" at the end)`)
	}
	levels := strings.Split(name[1:], "/")
	if len(levels) > MaxParameterLevels {
		return fail(fmt.Sprintf("must have at most %d levels", MaxParameterLevels))
	}
	first := strings.ToLower(levels[0])
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return fail(`must not start with "aws" or "ssm" in any case, which SSM reserves`)
	}
	return nil
}

// parameterNameChar reports whether SSM allows c in a parameter name.
func parameterNameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '/'
}

// DefaultParameterName returns the parameter that receives the URI of
// repository when the request names none: prefix + "/" + repository +
// "/uri". A "/" at the end of prefix is dropped, so "/ecr/repositories/"
// and "/ecr/repositories" give the same name. The result is not validated;
// pass it to ValidateParameterName.
func DefaultParameterName(prefix, repository string) string {
	return strings.TrimRight(prefix, "/") + "/" + repository + "/uri"
}
