package request

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// show renders r for a failure message, following its pointers.
func show(r Repository) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// checkRepository fails t when got and want differ.
func checkRepository(t *testing.T, got, want Repository) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s\nwant %s", show(got), show(want))
	}
}

const (
	sampleLifecycle = `{"rules":[{"action":{"type":"expire"},` +
		`"description":"expire untagged images after 14 days","rulePriority":1,` +
		`"selection":{"countNumber":14,"countType":"sinceImagePushed","countUnit":"days",` +
		`"tagStatus":"untagged"}}]}`
	samplePolicy = `{"Statement":[{"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer",` +
		`"ecr:BatchCheckLayerAvailability"],"Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::123456789012:role/example-ci-role"},` +
		`"Sid":"AllowPull"}],"Version":"2012-10-17"}`
)

// TestParseSamples parses every request in testdata, CloudFormation's
// string-typed properties and EventBridge's native ones alike.
func TestParseSamples(t *testing.T) {
	sampleRepository := Repository{
		Name:             "example-team/example-app",
		ScanOnPush:       ptr(true),
		TagMutability:    Immutable,
		Encryption:       &Encryption{Type: EncryptionAES256},
		LifecyclePolicy:  sampleLifecycle,
		RepositoryPolicy: samplePolicy,
		Tags:             []Tag{{"cost-center", "0000"}, {"team", "example-team"}},
	}
	oldSampleRepository := sampleRepository
	oldSampleRepository.TagMutability = Mutable
	oldSampleRepository.Tags = nil

	tests := []struct {
		name string
		file string
		pick func(sample) map[string]any
		want Repository
	}{
		{
			name: "create",
			file: "cfn-create.json",
			pick: func(s sample) map[string]any { return s.ResourceProperties },
			want: sampleRepository,
		},
		{
			name: "update",
			file: "cfn-update.json",
			pick: func(s sample) map[string]any { return s.ResourceProperties },
			want: sampleRepository,
		},
		{
			name: "update old properties",
			file: "cfn-update.json",
			pick: func(s sample) map[string]any { return s.OldResourceProperties },
			want: oldSampleRepository,
		},
		{
			name: "delete",
			file: "cfn-delete.json",
			pick: func(s sample) map[string]any { return s.ResourceProperties },
			want: sampleRepository,
		},
		{
			name: "every property as a string",
			file: "cfn-create-every-property.json",
			pick: func(s sample) map[string]any { return s.ResourceProperties },
			want: Repository{
				Name:          "example-team/every.property_app",
				ScanOnPush:    ptr(false),
				TagMutability: ImmutableWithExclusion,
				MutabilityExclusions: []ExclusionFilter{
					{Filter: "dev-*", FilterType: FilterWildcard},
					{Filter: "latest", FilterType: FilterWildcard},
				},
				Encryption: &Encryption{
					Type: EncryptionKMS,
					KMSKey: "arn:aws:kms:us-east-1:123456789012:" +
						"key/11111111-2222-3333-4444-555555555555",
				},
				LifecyclePolicy: `{"rules":[` +
					`{"action":{"type":"expire"},` +
					`"description":"expire untagged images after 14 days","rulePriority":1,` +
					`"selection":{"countNumber":14,"countType":"sinceImagePushed",` +
					`"countUnit":"days","tagStatus":"untagged"}},` +
					`{"action":{"type":"expire"},"description":"keep the last 30 release images",` +
					`"rulePriority":2,"selection":{"countNumber":30,` +
					`"countType":"imageCountMoreThan",` +
					`"tagPatternList":["release-*","v*.*.*"],"tagStatus":"tagged"}},` +
					`{"action":{"targetStorageClass":"archive","type":"transition"},` +
					`"description":"archive images nobody pulled for 90 days","rulePriority":3,` +
					`"selection":{"countNumber":90,"countType":"sinceImagePulled",` +
					`"countUnit":"days",` +
					`"storageClass":"standard","tagStatus":"any"}}]}`,
				RepositoryPolicy: `{"Statement":[{"Action":["ecr:BatchGetImage",` +
					`"ecr:GetDownloadUrlForLayer"],` +
					`"Condition":{"Bool":{"aws:SecureTransport":"true"}},` +
					`"Effect":"Allow",` +
					`"Principal":{"AWS":"arn:aws:iam::123456789012:role/example-ci-role"},` +
					`"Sid":"AllowPull"}],"Version":"2012-10-17"}`,
				Tags: []Tag{
					{"cost-center", "0000"}, {"note", ""}, {"team", "example-team"},
				},
				EmptyOnDelete:    true,
				UriParameterName: "/example/every-property/uri",
			},
		},
		{
			name: "self-service detail",
			file: "eventbridge-request.json",
			pick: func(s sample) map[string]any { return s.Detail },
			want: Repository{
				Name:          "example-team/self-service-app",
				ScanOnPush:    ptr(true),
				TagMutability: Mutable,
				Encryption:    &Encryption{Type: EncryptionAES256},
				LifecyclePolicy: `{"rules":[{"action":{"type":"expire"},"rulePriority":1,` +
					`"selection":{"countNumber":100,"countType":"imageCountMoreThan",` +
					`"tagStatus":"any"}}]}`,
				Tags: []Tag{{"team", "example-team"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := tt.pick(loadSample(t, tt.file))
			if props == nil {
				t.Fatalf("got no properties in %s", tt.file)
			}
			got, err := Parse(props)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkRepository(t, got, tt.want)
		})
	}
}

// parseCase is a request that Parse accepts, with the Repository it gives.
type parseCase struct {
	name  string
	props string
	want  Repository
}

// parseCases returns accepted requests covering the spellings of each
// property. FuzzParse starts from them too.
func parseCases() []parseCase {
	return []parseCase{
		{
			name:  "name only",
			props: `{"RepositoryName":"app"}`,
			want:  Repository{Name: "app"},
		},
		{
			name: "service token ignored",
			props: `{"ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:f",` +
				`"RepositoryName":"app"}`,
			want: Repository{Name: "app"},
		},
		{
			name:  "nested namespaces and separators",
			props: `{"RepositoryName":"a.b/c_d/e-f/g9"}`,
			want:  Repository{Name: "a.b/c_d/e-f/g9"},
		},
		{
			name: "nulls name nothing",
			props: `{"RepositoryName":"app","ImageTagMutability":null,"Tags":null,` +
				`"EmptyOnDelete":null}`,
			want: Repository{Name: "app"},
		},
		{
			name: "native true",
			props: `{"RepositoryName":"app","ImageScanningConfiguration":{"ScanOnPush":true},` +
				`"EmptyOnDelete":true}`,
			want: Repository{Name: "app", ScanOnPush: ptr(true), EmptyOnDelete: true},
		},
		{
			name: "string false",
			props: `{"RepositoryName":"app","ImageScanningConfiguration":{"ScanOnPush":"false"},` +
				`"EmptyOnDelete":"false"}`,
			want: Repository{Name: "app", ScanOnPush: ptr(false)},
		},
		{
			name: "title case booleans",
			props: `{"RepositoryName":"app","ImageScanningConfiguration":{"ScanOnPush":"False"},` +
				`"EmptyOnDelete":"True"}`,
			want: Repository{Name: "app", ScanOnPush: ptr(false), EmptyOnDelete: true},
		},
		{
			name: "upper case booleans",
			props: `{"RepositoryName":"app","ImageScanningConfiguration":{"ScanOnPush":"TRUE"},` +
				`"EmptyOnDelete":"FALSE"}`,
			want: Repository{Name: "app", ScanOnPush: ptr(true)},
		},
		{
			name:  "empty scanning configuration names nothing",
			props: `{"RepositoryName":"app","ImageScanningConfiguration":{}}`,
			want:  Repository{Name: "app"},
		},
		{
			name: "empty exclusion list next to another setting names nothing",
			props: `{"RepositoryName":"app","ImageTagMutability":"IMMUTABLE",` +
				`"ImageTagMutabilityExclusionFilters":[]}`,
			want: Repository{Name: "app", TagMutability: Immutable},
		},
		{
			name: "exclusions sorted",
			props: `{"RepositoryName":"app","ImageTagMutability":"MUTABLE_WITH_EXCLUSION",
				"ImageTagMutabilityExclusionFilters":[
				{"ImageTagMutabilityExclusionFilterType":"WILDCARD",
				 "ImageTagMutabilityExclusionFilterValue":"v*"},
				{"ImageTagMutabilityExclusionFilterType":"WILDCARD",
				 "ImageTagMutabilityExclusionFilterValue":"*.*-rc_1"}]}`,
			want: Repository{Name: "app", TagMutability: MutableWithExclusion,
				MutabilityExclusions: []ExclusionFilter{
					{"*.*-rc_1", FilterWildcard}, {"v*", FilterWildcard},
				}},
		},
		{
			name:  "KMS with the AWS managed key",
			props: `{"RepositoryName":"app","EncryptionConfiguration":{"EncryptionType":"KMS"}}`,
			want:  Repository{Name: "app", Encryption: &Encryption{Type: EncryptionKMS}},
		},
		{
			name: "KMS_DSSE with an alias",
			props: `{"RepositoryName":"app",` +
				`"EncryptionConfiguration":{"EncryptionType":"KMS_DSSE","KmsKey":"alias/ecr"}}`,
			want: Repository{Name: "app",
				Encryption: &Encryption{Type: EncryptionKMSDSSE, KMSKey: "alias/ecr"}},
		},
		{
			name: "empty key names no key",
			props: `{"RepositoryName":"app","EncryptionConfiguration":{"EncryptionType":"AES256",` +
				`"KmsKey":""}}`,
			want: Repository{Name: "app", Encryption: &Encryption{Type: EncryptionAES256}},
		},
		{
			name:  "empty tag list",
			props: `{"RepositoryName":"app","Tags":[]}`,
			want:  Repository{Name: "app", Tags: []Tag{}},
		},
		{
			name: "tags with letters of any script, spaces and symbols",
			props: `{"RepositoryName":"app","Tags":[{"Key":"Équipe","Value":"plate forme"},` +
				`{"Key":"a:b/c=d+e-f@g_h.i","Value":""},{"Key":"#1","Value":"<a, b>"}]}`,
			want: Repository{Name: "app", Tags: []Tag{
				{"#1", "<a, b>"}, {"a:b/c=d+e-f@g_h.i", ""}, {"Équipe", "plate forme"},
			}},
		},
		{
			name:  "empty parameter name means the default",
			props: `{"RepositoryName":"app","UriParameterName":""}`,
			want:  Repository{Name: "app"},
		},
		{
			name:  "parameter name",
			props: `{"RepositoryName":"app","UriParameterName":"/team/app/uri"}`,
			want:  Repository{Name: "app", UriParameterName: "/team/app/uri"},
		},
		{
			name:  "lifecycle policy object without text names nothing",
			props: `{"RepositoryName":"app","LifecyclePolicy":{"RegistryId":"123456789012"}}`,
			want:  Repository{Name: "app"},
		},
		{
			name: "lifecycle policy text with whitespace and native numbers",
			props: `{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":
				"{\n  \"rules\": [ { \"rulePriority\": 10.0, \"selection\": {` +
				` \"tagStatus\": \"tagged\",\n` +
				`  \"tagPrefixList\": [\"v\", \"release\"], \"countType\": ` +
				`\"imageCountMoreThan\", \"countNumber\": 1e1 },` +
				` \"action\": { \"type\": \"expire\" } } ]\n}\n"}}`,
			want: Repository{Name: "app", LifecyclePolicy: `{"rules":[` +
				`{"action":{"type":"expire"},"rulePriority":10,` +
				`"selection":{"countNumber":10,"countType":"imageCountMoreThan",` +
				`"tagPrefixList":["v","release"],"tagStatus":"tagged"}}]}`},
		},
		{
			name: "lifecycle policy object with string numbers",
			props: `{"RepositoryName":"app","LifecyclePolicy":{"LifecyclePolicyText":{"rules":[
				{"rulePriority":"2","selection":{"tagStatus":"any",
				 "countType":"sinceImageTransitioned","storageClass":"archive","countUnit":"days",
				 "countNumber":"+365"},"action":{"type":"expire"}},
				{"rulePriority":"1","description":"a < b & c","selection":{"tagStatus":"untagged",
				 "countType":"imageCountMoreThan","countNumber":"0005"},
				 "action":{"type":"expire"}}]}}}`,
			want: Repository{Name: "app", LifecyclePolicy: `{"rules":[` +
				`{"action":{"type":"expire"},"rulePriority":2,"selection":{"countNumber":365,` +
				`"countType":"sinceImageTransitioned","countUnit":"days",` +
				`"storageClass":"archive",` +
				`"tagStatus":"any"}},` +
				`{"action":{"type":"expire"},"description":"a < b & c","rulePriority":1,` +
				`"selection":{"countNumber":5,"countType":"imageCountMoreThan",` +
				`"tagStatus":"untagged"}}]}`},
		},
		{
			name: "repository policy object with one statement",
			props: `{"RepositoryName":"app","RepositoryPolicyText":{"Version":"2008-10-17",
				"Id":"pull","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["123456789012"]},
				"NotAction":"ecr:*",
				"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600.5}}}}}`,
			want: Repository{Name: "app", RepositoryPolicy: `{"Id":"pull","Statement":{` +
				`"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600.5}},` +
				`"Effect":"Deny",` +
				`"NotAction":"ecr:*","NotPrincipal":{"AWS":["123456789012"]}},` +
				`"Version":"2008-10-17"}`},
		},
	}
}

// TestParse covers the accepted spellings of each property.
func TestParse(t *testing.T) {
	for _, tt := range parseCases() {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(decode(t, tt.props))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			checkRepository(t, got, tt.want)
		})
	}
}

// TestParseNumbersKeptAsText checks properties decoded with UseNumber, as a
// door that keeps numbers exact would pass them.
func TestParseNumbersKeptAsText(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"RepositoryName":"app","LifecyclePolicy":
		{"LifecyclePolicyText":{"rules":[{"rulePriority":3,"selection":{"tagStatus":"any",
		"countType":"imageCountMoreThan","countNumber":7},"action":{"type":"expire"}}]}}}`))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	got, err := Parse(props)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := `{"rules":[{"action":{"type":"expire"},"rulePriority":3,"selection":{"countNumber":7,` +
		`"countType":"imageCountMoreThan","tagStatus":"any"}}]}`
	if got.LifecyclePolicy != want {
		t.Errorf("got %s, want %s", got.LifecyclePolicy, want)
	}
}

// TestParseErrorsAreFieldErrors checks how rejections reach callers.
func TestParseErrorsAreFieldErrors(t *testing.T) {
	t.Run("one problem is a bare FieldError", func(t *testing.T) {
		_, err := Parse(decode(t, `{"RepositoryName":"app","EmptyOnDelete":"maybe"}`))
		fe, ok := err.(*FieldError)
		if !ok {
			t.Fatalf("got %T, want *FieldError", err)
		}
		want := FieldError{Field: "EmptyOnDelete", Rule: "must be true or false"}
		if *fe != want {
			t.Errorf("got %+v, want %+v", *fe, want)
		}
	})
	t.Run("several problems are joined and each is reachable", func(t *testing.T) {
		got, err := Parse(decode(t, `{"RepositoryName":"A","EmptyOnDelete":"maybe"}`))
		if !reflect.DeepEqual(got, Repository{}) {
			t.Errorf("got %s, want the zero Repository", show(got))
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "RepositoryName" {
			t.Errorf("got errors.As field %v, want RepositoryName", fe)
		}
		fields := FieldErrors(err)
		if len(fields) != 2 || fields[0].Field != "RepositoryName" ||
			fields[1].Field != "EmptyOnDelete" {
			t.Errorf("got %v, want RepositoryName then EmptyOnDelete", fields)
		}
		want := "RepositoryName: must be 2 to 256 characters long\n" +
			"EmptyOnDelete: must be true or false"
		if err.Error() != want {
			t.Errorf("got %q, want %q", err.Error(), want)
		}
	})
	t.Run("wrapped errors are found", func(t *testing.T) {
		_, err := Parse(decode(t, `{"RepositoryName":"A","EmptyOnDelete":"maybe"}`))
		wrapped := errors.Join(errors.New("other"), errors.Join(err))
		if got := len(FieldErrors(wrapped)); got != 2 {
			t.Errorf("got %d field errors, want 2", got)
		}
		if got := FieldErrors(nil); got != nil {
			t.Errorf("got %v for nil, want nil", got)
		}
	})
}

// TestEffective checks the create-time defaults.
func TestEffective(t *testing.T) {
	tests := []struct {
		name       string
		repo       Repository
		scan       bool
		mutability string
		encryption Encryption
	}{
		{
			name:       "nothing named",
			repo:       Repository{Name: "app"},
			scan:       true,
			mutability: Mutable,
			encryption: Encryption{Type: EncryptionAES256},
		},
		{
			name: "everything named",
			repo: Repository{Name: "app", ScanOnPush: ptr(false), TagMutability: Immutable,
				Encryption: &Encryption{Type: EncryptionKMS, KMSKey: "alias/k"}},
			scan:       false,
			mutability: Immutable,
			encryption: Encryption{Type: EncryptionKMS, KMSKey: "alias/k"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.repo.EffectiveScanOnPush(); got != tt.scan {
				t.Errorf("got scan on push %t, want %t", got, tt.scan)
			}
			if got := tt.repo.EffectiveTagMutability(); got != tt.mutability {
				t.Errorf("got mutability %q, want %q", got, tt.mutability)
			}
			if got := tt.repo.EffectiveEncryption(); got != tt.encryption {
				t.Errorf("got encryption %+v, want %+v", got, tt.encryption)
			}
		})
	}
}

// TestPropertiesRoundTrip checks that Properties gives back what Parse read,
// through JSON and through CloudFormation's habit of sending strings.
func TestPropertiesRoundTrip(t *testing.T) {
	for _, file := range []string{"cfn-create.json", "cfn-create-every-property.json",
		"eventbridge-request.json"} {
		t.Run(file, func(t *testing.T) {
			s := loadSample(t, file)
			props := s.ResourceProperties
			if props == nil {
				props = s.Detail
			}
			want, err := Parse(props)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			for name, again := range map[string]map[string]any{
				"native":  viaJSON(t, want.Properties()),
				"strings": stringify(viaJSON(t, want.Properties())).(map[string]any),
			} {
				got, err := Parse(again)
				if err != nil {
					t.Fatalf("%s: got error %v, want none", name, err)
				}
				checkRepository(t, got, want)
			}
		})
	}
}

// viaJSON encodes props and decodes them again, as a door would receive them.
func viaJSON(t testing.TB, props map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(props)
	if err != nil {
		t.Fatalf("encoding %v: %v", props, err)
	}
	return decode(t, string(b))
}

// stringify turns every scalar in v into a string, as CloudFormation does
// with a custom resource's properties.
func stringify(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = stringify(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stringify(e)
		}
		return out
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		b, _ := json.Marshal(x)
		return string(b)
	case json.Number:
		return x.String()
	}
	return v
}
