package frontdoor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	deep := "/" + strings.Repeat("a/", 13) + "b"
	tests := []struct {
		name string
		env  map[string]string
		want Config
		err  string
	}{
		{
			name: "defaults",
			want: Config{ParameterPrefix: "/ecr/repositories"},
		},
		{
			name: "everything set",
			env: map[string]string{
				"PARAMETER_PREFIX":               "/platform/ecr/",
				"ALLOWED_REPOSITORY_PREFIXES":    " team-a/ , ,team-b/",
				"ALLOW_OPEN_REPOSITORY_POLICIES": "true",
				"REQUEST_SOURCE":                 "platform.self-service",
				"ACCOUNT_ID":                     " 123456789012 ",
			},
			want: Config{
				ParameterPrefix:   "/platform/ecr",
				AllowedPrefixes:   []string{"team-a/", "team-b/"},
				AllowOpenPolicies: true,
				RequestSource:     "platform.self-service",
				AccountID:         "123456789012",
			},
		},
		{
			name: "account id too short",
			env:  map[string]string{"ACCOUNT_ID": "12345678901"},
			err:  `ACCOUNT_ID "12345678901": must be an AWS account id of 12 digits`,
		},
		{
			name: "account id not digits",
			env:  map[string]string{"ACCOUNT_ID": "arn:aws:iam::123456789012:root"},
			err: `ACCOUNT_ID "arn:aws:iam::123456789012:root": must be an AWS account id of` +
				` 12 digits`,
		},
		{
			name: "prefix without a slash",
			env:  map[string]string{"PARAMETER_PREFIX": "ecr"},
			err:  `PARAMETER_PREFIX "ecr": must start with "/"`,
		},
		{
			name: "prefix of no level",
			env:  map[string]string{"PARAMETER_PREFIX": "/"},
			err:  `PARAMETER_PREFIX "/": must name at least one level`,
		},
		{
			name: "reserved prefix",
			env:  map[string]string{"PARAMETER_PREFIX": "/SSM/repos"},
			err: `PARAMETER_PREFIX "/SSM/repos": with "/<repository>/uri" appended, must not start` +
				` with "aws" or "ssm" in any case, which SSM reserves`,
		},
		{
			name: "prefix too deep",
			env:  map[string]string{"PARAMETER_PREFIX": deep},
			err: `PARAMETER_PREFIX "` + deep + `": with "/<repository>/uri" appended, must have at` +
				` most 15 levels`,
		},
		{
			name: "prefix with a space",
			env:  map[string]string{"PARAMETER_PREFIX": "/ecr repos"},
			err: `PARAMETER_PREFIX "/ecr repos": with "/<repository>/uri" appended, must contain` +
				` only letters a-z and A-Z, digits and the characters _ . - / (found ' ')`,
		},
		{
			name: "upper-case repository prefix",
			env:  map[string]string{"ALLOWED_REPOSITORY_PREFIXES": "team-a/,Team-B/"},
			err: `ALLOWED_REPOSITORY_PREFIXES: "Team-B/" can never start a repository name, which` +
				` uses only lower-case letters, digits and . _ - /`,
		},
		{
			name: "open policies not a boolean",
			env:  map[string]string{"ALLOW_OPEN_REPOSITORY_POLICIES": "yes"},
			err:  `ALLOW_OPEN_REPOSITORY_POLICIES "yes": must be true or false`,
		},
		{
			name: "several problems",
			env: map[string]string{"PARAMETER_PREFIX": "ecr", "ALLOW_OPEN_REPOSITORY_POLICIES": "2",
				"ALLOWED_REPOSITORY_PREFIXES": "A"},
			err: `PARAMETER_PREFIX "ecr": must start with "/"` + "\n" +
				`ALLOWED_REPOSITORY_PREFIXES: "A" can never start a repository name, which uses` +
				` only lower-case letters, digits and . _ - /` + "\n" +
				`ALLOW_OPEN_REPOSITORY_POLICIES "2": must be true or false`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.err {
				t.Errorf("got error %q,\nwant %q", gotErr, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestEnvJSON checks that events/env.json configures ensure-repo validly,
// with the source its self-service sample comes from.
func TestEnvJSON(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("decoding env.json: %v", err)
	}
	vars, ok := env["EnsureRepoFunction"]
	if !ok {
		t.Fatal("got no EnsureRepoFunction section, want one")
	}
	cfg, err := ConfigFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	var ev struct {
		Source string `json:"source"`
	}
	b, err = os.ReadFile(filepath.Join("..", "..", "events", "ensure-repo-self-service.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if cfg.RequestSource != ev.Source {
		t.Errorf("got REQUEST_SOURCE %q, want the sample's source %q", cfg.RequestSource, ev.Source)
	}
	// moto's account, in which the samples' repositories and principals live.
	if cfg.AccountID != "123456789012" {
		t.Errorf("got ACCOUNT_ID %q, want moto's account 123456789012", cfg.AccountID)
	}
}
