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
		{"a service for any account", `{"Statement":{"Effect":"Allow",
			"Principal":{"Service":"codebuild.amazonaws.com"},
			"Action":"ecr:BatchGetImage"}}`,
			[]string{`Statement grants Principal.Service "codebuild.amazonaws.com" with no ` +
				`aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition limiting it to ` +
				`account 123456789012`}},
		{"a service for the own account", `{"Statement":{"Effect":"Allow",
			"Principal":{"Service":["codebuild.amazonaws.com","lambda.amazonaws.com"]},
			"Action":"ecr:BatchGetImage",
			"Condition":{"StringEquals":{"aws:sourceaccount":"123456789012"}}}}`, nil},
		{"a service for resources of the own account", `{"Statement":{"Effect":"Allow",
			"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage",
			"Condition":{"ArnLike":{"aws:SourceArn":[
				"arn:aws:lambda:us-east-1:123456789012:function:*",
				"arn:aws:lambda:eu-west-1:123456789012:function:app"]}}}}`, nil},
		{"a service for the organization", `{"Statement":{"Effect":"Allow",
			"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage",
			"Condition":{"StringEquals":{"aws:SourceOrgID":"o-example"}}}}`, nil},
		{"a service for another account", `{"Statement":[{"Effect":"Allow",
			"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage",
			"Condition":{"StringEquals":{"aws:SourceAccount":["123456789012","210987654321"]}}}]}`,
			[]string{`Statement[0] grants Principal.Service "lambda.amazonaws.com" with no ` +
				`aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition limiting it to ` +
				`account 123456789012`}},
		{"a service for a resource of another account", `{"Statement":[{"Effect":"Allow",
			"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage",
			"Condition":{"ArnLike":{
				"aws:SourceArn":"arn:aws:lambda:*:2109876543*:function:app"}}}]}`,
			[]string{`Statement[0] grants Principal.Service "lambda.amazonaws.com" with no ` +
				`aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition limiting it to ` +
				`account 123456789012`}},
		{"a service with a wildcard before the account", `{"Statement":[{"Effect":"Allow",
			"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage",
			"Condition":{"ArnLike":{
				"aws:SourceArn":"arn:aws:lambda:us-*:123456789012:function:a"}}}]}`,
			[]string{`Statement[0] grants Principal.Service "lambda.amazonaws.com" with no ` +
				`aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition limiting it to ` +
				`account 123456789012`}},
		{"a service whose condition may be absent", `{"Statement":[{"Effect":"Allow",
			"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:BatchGetImage",
			"Condition":{"StringEqualsIfExists":{"aws:SourceAccount":"123456789012"},
				"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}]}`,
			[]string{`Statement[0] grants Principal.Service "lambda.amazonaws.com" with no ` +
				`aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition limiting it to ` +
				`account 123456789012`}},
		{"a federated principal", `{"Statement":[{"Effect":"Allow",
			"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/example.com"},
			"Action":"ecr:BatchGetImage",
			"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`,
			[]string{`Statement[0] grants Principal.Federated ` +
				`"arn:aws:iam::123456789012:oidc-provider/example.com" ` +
				`to identities of no account`}},
		{"a canonical user", `{"Statement":[{"Effect":"Allow",
			"Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d9"},
			"Action":"ecr:BatchGetImage"}]}`,
			[]string{`Statement[0] grants Principal.CanonicalUser ` +
				`"79a59df900b949e55d96a1e698fbacedfd6e09d9" in an account that cannot be checked`}},
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
// grants to everyone: to any principal, to a service acting for any source,
// and to federated identities.
func TestOpenGrantsWithoutAccount(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		want   []string
	}{
		{"another account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},` +
			`"Action":"ecr:*"}]}`, nil},
		{"a canonical user", `{"Statement":[{"Effect":"Allow",` +
			`"Principal":{"CanonicalUser":"79a59df900b949e5"},"Action":"ecr:*"}]}`, nil},
		{"a service for one account", `{"Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:*",` +
			`"Condition":{"StringEquals":{"aws:SourceAccount":"210987654321"}}}]}`, nil},
		{"a service for any account", `{"Statement":[{"Effect":"Allow",` +
			`"Principal":{"Service":"lambda.amazonaws.com"},"Action":"ecr:*",` +
			`"Condition":{"StringLike":{"aws:SourceAccount":"*"}}}]}`,
			[]string{`Statement[0] grants Principal.Service "lambda.amazonaws.com" with no ` +
				`aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition`}},
		{"a federated principal", `{"Statement":[{"Effect":"Allow",` +
			`"Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"ecr:*"}]}`,
			[]string{`Statement[0] grants Principal.Federated "cognito-identity.amazonaws.com" ` +
				`to identities of no account`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OpenGrants(tt.policy, ""); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
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
