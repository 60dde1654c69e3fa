package request

import (
	"strings"
	"testing"
)

// TestValidateParameterName checks SSM's naming rules.
func TestValidateParameterName(t *testing.T) {
	levels := func(n int) string { return strings.Repeat("/l", n) }
	long := func(n int) string { return "/" + strings.Repeat("n", n-1) }

	tests := []struct {
		name      string
		parameter string
		want      string // the rule; "" when the name is valid
	}{
		{"default shape", "/ecr/repositories/team/app/uri", ""},
		{"every allowed character", "/Az09_.-/x", ""},
		{"aws below the first level", "/team/aws/ssm", ""},
		{"fifteen levels", levels(15), ""},
		{"longest name", long(MaxParameterNameLength), ""},
		{"empty", "", "must not be empty"},
		{"not fully qualified", "ecr/app", `must start with "/"`},
		{"space", "/team/my app",
			`must contain only letters a-z and A-Z, digits and the characters _ . - / (found ' ')`},
		{"accented letter", "/équipe",
			`must contain only letters a-z and A-Z, digits and the characters _ . - /` +
				` (found 'é')`},
		{"too long", long(MaxParameterNameLength + 1), "must be at most 947 characters long"},
		{"root only", "/", `must not have an empty level ("//" or a "/" at the end)`},
		{"empty level", "/team//app", `must not have an empty level ("//" or a "/" at the end)`},
		{"trailing slash", "/team/app/", `must not have an empty level ("//" or a "/" at the end)`},
		{"sixteen levels", levels(16), "must have at most 15 levels"},
		{"aws prefix", "/aws/service/x", `must not start with "aws" or "ssm" in any case, which ` +
			`SSM reserves`},
		{"aws prefix in capitals", "/AWSome/x", `must not start with "aws" or "ssm" in any case, ` +
			`which SSM reserves`},
		{"ssm prefix in mixed case", "/sSm", `must not start with "aws" or "ssm" in any case, ` +
			`which SSM reserves`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateParameterName(tt.parameter)
			if tt.want == "" {
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
				return
			}
			fe, ok := err.(*FieldError)
			if !ok {
				t.Fatalf("got %T (%v), want *FieldError", err, err)
			}
			if fe.Field != "UriParameterName" || fe.Rule != tt.want {
				t.Errorf("got %q: %q, want %q: %q", fe.Field, fe.Rule, "UriParameterName", tt.want)
			}
		})
	}
}

// TestDefaultParameterName checks the name used when a request names none.
func TestDefaultParameterName(t *testing.T) {
	tests := []struct {
		name, prefix, repository, want string
	}{
		{"default prefix", "/ecr/repositories", "team/app", "/ecr/repositories/team/app/uri"},
		{"prefix with a trailing slash", "/ecr/repositories/", "app", "/ecr/repositories/app/uri"},
		{"root prefix", "/", "app", "/app/uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultParameterName(tt.prefix, tt.repository)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if err := ValidateParameterName(got); err != nil {
				t.Errorf("got %v for %q, want a valid name", err, got)
			}
		})
	}
}
