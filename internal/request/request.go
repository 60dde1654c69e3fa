// Package request turns the properties of one repository request into a
// validated Repository.
//
// The properties mirror AWS::ECR::Repository (RepositoryName,
// ImageScanningConfiguration, ImageTagMutability,
// ImageTagMutabilityExclusionFilters, EncryptionConfiguration,
// LifecyclePolicy, RepositoryPolicyText, Tags, EmptyOnDelete) plus
// UriParameterName, which names the SSM parameter that receives the
// repository URI. They arrive either as a CloudFormation custom resource's
// ResourceProperties, where every scalar is a string, or as an EventBridge
// event's detail with native JSON types; Parse accepts both.
//
// Parse does not fill in defaults: a field left at its zero value means the
// request did not name it, so the caller can tell "leave as it is" from "set
// to the default". The Effective methods and the Default constants give the
// values to use when creating a repository.
//
// The package is pure: it calls no AWS service and keeps no state.
package request

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Tag mutability settings, as ECR and AWS::ECR::Repository spell them.
const (
	Mutable                = "MUTABLE"
	Immutable              = "IMMUTABLE"
	ImmutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
	MutableWithExclusion   = "MUTABLE_WITH_EXCLUSION"
)

// Encryption types, as ECR and AWS::ECR::Repository spell them.
const (
	EncryptionAES256  = "AES256"
	EncryptionKMS     = "KMS"
	EncryptionKMSDSSE = "KMS_DSSE"
)

// FilterWildcard is the only type of tag mutability exclusion filter ECR has.
const FilterWildcard = "WILDCARD"

// The settings a repository gets when it is created by a request that does
// not name them. ECR's own default for scan on push is false; this stack
// scans by default.
const (
	DefaultScanOnPush     = true
	DefaultTagMutability  = Mutable
	DefaultEncryptionType = EncryptionAES256
)

// ReservedTagPrefix starts the keys of the tags this stack sets on what it
// creates (for example "ecr-stack:owner"); requests may not use it, so that a
// request can neither forge nor remove an ownership record.
const ReservedTagPrefix = "ecr-stack:"

// Limits that Parse enforces. MaxTags is one below ECR's 50 tags per
// repository, keeping room for the ownership tag set at creation. The policy
// limits are ECR's, counted in characters of the canonical text that is sent.
const (
	MaxTags                   = 49
	MaxExclusionFilters       = 5
	MaxLifecyclePolicyLength  = 30720
	MaxRepositoryPolicyLength = 10240
)

// Repository is one validated repository request. The zero value of an
// optional field means the request did not name it; Parse never fills in a
// default (see the Effective methods).
type Repository struct {
	// Name is the repository name; always set.
	Name string
	// ScanOnPush is nil when not named; a new repository then uses
	// DefaultScanOnPush.
	ScanOnPush *bool
	// TagMutability is "" when not named; a new repository then uses
	// DefaultTagMutability.
	TagMutability string
	// MutabilityExclusions is set exactly when TagMutability is one of the
	// *_WITH_EXCLUSION settings: one to five filters, sorted by Filter.
	MutabilityExclusions []ExclusionFilter
	// Encryption is nil when not named; a new repository then uses
	// DefaultEncryptionType. ECR cannot change it after creation.
	Encryption *Encryption
	// LifecyclePolicy is the policy as canonical JSON (compact, keys sorted,
	// numbers as numbers); "" when not named.
	LifecyclePolicy string
	// RepositoryPolicy is the policy as canonical JSON; "" when not named.
	RepositoryPolicy string
	// Tags is nil when not named, and empty but not nil when the request
	// names an empty list. Sorted by key; keys are unique.
	Tags []Tag
	// EmptyOnDelete allows deleting the repository with its images.
	EmptyOnDelete bool
	// UriParameterName is the SSM parameter for the URI; "" means the
	// default name (see DefaultParameterName).
	UriParameterName string
}

// ExclusionFilter names image tags that are exempt from the repository's tag
// mutability setting. FilterType is always FilterWildcard; Filter is a tag
// pattern in which "*" matches any characters.
type ExclusionFilter struct {
	Filter     string
	FilterType string
}

// Encryption is a repository's encryption at rest. Type is one of
// EncryptionAES256, EncryptionKMS and EncryptionKMSDSSE; KMSKey is a key id,
// key ARN or alias, set only with the KMS types ("" uses the AWS managed key).
type Encryption struct {
	Type   string
	KMSKey string
}

// Tag is one repository tag.
type Tag struct {
	Key   string
	Value string
}

// EffectiveScanOnPush returns the scan on push setting a new repository gets.
func (r Repository) EffectiveScanOnPush() bool {
	if r.ScanOnPush == nil {
		return DefaultScanOnPush
	}
	return *r.ScanOnPush
}

// EffectiveTagMutability returns the tag mutability a new repository gets.
func (r Repository) EffectiveTagMutability() string {
	if r.TagMutability == "" {
		return DefaultTagMutability
	}
	return r.TagMutability
}

// EffectiveEncryption returns the encryption a new repository gets.
func (r Repository) EffectiveEncryption() Encryption {
	if r.Encryption == nil {
		return Encryption{Type: DefaultEncryptionType}
	}
	return *r.Encryption
}

// The property names of a request, in the order Parse checks and reports
// them.
const (
	propServiceToken     = "ServiceToken"
	propName             = "RepositoryName"
	propScanning         = "ImageScanningConfiguration"
	propScanOnPush       = "ScanOnPush"
	propMutability       = "ImageTagMutability"
	propExclusions       = "ImageTagMutabilityExclusionFilters"
	propExclusionType    = "ImageTagMutabilityExclusionFilterType"
	propExclusionValue   = "ImageTagMutabilityExclusionFilterValue"
	propEncryption       = "EncryptionConfiguration"
	propEncryptionType   = "EncryptionType"
	propKMSKey           = "KmsKey"
	propLifecycle        = "LifecyclePolicy"
	propLifecycleText    = "LifecyclePolicyText"
	propRegistryID       = "RegistryId"
	propPolicy           = "RepositoryPolicyText"
	propTags             = "Tags"
	propTagKey           = "Key"
	propTagValue         = "Value"
	propEmptyOnDelete    = "EmptyOnDelete"
	propUriParameterName = "UriParameterName"
)

// ECR's limits on the parts of a request, in characters.
const (
	minRepositoryName  = 2
	maxRepositoryName  = 256
	maxKMSKey          = 2048
	maxExclusionFilter = 128
	maxTagKey          = 128
	maxTagValue        = 256
)

// reservedAWSTagPrefix starts the tag keys AWS keeps for itself, in any case.
const reservedAWSTagPrefix = "aws:"

// exampleRepositoryName illustrates the naming rule in its message.
const exampleRepositoryName = "team/app"

// The patterns ECR checks repository names, exclusion filters and registry
// ids against.
var (
	repositoryNamePattern = regexp.MustCompile(
		`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	exclusionFilterPattern = regexp.MustCompile(`^[0-9a-zA-Z._*-]+$`)
	registryIDPattern      = regexp.MustCompile(`^[0-9]{12}$`)
)

// Parse validates the properties of one repository request and returns the
// Repository they describe.
//
// props is a CloudFormation custom resource's ResourceProperties or an
// EventBridge request's detail, decoded with encoding/json (json.Number
// values are accepted too). Every scalar of the request's own shapes may be a
// string: "true" is true and "14" is 14, at any depth, including inside a
// lifecycle policy given as an object. A repository policy is kept as written,
// since IAM reads "true" and true alike. ServiceToken is ignored; a JSON null
// counts as not named; an unknown property at any depth of the request's own
// shapes is rejected.
//
// LifecyclePolicy.RegistryId is accepted for compatibility with
// AWS::ECR::Repository templates when it is a 12-digit account id, and then
// dropped: the repository always lives in the registry of the account that
// runs the request, which is the registry ECR assumes when none is given.
//
// On failure Parse returns the zero Repository and either a *FieldError or,
// when there are several problems, all of them joined with errors.Join in
// field order (see FieldErrors).
func Parse(props map[string]any) (Repository, error) {
	var p problems
	var r Repository

	r.Name = parseName(&p, props)

	if v, ok := field(props, propScanning); ok {
		r.ScanOnPush = parseScanning(&p, v)
	}

	mutabilityOK := true
	if v, ok := field(props, propMutability); ok {
		r.TagMutability, mutabilityOK = parseMutability(&p, v)
	}

	if mutabilityOK {
		r.MutabilityExclusions = parseExclusions(&p, props, r.TagMutability)
	}

	if v, ok := field(props, propEncryption); ok {
		r.Encryption = parseEncryption(&p, v)
	}

	if v, ok := field(props, propLifecycle); ok {
		r.LifecyclePolicy = parseLifecycle(&p, v)
	}

	if v, ok := field(props, propPolicy); ok {
		r.RepositoryPolicy = parseRepositoryPolicy(&p, propPolicy, v)
	}

	if v, ok := field(props, propTags); ok {
		r.Tags = parseTags(&p, v)
	}

	if v, ok := field(props, propEmptyOnDelete); ok {
		r.EmptyOnDelete, _ = asBool(&p, propEmptyOnDelete, v)
	}

	if v, ok := field(props, propUriParameterName); ok {
		if s, ok := asString(&p, propUriParameterName, v); ok && s != "" {
			if err := ValidateParameterName(s); err != nil {
				p.errs = append(p.errs, err)
			}
			r.UriParameterName = s
		}
	}

	rejectUnknown(&p, "", props, propServiceToken, propName, propScanning, propMutability,
		propExclusions, propEncryption, propLifecycle, propPolicy, propTags,
		propEmptyOnDelete, propUriParameterName)

	if err := p.err(); err != nil {
		return Repository{}, err
	}
	return r, nil
}

// parseName checks RepositoryName against ECR's naming rules.
func parseName(p *problems, props map[string]any) string {
	v, ok := field(props, propName)
	if !ok {
		p.add(propName, "is required")
		return ""
	}
	s, ok := asString(p, propName, v)
	switch {
	case !ok:
	case s == "":
		p.add(propName, "is required")
	case utf8.RuneCountInString(s) < minRepositoryName ||
		utf8.RuneCountInString(s) > maxRepositoryName:
		p.addf(propName, "must be %d to %d characters long", minRepositoryName,
			maxRepositoryName)
	case !repositoryNamePattern.MatchString(s):
		p.addf(propName, "must be lower-case letters and digits, separated by single"+
			` ".", "_", "-" or "/" characters (for example %q)`, exampleRepositoryName)
	default:
		return s
	}
	return ""
}

// parseScanning reads ImageScanningConfiguration; an empty object names
// nothing.
func parseScanning(p *problems, v any) *bool {
	obj, ok := asObject(p, propScanning, v)
	if !ok {
		return nil
	}
	var out *bool
	if v, ok := field(obj, propScanOnPush); ok {
		if b, ok := asBool(p, child(propScanning, propScanOnPush), v); ok {
			out = &b
		}
	}
	rejectUnknown(p, propScanning, obj, propScanOnPush)
	return out
}

// parseMutability reads ImageTagMutability.
func parseMutability(p *problems, v any) (string, bool) {
	s, ok := asString(p, propMutability, v)
	if !ok {
		return "", false
	}
	switch s {
	case Mutable, Immutable, ImmutableWithExclusion, MutableWithExclusion:
		return s, true
	}
	p.add(propMutability, oneOf(Mutable, Immutable, ImmutableWithExclusion,
		MutableWithExclusion))
	return "", false
}

// parseExclusions reads ImageTagMutabilityExclusionFilters, which ECR requires
// with the *_WITH_EXCLUSION settings and refuses with the others. An empty
// list next to another setting names nothing, so a template can compute it.
func parseExclusions(p *problems, props map[string]any, mutability string) []ExclusionFilter {
	withExclusion := mutability == ImmutableWithExclusion || mutability == MutableWithExclusion
	v, named := field(props, propExclusions)
	if !named {
		if withExclusion {
			p.addf(propExclusions, "is required when %s is %s", propMutability, mutability)
		}
		return nil
	}
	list, ok := asList(p, propExclusions, v)
	if !ok {
		return nil
	}
	if !withExclusion {
		if len(list) > 0 {
			p.addf(propExclusions, "is allowed only when %s is %s or %s", propMutability,
				ImmutableWithExclusion, MutableWithExclusion)
		}
		return nil
	}
	if len(list) == 0 || len(list) > MaxExclusionFilters {
		p.addf(propExclusions, "must have 1 to %d filters", MaxExclusionFilters)
		return nil
	}

	before := p.count()
	out := make([]ExclusionFilter, 0, len(list))
	seen := make(map[string]int, len(list))
	for i, item := range list {
		path := index(propExclusions, i)
		obj, ok := asObject(p, path, item)
		if !ok {
			continue
		}
		f := ExclusionFilter{FilterType: FilterWildcard}
		typePath := child(path, propExclusionType)
		if v, ok := field(obj, propExclusionType); !ok {
			p.add(typePath, "is required")
		} else if s, ok := asString(p, typePath, v); ok && s != FilterWildcard {
			p.add(typePath, oneOf(FilterWildcard))
		}
		valuePath := child(path, propExclusionValue)
		if v, ok := field(obj, propExclusionValue); !ok {
			p.add(valuePath, "is required")
		} else if s, ok := asString(p, valuePath, v); ok {
			switch first, dup := seen[s]; {
			case len(s) == 0 || len(s) > maxExclusionFilter:
				p.addf(valuePath, "must be 1 to %d characters long", maxExclusionFilter)
			case !exclusionFilterPattern.MatchString(s):
				p.add(valuePath, `must be letters, digits and the characters . _ - *`)
			case dup:
				p.addf(valuePath, "must be unique; %s has the same value",
					index(propExclusions, first))
			default:
				seen[s] = i
				f.Filter = s
			}
		}
		rejectUnknown(p, path, obj, propExclusionType, propExclusionValue)
		out = append(out, f)
	}
	if p.count() > before {
		return nil
	}
	slices.SortFunc(out, func(a, b ExclusionFilter) int { return cmp.Compare(a.Filter, b.Filter) })
	return out
}

// parseEncryption reads EncryptionConfiguration. An empty KmsKey names no key,
// so a template can compute it.
func parseEncryption(p *problems, v any) *Encryption {
	obj, ok := asObject(p, propEncryption, v)
	if !ok {
		return nil
	}
	before := p.count()
	var out Encryption
	typePath := child(propEncryption, propEncryptionType)
	if v, ok := field(obj, propEncryptionType); !ok {
		p.add(typePath, "is required")
	} else if s, ok := asString(p, typePath, v); ok {
		switch s {
		case EncryptionAES256, EncryptionKMS, EncryptionKMSDSSE:
			out.Type = s
		default:
			p.add(typePath, oneOf(EncryptionAES256, EncryptionKMS, EncryptionKMSDSSE))
		}
	}
	keyPath := child(propEncryption, propKMSKey)
	if v, ok := field(obj, propKMSKey); ok {
		if s, ok := asString(p, keyPath, v); ok && s != "" {
			switch {
			case utf8.RuneCountInString(s) > maxKMSKey:
				p.addf(keyPath, "must be at most %d characters long", maxKMSKey)
			case out.Type == EncryptionAES256:
				p.addf(keyPath, "is allowed only when %s is %s or %s", propEncryptionType,
					EncryptionKMS, EncryptionKMSDSSE)
			default:
				out.KMSKey = s
			}
		}
	}
	rejectUnknown(p, propEncryption, obj, propEncryptionType, propKMSKey)
	if p.count() > before {
		return nil
	}
	return &out
}

// parseLifecycle reads LifecyclePolicy; an object without LifecyclePolicyText
// names no policy, as in AWS::ECR::Repository.
func parseLifecycle(p *problems, v any) string {
	obj, ok := asObject(p, propLifecycle, v)
	if !ok {
		return ""
	}
	var out string
	if v, ok := field(obj, propLifecycleText); ok {
		out = parseLifecyclePolicy(p, child(propLifecycle, propLifecycleText), v)
	}
	idPath := child(propLifecycle, propRegistryID)
	if v, ok := field(obj, propRegistryID); ok {
		if s, ok := asString(p, idPath, v); ok && !registryIDPattern.MatchString(s) {
			p.add(idPath, "must be a 12-digit account id")
		}
	}
	rejectUnknown(p, propLifecycle, obj, propLifecycleText, propRegistryID)
	return out
}

// parseTags reads Tags under ECR's tag rules and this stack's reserved prefix.
// ECR limits only the lengths of keys and values, not their characters, so
// neither does this: a template that works with AWS::ECR::Repository works
// here.
func parseTags(p *problems, v any) []Tag {
	list, ok := asList(p, propTags, v)
	if !ok {
		return nil
	}
	if len(list) > MaxTags {
		p.addf(propTags, "must have at most %d tags (ECR allows 50 and one is kept for"+
			" the ownership tag)", MaxTags)
		return nil
	}

	before := p.count()
	out := make([]Tag, 0, len(list))
	seen := make(map[string]int, len(list))
	for i, item := range list {
		path := index(propTags, i)
		obj, ok := asObject(p, path, item)
		if !ok {
			continue
		}
		var t Tag
		keyPath := child(path, propTagKey)
		if v, ok := field(obj, propTagKey); !ok {
			p.add(keyPath, "is required")
		} else if s, ok := asString(p, keyPath, v); ok {
			first, dup := seen[s]
			switch n := utf8.RuneCountInString(s); {
			case n == 0 || n > maxTagKey:
				p.addf(keyPath, "must be 1 to %d characters long", maxTagKey)
			case hasPrefixFold(s, reservedAWSTagPrefix):
				p.addf(keyPath, "must not start with %q, which AWS reserves", reservedAWSTagPrefix)
			case hasPrefixFold(s, ReservedTagPrefix):
				p.addf(keyPath, "must not start with %q, which this stack reserves for"+
					" its own tags", ReservedTagPrefix)
			case dup:
				p.addf(keyPath, "must be unique; %s has the same key", index(propTags, first))
			default:
				seen[s] = i
				t.Key = s
			}
		}
		valuePath := child(path, propTagValue)
		if v, ok := field(obj, propTagValue); !ok {
			p.add(valuePath, "is required (it may be empty)")
		} else if s, ok := asString(p, valuePath, v); ok {
			switch {
			case utf8.RuneCountInString(s) > maxTagValue:
				p.addf(valuePath, "must be at most %d characters long", maxTagValue)
			default:
				t.Value = s
			}
		}
		rejectUnknown(p, path, obj, propTagKey, propTagValue)
		out = append(out, t)
	}
	if p.count() > before {
		return nil
	}
	slices.SortFunc(out, func(a, b Tag) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// hasPrefixFold reports whether s starts with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Properties returns r as request properties that Parse turns back into r:
// native JSON types, both policies as JSON text, and only the fields r names.
// It suits building requests in tests and examples.
func (r Repository) Properties() map[string]any {
	props := map[string]any{propName: r.Name}
	if r.ScanOnPush != nil {
		props[propScanning] = map[string]any{propScanOnPush: *r.ScanOnPush}
	}
	if r.TagMutability != "" {
		props[propMutability] = r.TagMutability
	}
	if r.MutabilityExclusions != nil {
		filters := make([]any, 0, len(r.MutabilityExclusions))
		for _, f := range r.MutabilityExclusions {
			filters = append(filters, map[string]any{
				propExclusionType:  f.FilterType,
				propExclusionValue: f.Filter,
			})
		}
		props[propExclusions] = filters
	}
	if r.Encryption != nil {
		enc := map[string]any{propEncryptionType: r.Encryption.Type}
		if r.Encryption.KMSKey != "" {
			enc[propKMSKey] = r.Encryption.KMSKey
		}
		props[propEncryption] = enc
	}
	if r.LifecyclePolicy != "" {
		props[propLifecycle] = map[string]any{propLifecycleText: r.LifecyclePolicy}
	}
	if r.RepositoryPolicy != "" {
		props[propPolicy] = r.RepositoryPolicy
	}
	if r.Tags != nil {
		tags := make([]any, 0, len(r.Tags))
		for _, t := range r.Tags {
			tags = append(tags, map[string]any{propTagKey: t.Key, propTagValue: t.Value})
		}
		props[propTags] = tags
	}
	if r.EmptyOnDelete {
		props[propEmptyOnDelete] = true
	}
	if r.UriParameterName != "" {
		props[propUriParameterName] = r.UriParameterName
	}
	return props
}
