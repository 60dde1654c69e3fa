package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecr-stack/ecr-stack/internal/registry"
	"github.com/ecr-stack/ecr-stack/internal/request"
)

// managesLifecycle reports whether the request, now or last time, names a
// lifecycle policy, so Ensure must read the current one.
func (e *ensure) managesLifecycle() bool {
	return e.in.Want.LifecyclePolicy != "" ||
		e.in.Previous != nil && e.in.Previous.LifecyclePolicy != ""
}

// managesPolicy reports whether the request, now or last time, names a
// repository policy, so Ensure must read the current one.
func (e *ensure) managesPolicy() bool {
	return e.in.Want.RepositoryPolicy != "" ||
		e.in.Previous != nil && e.in.Previous.RepositoryPolicy != ""
}

// checkEncryption returns ErrImmutableSetting when the request names an
// encryption that differs from the existing repository's.
//
// A KMS key given as an ARN must equal the repository's key; one given as a
// key id matches the "key/<id>" end of the repository's key ARN. An alias, or
// a KMS request without a key, cannot be compared without asking KMS, which
// this stack does not call; such a request is accepted with a log line, since
// refusing it would block every update of a template that names its key by
// alias.
func (e *ensure) checkEncryption(ctx context.Context, repo *registry.Repository) error {
	want := e.in.Want.Encryption
	if want == nil {
		return nil
	}
	wantType := want.Type
	if wantType == "" {
		wantType = request.DefaultEncryptionType
	}
	if wantType != repo.EncryptionType {
		return e.immutable("EncryptionConfiguration.EncryptionType",
			fmt.Sprintf("the repository is encrypted with %s and the request asks for %s",
				repo.EncryptionType, wantType))
	}
	if want.KMSKey == "" {
		return nil
	}
	same, known := sameKey(want.KMSKey, repo.KMSKey)
	if !known {
		e.log.InfoContext(ctx, "kms key not compared", "want", want.KMSKey, "have", repo.KMSKey,
			"reason", "an alias resolves only through KMS")
		return nil
	}
	if !same {
		return e.immutable("EncryptionConfiguration.KmsKey",
			fmt.Sprintf("the repository uses KMS key %q and the request asks for %q",
				repo.KMSKey, want.KMSKey))
	}
	return nil
}

// immutable returns the ErrImmutableSetting error for the requested
// repository's field with detail.
func (e *ensure) immutable(field, detail string) error {
	return fmt.Errorf("updating ECR repository %q: %w", e.in.Want.Name, &refusal{
		field: field,
		cond:  ErrImmutableSetting,
		detail: detail + "; ECR cannot change the encryption of an existing repository and" +
			" it is never deleted and recreated to do so, so nothing was changed",
	})
}

// sameKey compares two KMS key references. known is false when either is an
// alias or empty, which only KMS can resolve.
func sameKey(want, have string) (same, known bool) {
	if want == "" || have == "" || isAlias(want) || isAlias(have) {
		return false, false
	}
	if strings.HasPrefix(want, "arn:") && strings.HasPrefix(have, "arn:") {
		return want == have, true
	}
	return keyID(want) == keyID(have), true
}

// isAlias reports whether key names a KMS alias, by name or by ARN.
func isAlias(key string) bool {
	return strings.HasPrefix(key, "alias/") || strings.Contains(key, ":alias/")
}

// keyID returns the key id of a key ARN, and any other reference unchanged.
func keyID(key string) string {
	if _, id, ok := strings.Cut(key, ":key/"); ok {
		return id
	}
	return key
}

// converge writes each setting the request manages that differs from st, one
// call at a time: ECR's control plane allows few calls per second.
func (e *ensure) converge(ctx context.Context, st repoState) error {
	name, repo := e.in.Want.Name, st.repo

	if on, ok := e.wantScanOnPush(); ok && on != repo.ScanOnPush {
		if err := e.reg.PutScanOnPush(ctx, name, on); err != nil {
			return err
		}
		e.change(ctx, "updated scan on push",
			fmt.Sprintf("scan on push: %t -> %t", repo.ScanOnPush, on))
	}

	if mut, filters, ok := e.wantMutability(); ok {
		sameMut := mut == repo.TagMutability
		sameFilters := formatFilters(filters) == formatFilters(repo.MutabilityExclusions)
		if !sameMut || !sameFilters {
			if err := e.reg.PutTagMutability(ctx, name, mut, filters); err != nil {
				return err
			}
			if !sameMut {
				e.change(ctx, "updated tag mutability",
					fmt.Sprintf("tag mutability: %s -> %s", repo.TagMutability, mut))
			}
			if !sameFilters {
				e.change(ctx, "updated tag mutability exclusions",
					fmt.Sprintf("tag mutability exclusions: %s -> %s",
						formatFilters(repo.MutabilityExclusions), formatFilters(filters)))
			}
		}
	}

	err := e.convergePolicy(ctx, "lifecycle policy", st.lifecycle, e.in.Want.LifecyclePolicy,
		e.in.Previous != nil && e.in.Previous.LifecyclePolicy != "",
		e.reg.PutLifecyclePolicy, e.reg.DeleteLifecyclePolicy)
	if err != nil {
		return err
	}
	err = e.convergePolicy(ctx, "repository policy", st.policy, e.in.Want.RepositoryPolicy,
		e.in.Previous != nil && e.in.Previous.RepositoryPolicy != "",
		e.reg.SetRepositoryPolicy, e.reg.DeleteRepositoryPolicy)
	if err != nil {
		return err
	}

	return e.convergeTags(ctx, repo.ARN, st.tags)
}

// wantScanOnPush returns the scan on push setting to converge to, and false
// when the request leaves it alone. A setting named last time and not now
// returns to the create default.
func (e *ensure) wantScanOnPush() (bool, bool) {
	switch {
	case e.in.Want.ScanOnPush != nil:
		return *e.in.Want.ScanOnPush, true
	case e.in.Previous != nil && e.in.Previous.ScanOnPush != nil:
		return request.DefaultScanOnPush, true
	}
	return false, false
}

// wantMutability returns the tag mutability and exclusion filters to
// converge to, and false when the request leaves them alone. A setting named
// last time and not now returns to the create default, without filters.
func (e *ensure) wantMutability() (string, []registry.ExclusionFilter, bool) {
	named := func(r *request.Repository) bool {
		return r != nil && (r.TagMutability != "" || r.MutabilityExclusions != nil)
	}
	switch {
	case named(&e.in.Want):
		return e.in.Want.EffectiveTagMutability(), expandFilters(e.in.Want.MutabilityExclusions),
			true
	case named(e.in.Previous):
		return request.DefaultTagMutability, nil, true
	}
	return "", nil, false
}

// convergePolicy writes want when it differs from have as parsed JSON, or
// deletes have when the request named a policy last time and names none now.
// what names the policy in Changes and logs.
func (e *ensure) convergePolicy(ctx context.Context, what, have, want string, named bool,
	put func(context.Context, string, string) error,
	remove func(context.Context, string) error) error {
	name := e.in.Want.Name
	switch {
	case want != "":
		if request.EqualJSON(have, want) {
			return nil
		}
		if err := put(ctx, name, want); err != nil {
			return err
		}
		verb := "updated"
		if have == "" {
			verb = "set"
		}
		e.change(ctx, "wrote "+what, what+": "+verb)
	case named && have != "":
		if err := remove(ctx, name); err != nil {
			return err
		}
		e.change(ctx, "deleted "+what, what+": removed")
	}
	return nil
}

// convergeTags adds or updates the tags the request names and removes those
// it named last time and names no longer. Tags nobody asked about and the
// reserved ones are never touched.
func (e *ensure) convergeTags(ctx context.Context, arn string, have map[string]string) error {
	set, remove := planTags(have, e.in.Want.Tags, e.in.Previous)
	if len(set) > 0 {
		if err := e.reg.Tag(ctx, arn, set); err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(set)) {
			if old, ok := have[k]; ok {
				e.change(ctx, "updated tag", fmt.Sprintf("tag %s: %s -> %s", k, old, set[k]))
			} else {
				e.change(ctx, "added tag", fmt.Sprintf("tag %s: added", k))
			}
		}
	}
	if len(remove) > 0 {
		if err := e.reg.Untag(ctx, arn, remove); err != nil {
			return err
		}
		for _, k := range remove {
			e.change(ctx, "removed tag", fmt.Sprintf("tag %s: removed", k))
		}
	}
	return nil
}

// planTags returns the tags to set (want's tags whose value differs from
// have) and the keys to remove (previous's tags that want no longer names and
// the repository still has), sorted.
func planTags(have map[string]string, want []request.Tag,
	previous *request.Repository) (map[string]string, []string) {
	set := map[string]string{}
	named := map[string]bool{}
	for _, t := range want {
		if reserved(t.Key) {
			continue
		}
		named[t.Key] = true
		if v, ok := have[t.Key]; !ok || v != t.Value {
			set[t.Key] = t.Value
		}
	}
	var remove []string
	if previous != nil {
		for _, t := range previous.Tags {
			if _, ok := have[t.Key]; ok && !named[t.Key] && !reserved(t.Key) {
				remove = append(remove, t.Key)
			}
		}
	}
	slices.Sort(remove)
	return set, slices.Compact(remove)
}

// reserved reports whether key belongs to this stack's own tags, which
// requests neither set nor remove.
func reserved(key string) bool {
	return len(key) >= len(request.ReservedTagPrefix) &&
		strings.EqualFold(key[:len(request.ReservedTagPrefix)], request.ReservedTagPrefix)
}

// expandFilters turns the request's exclusion filters into the registry's.
func expandFilters(in []request.ExclusionFilter) []registry.ExclusionFilter {
	var out []registry.ExclusionFilter
	for _, f := range in {
		out = append(out, registry.ExclusionFilter{Filter: f.Filter, FilterType: f.FilterType})
	}
	return out
}

// formatFilters renders filters for Changes, in a stable order so that two
// sets compare equal whatever order ECR lists them in.
func formatFilters(filters []registry.ExclusionFilter) string {
	if len(filters) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(filters))
	for _, f := range filters {
		if f.FilterType == "" || f.FilterType == request.FilterWildcard {
			parts = append(parts, f.Filter)
		} else {
			parts = append(parts, f.FilterType+":"+f.Filter)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
