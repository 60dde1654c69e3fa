package request

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// quote returns s as a JSON string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// withLifecycle returns properties holding the lifecycle policy rules (JSON
// text of the rules array) as an object.
func withLifecycle(rules string) string {
	return `{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":{"rules":` +
		rules + `}}}`
}

// withPolicy returns properties holding the repository policy document (JSON
// text of an object).
func withPolicy(policy string) string {
	return `{"RepositoryName":"app","RepositoryPolicyText":` + policy + `}`
}

// withTags returns properties holding the tags (JSON text of a list).
func withTags(tags string) string {
	return `{"RepositoryName":"app","Tags":` + tags + `}`
}

// withExclusions returns properties with the mutability and filters.
func withExclusions(mutability, filters string) string {
	return `{"RepositoryName":"app","ImageTagMutability":"` + mutability +
		`","ImageTagMutabilityExclusionFilters":` + filters + `}`
}

// wildcard returns an exclusion filter object for value.
func wildcard(value string) string {
	return `{"ImageTagMutabilityExclusionFilterType":"WILDCARD",` +
		`"ImageTagMutabilityExclusionFilterValue":` + quote(value) + `}`
}

// rule returns a lifecycle rule with the priority and selection members.
func rule(priority, selection string) string {
	return `{"rulePriority":` + priority + `,"selection":{` + selection +
		`},"action":{"type":"expire"}}`
}

const (
	lp       = "LifecyclePolicy.LifecyclePolicyText"
	ex0      = "ImageTagMutabilityExclusionFilters[0]"
	untagged = `"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1`
)

// parseErrorCase is a request that Parse rejects, with the exact messages.
type parseErrorCase struct {
	name  string
	props string
	want  []string
}

// parseErrorCases returns a rejected request for every rule Parse enforces.
// FuzzParse starts from them too.
func parseErrorCases() []parseErrorCase {
	manyTags := make([]string, MaxTags+1)
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf(`{"Key":"k%d","Value":"v"}`, i)
	}
	bigRules := make([]string, 100)
	for i := range bigRules {
		bigRules[i] = `{"rulePriority":` + fmt.Sprint(i+1) + `,"description":"` +
			strings.Repeat("d", 300) + `","selection":{` + untagged + `},"action":{"type":` +
			`"expire"}}`
	}
	bigStatements := make([]string, 60)
	for i := range bigStatements {
		bigStatements[i] = `{"Sid":"S` + fmt.Sprint(i) + `","Effect":"Allow",` +
			`"Principal":{"AWS":"arn:aws:iam::123456789012:role/` + strings.Repeat("r", 120) +
			`"},"Action":"ecr:BatchGetImage"}`
	}

	return []parseErrorCase{
		// The request as a whole.
		{"empty", `{}`, []string{"RepositoryName: is required"}},
		{"unknown property", `{"RepositoryName":"app","Foo":"1"}`,
			[]string{"Foo: is not a known property"}},
		{"unknown property in another case",
			`{"repositoryName":"app"}`,
			[]string{"RepositoryName: is required",
				`repositoryName: is not a known property; did you mean "RepositoryName"?`}},
		{"unknown property with an empty name", `{"RepositoryName":"app","":"x"}`,
			[]string{`"": is not a known property`}},
		{"unknown property with a dot", `{"RepositoryName":"app","Tags.Key":"x"}`,
			[]string{`"Tags.Key": is not a known property`}},
		{"unknown property with a long name",
			`{"RepositoryName":"app","` + strings.Repeat("k", 100) + `":"x"}`,
			[]string{`"` + strings.Repeat("k", 61) + `...": is not a known property`}},
		{"several problems in field order",
			`{"Zed":1,"UriParameterName":"x","EmptyOnDelete":"no","RepositoryName":"A"}`,
			[]string{
				"RepositoryName: must be 2 to 256 characters long",
				"EmptyOnDelete: must be true or false",
				`UriParameterName: must start with "/"`,
				"Zed: is not a known property",
			}},

		// RepositoryName.
		{"name not a string", `{"RepositoryName":12}`,
			[]string{"RepositoryName: must be a string"}},
		{"name empty", `{"RepositoryName":""}`, []string{"RepositoryName: is required"}},
		{"name too long", `{"RepositoryName":"` + strings.Repeat("a", 257) + `"}`,
			[]string{"RepositoryName: must be 2 to 256 characters long"}},
		{"name with capitals", `{"RepositoryName":"Team/App"}`, []string{nameRule}},
		{"name with a double separator", `{"RepositoryName":"team__app"}`, []string{nameRule}},
		{"name with an empty namespace", `{"RepositoryName":"team//app"}`, []string{nameRule}},
		{"name ending in a separator", `{"RepositoryName":"team/app-"}`, []string{nameRule}},
		{"name starting with a slash", `{"RepositoryName":"/team/app"}`, []string{nameRule}},

		// ImageScanningConfiguration.
		{"scanning not an object", `{"RepositoryName":"app","ImageScanningConfiguration":"true"}`,
			[]string{"ImageScanningConfiguration: must be an object"}},
		{"scan on push yes", `{"RepositoryName":"app",` +
			`"ImageScanningConfiguration":{"ScanOnPush":"yes"}}`,
			[]string{"ImageScanningConfiguration.ScanOnPush: must be true or false"}},
		{"scan on push number", `{"RepositoryName":"app",` +
			`"ImageScanningConfiguration":{"ScanOnPush":1}}`,
			[]string{"ImageScanningConfiguration.ScanOnPush: must be true or false"}},
		{"scan on push mixed case", `{"RepositoryName":"app",` +
			`"ImageScanningConfiguration":{"ScanOnPush":"tRue"}}`,
			[]string{"ImageScanningConfiguration.ScanOnPush: must be true or false"}},
		{"scanning unknown property",
			`{"RepositoryName":"app","ImageScanningConfiguration":{"scanOnPush":"true"}}`,
			[]string{`ImageScanningConfiguration.scanOnPush: is not a known property; did you ` +
				`mean "ScanOnPush"?`}},

		// ImageTagMutability and its exclusion filters.
		{"mutability lower case", `{"RepositoryName":"app","ImageTagMutability":"mutable"}`,
			[]string{mutabilityRule}},
		{"mutability not a string", `{"RepositoryName":"app","ImageTagMutability":true}`,
			[]string{"ImageTagMutability: must be a string"}},
		{"exclusions missing", `{"RepositoryName":"app",` +
			`"ImageTagMutability":"MUTABLE_WITH_EXCLUSION"}`,
			[]string{"ImageTagMutabilityExclusionFilters: is required when ImageTagMutability is " +
				"MUTABLE_WITH_EXCLUSION"}},
		{"exclusions with a plain setting", withExclusions("IMMUTABLE", `[`+wildcard("v*")+`]`),
			[]string{exclusionsNotAllowed}},
		{"exclusions without a setting",
			`{"RepositoryName":"app","ImageTagMutabilityExclusionFilters":[` +
				wildcard("v*") + `]}`,
			[]string{exclusionsNotAllowed}},
		{"exclusions not a list", withExclusions("IMMUTABLE_WITH_EXCLUSION", wildcard("v*")),
			[]string{"ImageTagMutabilityExclusionFilters: must be a list"}},
		{"exclusions empty", withExclusions("IMMUTABLE_WITH_EXCLUSION", `[]`),
			[]string{"ImageTagMutabilityExclusionFilters: must have 1 to 5 filters"}},
		{"six exclusions", withExclusions("IMMUTABLE_WITH_EXCLUSION", `[`+
			wildcard("a")+`,`+wildcard("b")+`,`+wildcard("c")+`,`+
			wildcard("d")+`,`+wildcard("e")+`,`+wildcard("f")+`]`),
			[]string{"ImageTagMutabilityExclusionFilters: must have 1 to 5 filters"}},
		{"exclusion not an object", withExclusions("IMMUTABLE_WITH_EXCLUSION", `["v*"]`),
			[]string{"ImageTagMutabilityExclusionFilters[0]: must be an object"}},
		{"exclusion type regex", withExclusions("IMMUTABLE_WITH_EXCLUSION",
			`[{"ImageTagMutabilityExclusionFilterType":"REGEX",`+
				`"ImageTagMutabilityExclusionFilterValue":"v.*"}]`),
			[]string{ex0 + ".ImageTagMutabilityExclusionFilterType: must be one of WILDCARD"}},
		{"exclusion fields missing", withExclusions("IMMUTABLE_WITH_EXCLUSION", `[{}]`),
			[]string{
				ex0 + ".ImageTagMutabilityExclusionFilterType: is required",
				ex0 + ".ImageTagMutabilityExclusionFilterValue: is required",
			}},
		{"exclusion value with a slash",
			withExclusions("IMMUTABLE_WITH_EXCLUSION", `[`+wildcard("dev/*")+`]`),
			[]string{ex0 + ".ImageTagMutabilityExclusionFilterValue: must be letters, digits" +
				" and the characters . _ - *"}},
		{"exclusion value too long", withExclusions("IMMUTABLE_WITH_EXCLUSION",
			`[`+wildcard(strings.Repeat("v", 129))+`]`),
			[]string{ex0 + ".ImageTagMutabilityExclusionFilterValue: must be 1 to 128" +
				" characters long"}},
		{"exclusion value empty", withExclusions("IMMUTABLE_WITH_EXCLUSION", `[`+wildcard("")+`]`),
			[]string{ex0 + ".ImageTagMutabilityExclusionFilterValue: must be 1 to 128" +
				" characters long"}},
		{"exclusion repeated",
			withExclusions("IMMUTABLE_WITH_EXCLUSION", `[`+wildcard("v*")+`,`+wildcard("v*")+`]`),
			[]string{"ImageTagMutabilityExclusionFilters[1]." +
				"ImageTagMutabilityExclusionFilterValue: must be unique; " + ex0 +
				" has the same value"}},
		{"exclusion unknown property", withExclusions("IMMUTABLE_WITH_EXCLUSION",
			`[{"ImageTagMutabilityExclusionFilterType":"WILDCARD",`+
				`"ImageTagMutabilityExclusionFilterValue":"v*","Filter":"x"}]`),
			[]string{ex0 + ".Filter: is not a known property"}},

		// EncryptionConfiguration.
		{"encryption not an object", `{"RepositoryName":"app","EncryptionConfiguration":"AES256"}`,
			[]string{"EncryptionConfiguration: must be an object"}},
		{"encryption type missing", `{"RepositoryName":"app",` +
			`"EncryptionConfiguration":{"KmsKey":"alias/k"}}`,
			[]string{"EncryptionConfiguration.EncryptionType: is required"}},
		{"encryption type lower case", `{"RepositoryName":"app",` +
			`"EncryptionConfiguration":{"EncryptionType":"aes256"}}`,
			[]string{"EncryptionConfiguration.EncryptionType: must be one of AES256, KMS," +
				" KMS_DSSE"}},
		{"key with AES256", `{"RepositoryName":"app",` +
			`"EncryptionConfiguration":{"EncryptionType":"AES256","KmsKey":"alias/k"}}`,
			[]string{"EncryptionConfiguration.KmsKey: is allowed only when EncryptionType is" +
				" KMS or KMS_DSSE"}},
		{"key too long", `{"RepositoryName":"app",` +
			`"EncryptionConfiguration":{"EncryptionType":"KMS","KmsKey":"` +
			strings.Repeat("k", 2049) + `"}}`,
			[]string{"EncryptionConfiguration.KmsKey: must be at most 2048 characters long"}},
		{"key not a string", `{"RepositoryName":"app",` +
			`"EncryptionConfiguration":{"EncryptionType":"KMS","KmsKey":{"Ref":"Key"}}}`,
			[]string{"EncryptionConfiguration.KmsKey: must be a string"}},
		{"encryption unknown property",
			`{"RepositoryName":"app","EncryptionConfiguration":{"EncryptionType":"KMS",` +
				`"KmsKeyId":"k"}}`,
			[]string{"EncryptionConfiguration.KmsKeyId: is not a known property"}},

		// LifecyclePolicy and its text.
		{"lifecycle not an object", `{"RepositoryName":"app","LifecyclePolicy":"{}"}`,
			[]string{"LifecyclePolicy: must be an object"}},
		{"lifecycle registry id", `{"RepositoryName":"app",` +
			`"LifecyclePolicy":{"RegistryId":"12345"}}`,
			[]string{"LifecyclePolicy.RegistryId: must be a 12-digit account id"}},
		{"lifecycle unknown property", `{"RepositoryName":"app","LifecyclePolicy":{"Text":"{}"}}`,
			[]string{"LifecyclePolicy.Text: is not a known property"}},
		{"lifecycle text not JSON",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":"rules"}}`,
			[]string{lp + ": must be a JSON object: invalid character 'r' looking for beginning " +
				"of value (at character 1)"}},
		{"lifecycle text cut short",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":"{\"rules\":["}}`,
			[]string{lp + ": must be a JSON object: the text ends too early"}},
		{"lifecycle text empty",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":""}}`,
			[]string{lp + ": must be a JSON object: the text is empty"}},
		{"lifecycle text with more after it",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":"{} {}"}}`,
			[]string{lp + ": must be a JSON object: there is more text after the JSON value"}},
		{"lifecycle text a list",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":"[]"}}`,
			[]string{lp + ": must be a JSON object"}},
		{"lifecycle text a number",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":5}}`,
			[]string{lp + ": must be a JSON object or a string holding one"}},
		{"rules missing", `{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":{}}}`,
			[]string{lp + ".rules: is required"}},
		{"rules empty", withLifecycle(`[]`), []string{lp + ".rules: must have at least one rule"}},
		{"rules not a list", withLifecycle(`{}`), []string{lp + ".rules: must be a list"}},
		{"policy unknown property",
			`{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":{"rules":[` +
				rule("1", untagged) + `],"version":"1"}}}`,
			[]string{lp + ".version: is not a known property"}},
		{"rule not an object", withLifecycle(`["expire"]`),
			[]string{lp + ".rules[0]: must be an object"}},
		{"rule members missing", withLifecycle(`[{}]`),
			[]string{
				lp + ".rules[0].rulePriority: is required",
				lp + ".rules[0].selection: is required",
				lp + ".rules[0].action: is required",
			}},
		{"rule unknown property", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{"type":"expire"},"Priority":1}]`),
			[]string{lp + `.rules[0].Priority: is not a known property`}},
		{"priority zero", withLifecycle(`[` + rule(`"0"`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
		{"priority negative", withLifecycle(`[` + rule(`-1`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
		{"priority fraction", withLifecycle(`[` + rule(`1.5`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
		{"priority string fraction", withLifecycle(`[` + rule(`"1.0"`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
		{"priority too large", withLifecycle(`[` + rule(`2147483648`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
		{"priority a word", withLifecycle(`[` + rule(`"first"`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
		{"priority repeated",
			withLifecycle(`[` + rule(`1`, untagged) + `,` + rule(`"1"`, untagged) + `]`),
			[]string{lp + ".rules[1].rulePriority: must be unique; " + lp + ".rules[0] has the " +
				"same priority"}},
		{"any not last", withLifecycle(`[` +
			rule(`1`, `"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1`) + `,` +
			rule(`2`, untagged) + `]`),
			[]string{lp + ".rules[0].rulePriority: must be the highest in the policy when " +
				"selection.tagStatus is any"}},
		{"description not a string", withLifecycle(`[{"rulePriority":1,"description":5,` +
			`"selection":{` +
			untagged + `},"action":{"type":"expire"}}]`),
			[]string{lp + ".rules[0].description: must be a string"}},
		{"selection not an object", withLifecycle(`[{"rulePriority":1,"selection":"untagged",` +
			`"action":{"type":"expire"}}]`),
			[]string{lp + ".rules[0].selection: must be an object"}},
		{"selection members missing", withLifecycle(`[` + rule(`1`, ``) + `]`),
			[]string{
				lp + ".rules[0].selection.tagStatus: is required",
				lp + ".rules[0].selection.countType: is required",
				lp + ".rules[0].selection.countNumber: is required",
			}},
		{"tag status upper case", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"TAGGED","countType":"imageCountMoreThan","countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagStatus: must be one of tagged, untagged, any"}},
		{"tagged without a list", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPatternList: is required when tagStatus is " +
				"tagged, unless tagPrefixList is given"}},
		{"untagged with patterns", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","tagPatternList":["v*"],"countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPatternList: is allowed only when tagStatus is " +
				"tagged"}},
		{"any with prefixes", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"any","tagPrefixList":["v"],"countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPrefixList: is allowed only when tagStatus is " +
				"tagged"}},
		{"patterns and prefixes", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","tagPatternList":["v*"],"tagPrefixList":["v"],`+
				`"countType":"imageCountMoreThan","countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPrefixList: cannot be combined with " +
				"tagPatternList"}},
		{"patterns empty", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","tagPatternList":[],"countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPatternList: must have at least one entry"}},
		{"patterns not a list", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","tagPatternList":"v*","countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPatternList: must be a list"}},
		{"pattern empty", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","tagPatternList":["v*",""],"countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPatternList[1]: must not be empty"}},
		{"pattern with five wildcards", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","tagPatternList":["*a*b*c*d*"],`+
				`"countType":"imageCountMoreThan","countNumber":1`) + `]`),
			[]string{lp + `.rules[0].selection.tagPatternList[0]: must have at most 4 "*"` +
				` wildcards`}},
		{"prefix a number", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"tagged","tagPrefixList":[1],"countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.tagPrefixList[0]: must be a string"}},
		{"storage class unknown", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","storageClass":"glacier","countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.storageClass: must be one of standard, archive"}},
		{"archive with an image count", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","storageClass":"archive","countType":"imageCountMoreThan",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.storageClass: may be archive only when countType " +
				"is sinceImageTransitioned"}},
		{"standard since transition", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","storageClass":"standard",`+
				`"countType":"sinceImageTransitioned","countUnit":"days","countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.storageClass: must be archive when countType is " +
				"sinceImageTransitioned"}},
		{"since transition without storage class", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","countType":"sinceImageTransitioned","countUnit":"days",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.storageClass: is required when countType is " +
				"sinceImageTransitioned"}},
		{"count type unknown", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","countType":"imageCount","countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.countType: must be one of imageCountMoreThan, " +
				"sinceImagePushed, sinceImagePulled, sinceImageTransitioned"}},
		{"unit with an image count", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","countType":"imageCountMoreThan","countUnit":"days",`+
				`"countNumber":1`) + `]`),
			[]string{lp + ".rules[0].selection.countUnit: is allowed only when countType is " +
				"sinceImagePushed, sinceImagePulled or sinceImageTransitioned"}},
		{"unit missing", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":14`) + `]`),
			[]string{lp + ".rules[0].selection.countUnit: is required when countType is " +
				"sinceImagePushed"}},
		{"unit hours", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","countType":"sinceImagePulled","countUnit":"hours",`+
				`"countNumber":14`) + `]`),
			[]string{lp + ".rules[0].selection.countUnit: must be one of days"}},
		{"count zero", withLifecycle(`[` + rule(`1`,
			`"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":"0"`) + `]`),
			[]string{lp + ".rules[0].selection.countNumber: must be a whole number from 1 to " +
				"2147483647"}},
		{"selection unknown property", withLifecycle(`[` + rule(`1`, untagged+`,"tagStatusList":`+
			`["x"]`) + `]`),
			[]string{lp + ".rules[0].selection.tagStatusList: is not a known property"}},
		{"action not an object", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":"expire"}]`),
			[]string{lp + ".rules[0].action: must be an object"}},
		{"action type missing", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{}}]`),
			[]string{lp + ".rules[0].action.type: is required"}},
		{"action delete", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{"type":"delete"}}]`),
			[]string{lp + ".rules[0].action.type: must be one of expire, transition"}},
		{"transition without target", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{"type":"transition"}}]`),
			[]string{lp + ".rules[0].action.targetStorageClass: is required when type is" +
				" transition"}},
		{"expire with target", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{"type":"expire","targetStorageClass":"archive"}}]`),
			[]string{lp + ".rules[0].action.targetStorageClass: is allowed only when type is " +
				"transition"}},
		{"transition to glacier", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{"type":"transition","targetStorageClass":"glacier"}}]`),
			[]string{lp + ".rules[0].action.targetStorageClass: must be one of archive"}},
		{"action unknown property", withLifecycle(`[{"rulePriority":1,"selection":{` + untagged +
			`},"action":{"type":"expire","Type":"expire"}}]`),
			[]string{lp + `.rules[0].action.Type: is not a known property; did you mean "type"?`}},
		{"lifecycle policy too long", withLifecycle(`[` + strings.Join(bigRules, ",") + `]`),
			[]string{lp + ": must be at most 30720 characters as compact JSON (it is 45003)"}},

		// RepositoryPolicyText.
		{"policy not JSON", withPolicy(`"{\"Version\""`),
			[]string{"RepositoryPolicyText: must be a JSON object: the text ends too early"}},
		{"policy a list", withPolicy(`[]`),
			[]string{"RepositoryPolicyText: must be a JSON object or a string holding one"}},
		{"policy members missing", withPolicy(`{}`),
			[]string{"RepositoryPolicyText.Version: is required", "RepositoryPolicyText." +
				"Statement: is required"}},
		{"policy version unknown", withPolicy(`{"Version":"2012-10-18","Statement":[]}`),
			[]string{"RepositoryPolicyText.Version: must be one of 2012-10-17, 2008-10-17",
				"RepositoryPolicyText.Statement: must have at least one statement"}},
		{"policy statement a string", withPolicy(`{"Version":"2012-10-17","Statement":"allow"}`),
			[]string{"RepositoryPolicyText.Statement: must be an object or a list of objects"}},
		{"policy statement list of strings", withPolicy(`{"Version":"2012-10-17",` +
			`"Statement":["allow"]}`),
			[]string{"RepositoryPolicyText.Statement[0]: must be an object"}},
		{"policy statement members missing",
			withPolicy(`{"Version":"2012-10-17","Statement":[{}]}`),
			[]string{
				"RepositoryPolicyText.Statement[0].Effect: is required",
				"RepositoryPolicyText.Statement[0].Principal: is required in a repository policy " +
					"(or NotPrincipal)",
				"RepositoryPolicyText.Statement[0].Action: is required (or NotAction)",
			}},
		{"policy statement wrong values", withPolicy(`{"Version":"2012-10-17","Statement":{"Sid":1,
			"Effect":"allow","Principal":"arn:aws:iam::123456789012:root","Action":[],"Resource":5,
			"Condition":"none","Extra":true}}`),
			[]string{
				"RepositoryPolicyText.Statement.Sid: must be a string",
				"RepositoryPolicyText.Statement.Effect: must be one of Allow, Deny",
				`RepositoryPolicyText.Statement.Principal: must be "*" or an object such as ` +
					`{"AWS": "arn:aws:iam::123456789012:root"}`,
				"RepositoryPolicyText.Statement.Action: must have at least one entry",
				"RepositoryPolicyText.Statement.Resource: must be a string or a list of strings",
				"RepositoryPolicyText.Statement.Condition: must be an object",
				"RepositoryPolicyText.Statement.Extra: is not a known property",
			}},
		{"policy principal and not principal", withPolicy(`{"Version":"2012-10-17","Statement":{
			"Effect":"Allow","Principal":"*","NotPrincipal":"*",
			"Action":"ecr:*","NotAction":"ecr:Put*"}}`),
			[]string{
				"RepositoryPolicyText.Statement.NotPrincipal: cannot be combined with Principal",
				"RepositoryPolicyText.Statement.NotAction: cannot be combined with Action",
			}},
		{"policy principal shapes", withPolicy(`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Principal":{},"Action":"ecr:*"},
			{"Effect":"Allow","Principal":{"AWS":[""],"Services":"x"},"Action":[""]},
			{"Effect":"Allow","NotPrincipal":5,"Action":["ecr:*",3]}]}`),
			[]string{
				"RepositoryPolicyText.Statement[0].Principal: must name at least one principal",
				"RepositoryPolicyText.Statement[1].Principal.AWS[0]: must not be empty",
				`RepositoryPolicyText.Statement[1].Principal.Services: is not a known property; ` +
					`did you mean "Service"?`,
				"RepositoryPolicyText.Statement[1].Action[0]: must not be empty",
				`RepositoryPolicyText.Statement[2].NotPrincipal: must be "*" or an object such ` +
					`as {"AWS": "arn:aws:iam::123456789012:root"}`,
				"RepositoryPolicyText.Statement[2].Action[1]: must be a string",
			}},
		{"policy unknown member", withPolicy(`{"Version":"2012-10-17","Id":7,
			"Statement":{"Effect":"Allow",
			"Principal":"*","Action":""},"Statements":[]}`),
			[]string{
				"RepositoryPolicyText.Id: must be a string",
				"RepositoryPolicyText.Statement.Action: must not be empty",
				`RepositoryPolicyText.Statements: is not a known property; did you mean ` +
					`"Statement"?`,
			}},
		{"policy too long", withPolicy(`{"Version":"2012-10-17","Statement":[` +
			strings.Join(bigStatements, ",") + `]}`),
			[]string{"RepositoryPolicyText: must be at most 10240 characters as compact JSON (it " +
				"is 14068)"}},

		// Tags.
		{"tags not a list", withTags(`{"team":"a"}`), []string{"Tags: must be a list"}},
		{"too many tags", withTags(`[` + strings.Join(manyTags, ",") + `]`),
			[]string{"Tags: must have at most 49 tags (ECR allows 50 and one is kept for the " +
				"ownership tag)"}},
		{"tag not an object", withTags(`["team=a"]`), []string{"Tags[0]: must be an object"}},
		{"tag members missing", withTags(`[{}]`),
			[]string{"Tags[0].Key: is required", "Tags[0].Value: is required (it may be empty)"}},
		{"tag key empty", withTags(`[{"Key":"","Value":"a"}]`),
			[]string{"Tags[0].Key: must be 1 to 128 characters long"}},
		{"tag key too long", withTags(`[{"Key":"` + strings.Repeat("é", 129) + `","Value":"a"}]`),
			[]string{"Tags[0].Key: must be 1 to 128 characters long"}},
		{"tag key reserved by AWS",
			withTags(`[{"Key":"AWS:cloudformation:stack-name","Value":"a"}]`),
			[]string{`Tags[0].Key: must not start with "aws:", which AWS reserves`}},
		{"tag key reserved by the stack", withTags(`[{"Key":"ECR-Stack:owner","Value":"me"}]`),
			[]string{`Tags[0].Key: must not start with "ecr-stack:", which this stack reserves ` +
				`for its own tags`}},
		{"tag key repeated", withTags(`[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"},` +
			`{"Key":"a","Value":"3"}]`),
			[]string{"Tags[2].Key: must be unique; Tags[0] has the same key"}},
		{"tag key a number", withTags(`[{"Key":1,"Value":"a"}]`),
			[]string{"Tags[0].Key: must be a string"}},
		{"tag value too long", withTags(`[{"Key":"a","Value":"` + strings.Repeat("v", 257) + `"}]`),
			[]string{"Tags[0].Value: must be at most 256 characters long"}},
		{"tag value a number", withTags(`[{"Key":"a","Value":0}]`),
			[]string{"Tags[0].Value: must be a string"}},
		{"tag unknown property", withTags(`[{"Key":"a","Value":"b","PropagateAtLaunch":"true"}]`),
			[]string{"Tags[0].PropagateAtLaunch: is not a known property"}},

		// EmptyOnDelete and UriParameterName.
		{"empty on delete yes", `{"RepositoryName":"app","EmptyOnDelete":"yes"}`,
			[]string{"EmptyOnDelete: must be true or false"}},
		{"empty on delete one", `{"RepositoryName":"app","EmptyOnDelete":1}`,
			[]string{"EmptyOnDelete: must be true or false"}},
		{"parameter name a number", `{"RepositoryName":"app","UriParameterName":5}`,
			[]string{"UriParameterName: must be a string"}},
		{"parameter name reserved", `{"RepositoryName":"app","UriParameterName":"/ssm/app"}`,
			[]string{`UriParameterName: must not start with "aws" or "ssm" in any case, which ` +
				`SSM reserves`}},
	}
}

// TestParseErrors asserts the exact message of every rule Parse enforces.
func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorCases() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(decode(t, tt.props))
			if err == nil {
				t.Fatalf("got %s and no error, want %q", show(got), tt.want)
			}
			if msgs := messages(t, err); !reflect.DeepEqual(msgs, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(msgs, "\n  "),
					strings.Join(tt.want, "\n  "))
			}
		})
	}
}

const (
	nameRule = `RepositoryName: must be lower-case letters and digits, separated by single` +
		` ".", "_", "-" or "/" characters (for example "team/app")`
	mutabilityRule = "ImageTagMutability: must be one of MUTABLE, IMMUTABLE," +
		" IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION"
	exclusionsNotAllowed = "ImageTagMutabilityExclusionFilters: is allowed only when" +
		" ImageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION"
)

// TestParseOddValues feeds Parse values a JSON decoder never produces.
func TestParseOddValues(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]any
		want  []string
	}{
		{"nil properties", nil, []string{"RepositoryName: is required"}},
		{"policy holding a function", map[string]any{
			"RepositoryName": "app",
			"RepositoryPolicyText": map[string]any{"Version": "2012-10-17",
				"Statement": map[string]any{"Effect": "Allow", "Principal": "*", "Action": "ecr:*",
					"Condition": map[string]any{"Bool": func() {}}}},
		}, []string{"RepositoryPolicyText: must be a JSON object: unsupported type: func()"}},
		{"policy holding NaN", map[string]any{
			"RepositoryName": "app",
			"RepositoryPolicyText": map[string]any{"Version": "2012-10-17",
				"Statement": map[string]any{"Effect": "Allow", "Principal": "*", "Action": "ecr:*",
					"Condition": map[string]any{
						"NumericLessThan": map[string]any{"n": math.NaN()}}}},
		}, []string{"RepositoryPolicyText: must be a JSON object: unsupported value: NaN"}},
		{"Go integers in a lifecycle policy", map[string]any{
			"RepositoryName": "app",
			"LifecyclePolicy": map[string]any{"LifecyclePolicyText": map[string]any{
				"rules": []any{map[string]any{"rulePriority": 0, "selection": map[string]any{
					"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": int64(1)},
					"action": map[string]any{"type": "expire"}}}}},
		}, []string{lp + ".rules[0].rulePriority: must be a whole number from 1 to 2147483647"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.props)
			if msgs := messages(t, err); !reflect.DeepEqual(msgs, tt.want) {
				t.Errorf("got %q, want %q", msgs, tt.want)
			}
		})
	}
}
