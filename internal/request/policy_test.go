package request

import (
	"reflect"
	"testing"
)

// TestOpenGrants checks which statements let outsiders in.
func TestOpenGrants(t *testing.T) {
	const account = "123456789012"
	tests := []struct {
		name   string
		policy string
		want   []string
	}{
		{"no policy", "", nil},
		{"not JSON", "{", []string{"the policy is not valid JSON"}},
		{"not an object", `["Allow"]`, []string{"the policy is not a JSON object"}},
		{"own account only", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":[
			"arn:aws:iam::123456789012:role/ci","123456789012","AROAEXAMPLEUNIQUEID"]},
			"Action":"ecr:*"}]}`,
			nil},
		{"a service", `{"Statement":{"Effect":"Allow",
			"Principal":{"Service":"codebuild.amazonaws.com"},
			"Action":"ecr:BatchGetImage"}}`, nil},
		{"everyone", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}`,
			[]string{`Statement[0] grants Principal "*"`}},
		{"everyone in a single statement", `{"Statement":{"Effect":"Allow","Principal":"*",` +
			`"Action":"ecr:*"}}`,
			[]string{`Statement grants Principal "*"`}},
		{"every AWS principal", `{"Statement":[
			{"Effect":"Deny","Principal":"*","Action":"ecr:Delete*"},
			{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage"}]}`,
			[]string{`Statement[1] grants Principal.AWS "*"`}},
		{"every principal despite a condition", `{"Statement":[{"Effect":"Allow",
			"Principal":{"AWS":["*"]},"Action":"ecr:BatchGetImage",
			"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-example"}}}]}`,
			[]string{`Statement[0] grants Principal.AWS "*"`}},
		{"other accounts", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":[
			"arn:aws:iam::210987654321:root","345678901234","arn:aws:iam::123456789012:root"]},
			"Action":"ecr:*"}]}`,
			[]string{
				`Statement[0] grants Principal.AWS "arn:aws:iam::210987654321:root" in account ` +
					`210987654321`,
				`Statement[0] grants Principal.AWS "345678901234" in account 345678901234`,
			}},
		{"everyone but some", `{"Statement":[{"Effect":"Allow",
			"NotPrincipal":{"AWS":"123456789012"},
			"Action":"ecr:*"}]}`,
			[]string{"Statement[0] allows every principal that its NotPrincipal does not name"}},
		{"a wildcard in another principal type", `{"Statement":[{"Effect":"Allow",
			"Principal":{"Service":"*","AWS":"arn:aws:iam::123456789012:root"},"Action":"ecr:*"}]}`,
			[]string{`Statement[0] grants Principal.Service "*"`}},
		{"denials only", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OpenGrants(tt.policy, account); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOpenGrantsWithoutAccount checks that an unknown account finds only
// grants to everyone.
func TestOpenGrantsWithoutAccount(t *testing.T) {
	policy := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},` +
		`"Action":"ecr:*"}]}`
	if got := OpenGrants(policy, ""); got != nil {
		t.Errorf("got %q, want nil", got)
	}
}

// TestPublicPolicy checks the repository's own open-policy report.
func TestPublicPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		wantWhy string
		wantOK  bool
	}{
		{"no policy", "", "", false},
		{"sample policy", samplePolicy, "", false},
		{"another account only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"AWS":"210987654321"},"Action":"ecr:*"}]}`, "", false},
		{"everyone", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",` +
			`"Action":"ecr:*"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:*"}]}`,
			`Statement[0] grants Principal "*"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Repository{Name: "app", RepositoryPolicy: tt.policy}
			why, ok := r.PublicPolicy()
			if why != tt.wantWhy || ok != tt.wantOK {
				t.Errorf("got (%q, %t), want (%q, %t)", why, ok, tt.wantWhy, tt.wantOK)
			}
		})
	}
}

// TestEqualJSON checks comparisons by parsed JSON.
func TestEqualJSON(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same text", `{"a":1}`, `{"a":1}`, true},
		{"other order and spacing", `{"b":[1,2],"a":{"c":true}}`, "{\n \"a\": {\"c\": true},\n " +
			"\"b\": [1, 2]\n}", true},
		{"numbers as numbers", `{"n":14}`, `{"n":14.0}`, true},
		{"number and string", `{"n":14}`, `{"n":"14"}`, false},
		{"list order matters", `[1,2]`, `[2,1]`, false},
		{"not JSON", `{`, `{}`, false},
		{"both empty", ``, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EqualJSON(tt.a, tt.b); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

// TestCanonicalPolicyEqualsSample checks that what Parse keeps compares equal
// to the policy as the request wrote it.
func TestCanonicalPolicyEqualsSample(t *testing.T) {
	r, err := Parse(loadSample(t, "cfn-create.json").ResourceProperties)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	written := `{"rules":[{"rulePriority":1,"description":"expire untagged images after 14 days",` +
		`"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days",` +
		`"countNumber":14},"action":{"type":"expire"}}]}`
	if !EqualJSON(r.LifecyclePolicy, written) {
		t.Errorf("got %s, want the same JSON as %s", r.LifecyclePolicy, written)
	}
}
