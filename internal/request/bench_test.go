package request

import (
	"fmt"
	"strings"
	"testing"
)

// largeProperties returns a request near every limit: 49 tags, five
// exclusion filters, a lifecycle policy of 60 rules and a repository policy
// of 30 statements, all as strings the way CloudFormation sends them.
func largeProperties(b *testing.B) map[string]any {
	b.Helper()
	tags := make([]string, MaxTags)
	for i := range tags {
		tags[i] = fmt.Sprintf(`{"Key":"key-%02d","Value":"%s"}`, i, strings.Repeat("v", 200))
	}
	filters := make([]string, MaxExclusionFilters)
	for i := range filters {
		filters[i] = fmt.Sprintf(`{"ImageTagMutabilityExclusionFilterType":"WILDCARD",`+
			`"ImageTagMutabilityExclusionFilterValue":"dev-%d-*"}`, i)
	}
	rules := make([]string, 60)
	for i := range rules {
		rules[i] = fmt.Sprintf(`{"rulePriority":"%d","description":"keep the last images of line `+
			`%d",`+
			`"selection":{"tagStatus":"tagged","tagPatternList":["line-%d-*","*-rc*"],`+
			`"countType":"imageCountMoreThan","countNumber":"%d"},"action":{"type":"expire"}}`,
			i+1, i, i, i+10)
	}
	statements := make([]string, 30)
	for i := range statements {
		statements[i] = fmt.Sprintf(`{"Sid":"Pull%d","Effect":"Allow",`+
			`"Principal":{"AWS":"arn:aws:iam::123456789012:role/ci-%d"},`+
			`"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],`+
			`"Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, i, i)
	}
	return decode(b, `{"ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:f",
		"RepositoryName":"platform/team/large-app",
		"ImageScanningConfiguration":{"ScanOnPush":"true"},
		"ImageTagMutability":"IMMUTABLE_WITH_EXCLUSION",
		"ImageTagMutabilityExclusionFilters":[`+strings.Join(filters, ",")+`],
		"EncryptionConfiguration":{"EncryptionType":"KMS","KmsKey":"alias/ecr"},
		"LifecyclePolicy":{"LifecyclePolicyText":{"rules":[`+strings.Join(rules, ",")+`]}},
		"RepositoryPolicyText":{"Version":"2012-10-17",
			"Statement":[`+strings.Join(statements, ",")+`]},
		"Tags":[`+strings.Join(tags, ",")+`],
		"EmptyOnDelete":"true",
		"UriParameterName":"/ecr/repositories/platform/team/large-app/uri"}`)
}

// BenchmarkParse measures decoding and validating a typical request (the
// CloudFormation create sample) and a large one.
func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name  string
		props map[string]any
	}{
		{"typical", loadSample(b, "cfn-create.json").ResourceProperties},
		{"large", largeProperties(b)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if _, err := Parse(c.props); err != nil {
				b.Fatalf("got error %v, want none", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(c.props); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
