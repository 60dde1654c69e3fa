package reconcile_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestEnsureCreates")
}

// TestEnsureCreates creates a repository with every setting, in one create
// and the writes ECR has no create parameter for.
func TestEnsureCreates(t *testing.T) {
	h := newHarness(t)
	name, param := h.names()
	want := request.Repository{
		Name:          name,
		TagMutability: request.ImmutableWithExclusion,
		MutabilityExclusions: []request.ExclusionFilter{
			{Filter: "latest", FilterType: request.FilterWildcard},
		},
		Encryption:       &request.Encryption{Type: request.EncryptionKMS, KMSKey: "key-1"},
		LifecyclePolicy:  keepFive,
		RepositoryPolicy: pullPolicy,
		Tags:             []request.Tag{{Key: "team", Value: "platform"}},
	}

	res := h.ensure(reconcile.EnsureInput{Want: want, Owner: owner, ParameterName: param})

	wantRes := reconcile.Result{
		Repository:    name,
		ARN:           "arn:aws:ecr:us-east-1:123456789012:repository/" + name,
		URI:           registryURI + name,
		RegistryID:    "123456789012",
		ParameterName: param,
		Created:       true,
		CreatedNow:    true,
		Changes: []string{"created repository", "lifecycle policy: set",
			"repository policy: set", "wrote parameter"},
	}
	if !equalResult(res, wantRes) {
		t.Errorf("got %+v, want %+v", res, wantRes)
	}
	// No parameter, so no tags to read before the create.
	wantReads := []string{"ECR.DescribeRepositories", "ECR.GetLifecyclePolicy",
		"ECR.GetRepositoryPolicy", "SSM.GetParameter"}
	if got := h.reads(); !slices.Equal(got, wantReads) {
		t.Errorf("got reads %v, want %v", got, wantReads)
	}
	wantWrites := []string{"ECR.CreateRepository", "ECR.PutLifecyclePolicy",
		"ECR.SetRepositoryPolicy", "SSM.PutParameter"}
	if got := h.writes(); !slices.Equal(got, wantWrites) {
		t.Errorf("got writes %v, want %v", got, wantWrites)
	}

	repo := h.repository(name)
	if got := repo.ImageScanningConfiguration.ScanOnPush; !got {
		t.Errorf("got scan on push %t, want true", got)
	}
	if got := repo.ImageTagMutability; got != ecrtypes.ImageTagMutabilityImmutableWithExclusion {
		t.Errorf("got mutability %s, want IMMUTABLE_WITH_EXCLUSION", got)
	}
	if f := repo.ImageTagMutabilityExclusionFilters; len(f) != 1 ||
		aws.ToString(f[0].Filter) != "latest" {
		t.Errorf("got exclusion filters %+v, want latest", f)
	}
	if e := repo.EncryptionConfiguration; e.EncryptionType != ecrtypes.EncryptionTypeKms ||
		aws.ToString(e.KmsKey) != "key-1" {
		t.Errorf("got encryption %s %s, want KMS key-1", e.EncryptionType,
			aws.ToString(e.KmsKey))
	}
	wantTags := map[string]string{reconcile.OwnerTag: owner, "team": "platform"}
	if got := h.repositoryTags(name); !maps.Equal(got, wantTags) {
		t.Errorf("got tags %v, want %v", got, wantTags)
	}
	if got := h.lifecyclePolicy(name); !sameJSON(t, got, keepFive) {
		t.Errorf("got lifecycle policy %s, want %s", got, keepFive)
	}
	if got := h.repositoryPolicy(name); !sameJSON(t, got, pullPolicy) {
		t.Errorf("got repository policy %s, want %s", got, pullPolicy)
	}
	p := h.parameter(param)
	if p == nil || p.Value != res.URI || p.Version != 1 ||
		!maps.Equal(p.Tags, ownTags(owner, name)) {
		t.Errorf("got parameter %+v, want %s version 1 tagged for %s", p, res.URI, name)
	}

	for _, rec := range h.logs.lines(t) {
		if rec["repository"] != name || rec["parameter"] != param {
			t.Errorf("got log record %v, want repository %q and parameter %q", rec, name, param)
		}
		if msg, _ := rec["msg"].(string); msg == "" || msg != strings.ToLower(msg) {
			t.Errorf("got log message %q, want a short lower-case one", msg)
		}
	}
}

// TestEnsureDefaults checks the settings of a repository created from a
// request that names none.
func TestEnsureDefaults(t *testing.T) {
	h := newHarness(t)
	name, param := h.names()

	h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name}, Owner: owner,
		ParameterName: param})

	repo := h.repository(name)
	if !repo.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("got scan on push false, want true")
	}
	if got := repo.ImageTagMutability; got != ecrtypes.ImageTagMutabilityMutable {
		t.Errorf("got mutability %s, want MUTABLE", got)
	}
	if got := repo.EncryptionConfiguration.EncryptionType; got != ecrtypes.EncryptionTypeAes256 {
		t.Errorf("got encryption %s, want AES256", got)
	}
	want := map[string]string{reconcile.OwnerTag: owner}
	if got := h.repositoryTags(name); !maps.Equal(got, want) {
		t.Errorf("got tags %v, want %v", got, want)
	}
}

// TestEnsureAdopts converges a repository created outside this stack without
// touching what the request does not name, and records the adoption last.
func TestEnsureAdopts(t *testing.T) {
	h := newHarness(t)
	name, param := h.names()
	h.createRepository(&ecr.CreateRepositoryInput{
		RepositoryName:     aws.String(name),
		ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable,
		Tags:               []ecrtypes.Tag{{Key: aws.String("keep"), Value: aws.String("me")}},
	})
	_, err := h.ecr.PutLifecyclePolicy(context.Background(), &ecr.PutLifecyclePolicyInput{
		RepositoryName: aws.String(name), LifecyclePolicyText: aws.String(keepTen),
	})
	if err != nil {
		t.Fatalf("putting lifecycle policy: %v", err)
	}

	res := h.ensure(reconcile.EnsureInput{
		Want: request.Repository{
			Name: name, TagMutability: request.Mutable,
			Tags: []request.Tag{{Key: "team", Value: "x"}},
		},
		Owner: owner, ParameterName: param,
	})

	if res.Created || res.CreatedNow {
		t.Errorf("got created %t, created now %t, want adopted", res.Created, res.CreatedNow)
	}
	wantChanges := []string{"tag mutability: IMMUTABLE -> MUTABLE", "tag team: added",
		"wrote parameter", "tag ecr-stack:managed-by: added"}
	if !slices.Equal(res.Changes, wantChanges) {
		t.Errorf("got changes %q, want %q", res.Changes, wantChanges)
	}
	wantTags := map[string]string{"keep": "me", "team": "x", reconcile.ManagedByTag: owner}
	if got := h.repositoryTags(name); !maps.Equal(got, wantTags) {
		t.Errorf("got tags %v, want %v (no owner tag on an adopted repository)", got,
			wantTags)
	}
	if got := h.lifecyclePolicy(name); !sameJSON(t, got, keepTen) {
		t.Errorf("got lifecycle policy %s, want the unmanaged %s kept", got, keepTen)
	}
}

// TestEnsureRecordsAdoption checks when an ensure records its adoption in
// the managed-by tag: once, as the last write, only without RespectOwners
// and only on a repository the owner did not create; the same ensure again
// writes nothing, and requested tags never touch the reserved ones.
func TestEnsureRecordsAdoption(t *testing.T) {
	const other = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/2/Repo"
	tests := []struct {
		name        string
		tags        map[string]string // the existing repository's tags; nil: none
		respect     bool
		want        request.Repository
		previous    *request.Repository
		wantChanges []string
		wantWrites  []string
		wantTags    map[string]string
	}{
		{
			name:        "untagged",
			wantChanges: []string{"wrote parameter", "tag ecr-stack:managed-by: added"},
			wantWrites:  []string{"SSM.PutParameter", "ECR.TagResource"},
			wantTags:    map[string]string{reconcile.ManagedByTag: owner},
		},
		{
			name:        "created by self-service",
			tags:        map[string]string{reconcile.OwnerTag: "self-service"},
			wantChanges: []string{"wrote parameter", "tag ecr-stack:managed-by: added"},
			wantWrites:  []string{"SSM.PutParameter", "ECR.TagResource"},
			wantTags: map[string]string{reconcile.OwnerTag: "self-service",
				reconcile.ManagedByTag: owner},
		},
		{
			name: "managed by another owner",
			tags: map[string]string{reconcile.ManagedByTag: other},
			wantChanges: []string{"wrote parameter",
				"tag ecr-stack:managed-by: " + other + " -> " + owner},
			wantWrites: []string{"SSM.PutParameter", "ECR.TagResource"},
			wantTags:   map[string]string{reconcile.ManagedByTag: owner},
		},
		{
			name:        "managed by the owner",
			tags:        map[string]string{reconcile.ManagedByTag: owner},
			wantChanges: []string{"wrote parameter"},
			wantWrites:  []string{"SSM.PutParameter"},
			wantTags:    map[string]string{reconcile.ManagedByTag: owner},
		},
		{
			name:        "created by the owner",
			tags:        map[string]string{reconcile.OwnerTag: owner},
			wantChanges: []string{"wrote parameter"},
			wantWrites:  []string{"SSM.PutParameter"},
			wantTags:    map[string]string{reconcile.OwnerTag: owner},
		},
		{
			name:        "owners respected",
			respect:     true,
			wantChanges: []string{"wrote parameter"},
			wantWrites:  []string{"SSM.PutParameter"},
			wantTags:    map[string]string{},
		},
		{
			name: "requested tags naming the reserved ones",
			tags: map[string]string{reconcile.ManagedByTag: owner, "team": "x"},
			want: request.Repository{Tags: []request.Tag{
				{Key: reconcile.ManagedByTag, Value: "someone"},
				{Key: "ECR-STACK:owner", Value: "someone"},
			}},
			previous: &request.Repository{Tags: []request.Tag{
				{Key: "Ecr-Stack:Managed-By", Value: owner},
				{Key: "team", Value: "x"},
			}},
			wantChanges: []string{"tag team: removed", "wrote parameter"},
			wantWrites:  []string{"ECR.UntagResource", "SSM.PutParameter"},
			wantTags:    map[string]string{reconcile.ManagedByTag: owner},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}
			for k, v := range tt.tags {
				in.Tags = append(in.Tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			h.createRepository(in)
			h.proxy.Reset()
			tt.want.Name = name
			if tt.previous != nil {
				tt.previous.Name = name
			}
			ensure := reconcile.EnsureInput{Want: tt.want, Previous: tt.previous, Owner: owner,
				ParameterName: param, RespectOwners: tt.respect}

			res := h.ensure(ensure)

			if !slices.Equal(res.Changes, tt.wantChanges) {
				t.Errorf("got changes %q, want %q", res.Changes, tt.wantChanges)
			}
			if got := h.writes(); !slices.Equal(got, tt.wantWrites) {
				t.Errorf("got writes %v, want %v", got, tt.wantWrites)
			}
			if got := h.repositoryTags(name); !maps.Equal(got, tt.wantTags) {
				t.Errorf("got tags %v, want %v", got, tt.wantTags)
			}

			h.proxy.Reset()
			again := h.ensure(ensure)

			if len(again.Changes) != 0 {
				t.Errorf("got changes %q ensuring again, want none", again.Changes)
			}
			if got := h.writes(); len(got) != 0 {
				t.Errorf("got writes %v ensuring again, want none", got)
			}
		})
	}
}

// TestEnsureConvergedWritesNothing counts the calls of an ensure that finds
// everything as requested: the repository and its tags, the policies it
// manages, and the parameter's value, whose tags do not matter when it holds
// the URI.
func TestEnsureConvergedWritesNothing(t *testing.T) {
	tests := []struct {
		name      string
		want      request.Repository
		previous  *request.Repository
		wantReads []string
	}{
		{
			name: "name only",
			wantReads: []string{"ECR.DescribeRepositories", "ECR.ListTagsForResource",
				"SSM.GetParameter"},
		},
		{
			name: "every setting",
			want: request.Repository{
				ScanOnPush:    ptr(true),
				TagMutability: request.MutableWithExclusion,
				MutabilityExclusions: []request.ExclusionFilter{
					{Filter: "dev-*", FilterType: request.FilterWildcard},
					{Filter: "latest", FilterType: request.FilterWildcard},
				},
				Encryption:       &request.Encryption{Type: request.EncryptionAES256},
				LifecyclePolicy:  keepFive,
				RepositoryPolicy: pullPolicy,
				Tags:             []request.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: ""}},
			},
			wantReads: []string{"ECR.DescribeRepositories", "ECR.GetLifecyclePolicy",
				"ECR.GetRepositoryPolicy", "ECR.ListTagsForResource", "SSM.GetParameter"},
		},
		{
			name:     "policies named last time",
			previous: &request.Repository{LifecyclePolicy: keepFive, RepositoryPolicy: pullPolicy},
			wantReads: []string{"ECR.DescribeRepositories", "ECR.GetLifecyclePolicy",
				"ECR.GetRepositoryPolicy", "ECR.ListTagsForResource", "SSM.GetParameter"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			tt.want.Name = name
			if tt.previous != nil {
				tt.previous.Name = name
			}
			in := reconcile.EnsureInput{Want: tt.want, Previous: tt.previous, Owner: owner,
				ParameterName: param}
			first := h.ensure(in)
			h.proxy.Reset()

			res := h.ensure(in)

			if len(res.Changes) != 0 {
				t.Errorf("got changes %q, want none", res.Changes)
			}
			if !res.Created || res.CreatedNow || res.URI != first.URI {
				t.Errorf("got %+v, want created earlier, not now, with URI %s", res, first.URI)
			}
			if got := h.writes(); len(got) != 0 {
				t.Errorf("got writes %v, want none", got)
			}
			if got := h.reads(); !slices.Equal(got, tt.wantReads) {
				t.Errorf("got reads %v, want %v", got, tt.wantReads)
			}
		})
	}
}

// TestEnsureConvergesEachSetting changes one request into another and checks
// the writes, the changes reported and the repository afterwards.
func TestEnsureConvergesEachSetting(t *testing.T) {
	type state struct {
		scanOnPush *bool // nil: not checked (moto keeps true when asked for false)
		mutability string
		filters    []string
		lifecycle  string
		policy     string
		tags       map[string]string
	}
	tests := []struct {
		name        string
		before      request.Repository
		external    func(h *harness, name string) // a change made outside this stack
		after       request.Repository
		previous    bool // pass before as Previous
		wantChanges []string
		wantWrites  []string
		want        state
	}{
		{
			name:        "scan on push turned off",
			before:      request.Repository{ScanOnPush: ptr(true)},
			after:       request.Repository{ScanOnPush: ptr(false)},
			wantChanges: []string{"scan on push: true -> false"},
			wantWrites:  []string{"ECR.PutImageScanningConfiguration"},
		},
		{
			name:        "scan on push turned on",
			before:      request.Repository{ScanOnPush: ptr(false)},
			after:       request.Repository{ScanOnPush: ptr(true)},
			wantChanges: []string{"scan on push: false -> true"},
			wantWrites:  []string{"ECR.PutImageScanningConfiguration"},
			want:        state{scanOnPush: ptr(true)},
		},
		{
			name:        "scan on push no longer named",
			before:      request.Repository{ScanOnPush: ptr(false)},
			after:       request.Repository{},
			previous:    true,
			wantChanges: []string{"scan on push: false -> true"},
			wantWrites:  []string{"ECR.PutImageScanningConfiguration"},
			want:        state{scanOnPush: ptr(true)},
		},
		{
			name:        "immutable",
			after:       request.Repository{TagMutability: request.Immutable},
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want:        state{mutability: request.Immutable},
		},
		{
			name: "exclusion filters",
			before: request.Repository{TagMutability: request.ImmutableWithExclusion,
				MutabilityExclusions: wildcards("latest")},
			after: request.Repository{TagMutability: request.ImmutableWithExclusion,
				MutabilityExclusions: wildcards("dev-*", "latest")},
			wantChanges: []string{"tag mutability exclusions: latest -> dev-*, latest"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want: state{mutability: request.ImmutableWithExclusion,
				filters: []string{"dev-*", "latest"}},
		},
		{
			name:        "mutability no longer named",
			before:      request.Repository{TagMutability: request.Immutable},
			after:       request.Repository{},
			previous:    true,
			wantChanges: []string{"tag mutability: IMMUTABLE -> MUTABLE"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want:        state{mutability: request.Mutable},
		},
		{
			name:        "mutability not named, nor last time",
			before:      request.Repository{TagMutability: request.Immutable},
			after:       request.Repository{},
			wantChanges: nil,
			want:        state{mutability: request.Immutable},
		},
		{
			name:        "lifecycle policy changed",
			before:      request.Repository{LifecyclePolicy: keepFive},
			after:       request.Repository{LifecyclePolicy: keepTen},
			wantChanges: []string{"lifecycle policy: updated"},
			wantWrites:  []string{"ECR.PutLifecyclePolicy"},
			want:        state{lifecycle: keepTen},
		},
		{
			name:   "lifecycle policy changed outside",
			before: request.Repository{LifecyclePolicy: keepFive},
			external: func(h *harness, name string) {
				_, err := h.ecr.PutLifecyclePolicy(context.Background(),
					&ecr.PutLifecyclePolicyInput{
						RepositoryName: aws.String(name), LifecyclePolicyText: aws.String(keepTen),
					})
				if err != nil {
					h.t.Fatalf("putting lifecycle policy: %v", err)
				}
			},
			after:       request.Repository{LifecyclePolicy: keepFive},
			wantChanges: []string{"lifecycle policy: updated"},
			wantWrites:  []string{"ECR.PutLifecyclePolicy"},
			want:        state{lifecycle: keepFive},
		},
		{
			name:   "lifecycle policy laid out differently",
			before: request.Repository{LifecyclePolicy: keepFive},
			after:  request.Repository{LifecyclePolicy: keepFiveLaidOut},
			want:   state{lifecycle: keepFive},
		},
		{
			name:        "lifecycle policy no longer named",
			before:      request.Repository{LifecyclePolicy: keepFive},
			after:       request.Repository{},
			previous:    true,
			wantChanges: []string{"lifecycle policy: removed"},
			wantWrites:  []string{"ECR.DeleteLifecyclePolicy"},
			want:        state{lifecycle: "none"},
		},
		{
			name:   "lifecycle policy not named, nor last time",
			before: request.Repository{LifecyclePolicy: keepFive},
			after:  request.Repository{},
			want:   state{lifecycle: keepFive},
		},
		{
			name:        "repository policy changed",
			before:      request.Repository{RepositoryPolicy: pullPolicy},
			after:       request.Repository{RepositoryPolicy: pushPolicy},
			wantChanges: []string{"repository policy: updated"},
			wantWrites:  []string{"ECR.SetRepositoryPolicy"},
			want:        state{policy: pushPolicy},
		},
		{
			name:   "repository policy laid out differently",
			before: request.Repository{RepositoryPolicy: pullPolicy},
			after:  request.Repository{RepositoryPolicy: pullPolicyLaidOut},
			want:   state{policy: pullPolicy},
		},
		{
			name:        "repository policy no longer named",
			before:      request.Repository{RepositoryPolicy: pullPolicy},
			after:       request.Repository{},
			previous:    true,
			wantChanges: []string{"repository policy: removed"},
			wantWrites:  []string{"ECR.DeleteRepositoryPolicy"},
			want:        state{policy: "none"},
		},
		{
			name:   "tags",
			before: request.Repository{Tags: tags("a", "1", "b", "2", "c", "3")},
			external: func(h *harness, name string) {
				_, err := h.ecr.TagResource(context.Background(), &ecr.TagResourceInput{
					ResourceArn: aws.String("arn:aws:ecr:us-east-1:123456789012:repository/" +
						name),
					Tags: []ecrtypes.Tag{{Key: aws.String("keep"), Value: aws.String("me")}},
				})
				if err != nil {
					h.t.Fatalf("tagging: %v", err)
				}
			},
			after:       request.Repository{Tags: tags("a", "1", "b", "20", "d", "4")},
			previous:    true,
			wantChanges: []string{"tag b: 2 -> 20", "tag d: added", "tag c: removed"},
			wantWrites:  []string{"ECR.TagResource", "ECR.UntagResource"},
			want: state{tags: map[string]string{reconcile.OwnerTag: owner, "a": "1",
				"b": "20", "d": "4", "keep": "me"}},
		},
		{
			name:        "tags not named last time are kept",
			before:      request.Repository{Tags: tags("a", "1", "b", "2")},
			after:       request.Repository{Tags: tags("a", "2")},
			wantChanges: []string{"tag a: 1 -> 2"},
			wantWrites:  []string{"ECR.TagResource"},
			want: state{tags: map[string]string{reconcile.OwnerTag: owner, "a": "2",
				"b": "2"}},
		},
		{
			name:        "tags no longer named",
			before:      request.Repository{Tags: tags("a", "1")},
			after:       request.Repository{},
			previous:    true,
			wantChanges: []string{"tag a: removed"},
			wantWrites:  []string{"ECR.UntagResource"},
			want:        state{tags: map[string]string{reconcile.OwnerTag: owner}},
		},
		{
			name:   "several settings",
			before: request.Repository{ScanOnPush: ptr(false), LifecyclePolicy: keepFive},
			after: request.Repository{ScanOnPush: ptr(true), TagMutability: request.Immutable,
				LifecyclePolicy: keepTen, RepositoryPolicy: pullPolicy, Tags: tags("a", "1")},
			wantChanges: []string{"scan on push: false -> true",
				"tag mutability: MUTABLE -> IMMUTABLE", "lifecycle policy: updated",
				"repository policy: set", "tag a: added"},
			wantWrites: []string{"ECR.PutImageScanningConfiguration",
				"ECR.PutImageTagMutability", "ECR.PutLifecyclePolicy", "ECR.SetRepositoryPolicy",
				"ECR.TagResource"},
			want: state{scanOnPush: ptr(true), mutability: request.Immutable,
				lifecycle: keepTen, policy: pullPolicy,
				tags: map[string]string{reconcile.OwnerTag: owner, "a": "1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			tt.before.Name, tt.after.Name = name, name
			h.ensure(reconcile.EnsureInput{Want: tt.before, Owner: owner, ParameterName: param})
			if tt.external != nil {
				tt.external(h, name)
			}
			in := reconcile.EnsureInput{Want: tt.after, Owner: owner, ParameterName: param}
			if tt.previous {
				in.Previous = &tt.before
			}
			h.proxy.Reset()

			res := h.ensure(in)

			if !slices.Equal(res.Changes, tt.wantChanges) {
				t.Errorf("got changes %q, want %q", res.Changes, tt.wantChanges)
			}
			if got := h.writes(); !slices.Equal(got, tt.wantWrites) {
				t.Errorf("got writes %v, want %v", got, tt.wantWrites)
			}
			if len(tt.wantWrites) > 0 && tt.wantWrites[0] == "ECR.PutImageScanningConfiguration" {
				want := tt.after.EffectiveScanOnPush()
				if got, ok := h.scans.last(); !ok || got != want {
					t.Errorf("got scan on push %t sent, want %t", got, want)
				}
			}

			repo := h.repository(name)
			scan := repo.ImageScanningConfiguration.ScanOnPush
			if w := tt.want.scanOnPush; w != nil && scan != *w {
				t.Errorf("got scan on push %t, want %t", scan, *w)
			}
			if w := tt.want.mutability; w != "" && string(repo.ImageTagMutability) != w {
				t.Errorf("got mutability %s, want %s", repo.ImageTagMutability, w)
			}
			if w := tt.want.filters; w != nil {
				var got []string
				for _, f := range repo.ImageTagMutabilityExclusionFilters {
					got = append(got, aws.ToString(f.Filter))
				}
				slices.Sort(got)
				if !slices.Equal(got, w) {
					t.Errorf("got exclusion filters %v, want %v", got, w)
				}
			}
			checkPolicy(t, "lifecycle policy", h.lifecyclePolicy(name), tt.want.lifecycle)
			checkPolicy(t, "repository policy", h.repositoryPolicy(name), tt.want.policy)
			if w := tt.want.tags; w != nil {
				if got := h.repositoryTags(name); !maps.Equal(got, w) {
					t.Errorf("got tags %v, want %v", got, w)
				}
			}
		})
	}
}

// checkPolicy compares a policy with want: "" skips the check, "none" wants
// no policy.
func checkPolicy(t *testing.T, what, got, want string) {
	t.Helper()
	switch {
	case want == "":
	case want == "none":
		if got != "" {
			t.Errorf("got %s %s, want none", what, got)
		}
	case got == "" || !sameJSON(t, got, want):
		t.Errorf("got %s %q, want %s", what, got, want)
	}
}

// wildcards returns WILDCARD exclusion filters for patterns.
func wildcards(patterns ...string) []request.ExclusionFilter {
	var out []request.ExclusionFilter
	for _, p := range patterns {
		out = append(out, request.ExclusionFilter{Filter: p, FilterType: request.FilterWildcard})
	}
	return out
}

// tags returns tags from key, value pairs.
func tags(kv ...string) []request.Tag {
	out := []request.Tag{}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, request.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

// TestEnsureConcurrently runs twenty ensures of one new repository at once.
func TestEnsureConcurrently(t *testing.T) {
	const n = 20
	h := newHarness(t)
	name, param := h.names()
	in := reconcile.EnsureInput{
		Want:  request.Repository{Name: name, LifecyclePolicy: keepFive, Tags: tags("a", "1")},
		Owner: owner, ParameterName: param,
	}

	results := make([]reconcile.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = h.core.Ensure(context.Background(), in)
		})
	}
	wg.Wait()

	created := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Errorf("ensure %d: got %v, want success", i, errs[i])
			continue
		}
		if res.URI != registryURI+name || !res.Created {
			t.Errorf("ensure %d: got %+v, want created %s", i, res, registryURI+name)
		}
		if got := slices.Contains(res.Changes, "created repository"); got != res.CreatedNow {
			t.Errorf("ensure %d: got created now %t and changes %q, want them to agree", i,
				res.CreatedNow, res.Changes)
		}
		if res.CreatedNow {
			created++
		}
	}
	if created != 1 {
		t.Errorf("got %d ensures that created the repository, want 1", created)
	}
	out, err := h.ecr.DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{})
	if err != nil {
		t.Fatalf("describing repositories: %v", err)
	}
	count := 0
	for _, r := range out.Repositories {
		if aws.ToString(r.RepositoryName) == name {
			count++
		}
	}
	if count != 1 {
		t.Errorf("got %d repositories called %s, want 1", count, name)
	}
	p := h.parameter(param)
	if p == nil || p.Value != registryURI+name || p.Version != 1 ||
		!maps.Equal(p.Tags, ownTags(owner, name)) {
		t.Errorf("got parameter %+v, want version 1 of %s tagged for %s", p, registryURI+name,
			name)
	}
}

// TestEnsureCreatedMeanwhile takes the path of a create that finds the
// repository created by a concurrent call.
func TestEnsureCreatedMeanwhile(t *testing.T) {
	h := newHarness(t)
	name, param := h.names()
	in := reconcile.EnsureInput{Want: request.Repository{Name: name}, Owner: owner,
		ParameterName: param}
	h.ensure(in)
	h.proxy.Reset()
	h.proxy.Fail("ECR.DescribeRepositories", 1,
		testsupport.APIError(400, "RepositoryNotFoundException", "not there yet"))

	res := h.ensure(in)

	if !res.Created || res.CreatedNow || len(res.Changes) != 0 {
		t.Errorf("got %+v, want created by this owner earlier and no changes", res)
	}
	if got, want := h.writes(), []string{"ECR.CreateRepository"}; !slices.Equal(got, want) {
		t.Errorf("got writes %v, want %v", got, want)
	}
}

// TestEnsureAbsorbsEventualConsistency has ECR deny a new repository for a
// while after creating it.
func TestEnsureAbsorbsEventualConsistency(t *testing.T) {
	h := newHarness(t)
	name, param := h.names()
	notYet := testsupport.APIError(400, "RepositoryNotFoundException", "not visible yet")
	h.proxy.Fail("ECR.PutLifecyclePolicy", 3, notYet)
	h.proxy.Fail("ECR.SetRepositoryPolicy", 3, notYet)

	h.ensure(reconcile.EnsureInput{
		Want: request.Repository{Name: name, LifecyclePolicy: keepFive,
			RepositoryPolicy: pullPolicy},
		Owner: owner, ParameterName: param,
	})

	for _, op := range []string{"ECR.PutLifecyclePolicy", "ECR.SetRepositoryPolicy"} {
		if got := h.proxy.Count(op); got != 4 {
			t.Errorf("got %d calls of %s, want 4", got, op)
		}
	}
	checkPolicy(t, "lifecycle policy", h.lifecyclePolicy(name), keepFive)
	checkPolicy(t, "repository policy", h.repositoryPolicy(name), pullPolicy)
}

// TestEnsureRefusesEncryptionChange checks that an encryption change is
// refused before any write, and which KMS key references count as the same.
func TestEnsureRefusesEncryptionChange(t *testing.T) {
	const keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
	const keyARN = "arn:aws:kms:us-east-1:123456789012:key/" + keyID
	const (
		typeField = "EncryptionConfiguration.EncryptionType: cannot change in place: "
		keyField  = "EncryptionConfiguration.KmsKey: cannot change in place: "
	)
	tests := []struct {
		name          string
		have, want    *request.Encryption
		wantErr       string // "" when accepted; it follows the repository's name
		wantLogReason bool
	}{
		{
			name: "AES256 to KMS",
			want: &request.Encryption{Type: request.EncryptionKMS},
			wantErr: typeField + "the repository is encrypted with AES256 and the request asks" +
				" for KMS",
		},
		{
			name: "KMS to AES256",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
			want: &request.Encryption{Type: request.EncryptionAES256},
			wantErr: typeField + "the repository is encrypted with KMS and the request asks" +
				" for AES256",
		},
		{
			name: "KMS to KMS_DSSE",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
			want: &request.Encryption{Type: request.EncryptionKMSDSSE, KMSKey: keyID},
			wantErr: typeField + "the repository is encrypted with KMS and the request asks" +
				" for KMS_DSSE",
		},
		{
			name: "another key",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
			want: &request.Encryption{Type: request.EncryptionKMS, KMSKey: "ffffffff-12ab"},
			wantErr: keyField + `the repository uses KMS key "` + keyID + `" and the request` +
				` asks for "ffffffff-12ab"`,
		},
		{
			name: "another key ARN",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyARN},
			want: &request.Encryption{Type: request.EncryptionKMS,
				KMSKey: "arn:aws:kms:us-east-1:210987654321:key/" + keyID},
			wantErr: keyField + `the repository uses KMS key "` + keyARN + `"`,
		},
		{
			name: "key id matches its ARN",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyARN},
			want: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
		},
		{
			name: "key ARN matches its id",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
			want: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyARN},
		},
		{
			name:          "alias accepted",
			have:          &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
			want:          &request.Encryption{Type: request.EncryptionKMS, KMSKey: "alias/team"},
			wantLogReason: true,
		},
		{
			name: "same type, no key named",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
			want: &request.Encryption{Type: request.EncryptionKMS},
		},
		{
			name: "not named",
			have: &request.Encryption{Type: request.EncryptionKMS, KMSKey: keyID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			before := request.Repository{Name: name, Encryption: tt.have}
			h.ensure(reconcile.EnsureInput{Want: before, Owner: owner, ParameterName: param})
			h.proxy.Reset()

			// The request changes more than encryption, so a write would show.
			_, err := h.core.Ensure(context.Background(), reconcile.EnsureInput{
				Want: request.Repository{Name: name, Encryption: tt.want,
					TagMutability: request.Immutable, Tags: tags("a", "1")},
				Previous: &before, Owner: owner, ParameterName: param,
			})

			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				if got := string(h.repository(name).ImageTagMutability); got != request.Immutable {
					t.Errorf("got mutability %s, want IMMUTABLE", got)
				}
				logged := strings.Contains(h.logs.String(), `"msg":"kms key not compared"`)
				if logged != tt.wantLogReason {
					t.Errorf("got kms log line %t, want %t", logged, tt.wantLogReason)
				}
				return
			}
			if !errors.Is(err, reconcile.ErrImmutableSetting) {
				t.Fatalf("got %v, want ErrImmutableSetting", err)
			}
			for _, part := range []string{`updating ECR repository "` + name + `": ` + tt.wantErr,
				"ECR cannot change the encryption of an existing repository",
				"nothing was changed"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("got message %q, want it to contain %q", err, part)
				}
			}
			if got := h.writes(); len(got) != 0 {
				t.Errorf("got writes %v, want none", got)
			}
			if got := string(h.repository(name).ImageTagMutability); got != request.Mutable {
				t.Errorf("got mutability %s, want MUTABLE unchanged", got)
			}
		})
	}
}

// TestEnsureParameter checks each kind of parameter an ensure can find: one
// that holds the URI is left as it is without its tags being read; for any
// other value the tags decide whether it may be overwritten.
func TestEnsureParameter(t *testing.T) {
	const other = "team/other"
	tests := []struct {
		name string
		// value and tags of a parameter there before; value "URI" stands
		// for the repository's URI, tags "OWNER" for this owner.
		value        string
		tags         map[string]string
		wantErr      string // "" when it succeeds
		wantChanges  []string
		wantWrites   []string
		wantTagsRead bool      // the parameter's tags were read
		want         parameter // "URI" and "OWNER" as above, "NAME" the repository
	}{
		{
			name:  "another repository's",
			value: registryURI + other,
			tags:  ownTags("another stack", other),
			wantErr: `writing SSM parameter "PARAM": UriParameterName: names a parameter that` +
				` belongs to another repository or owner: it is tagged for repository` +
				` "team/other"; nothing was written to it`,
			wantTagsRead: true,
			want: parameter{Value: registryURI + other, Version: 1,
				Tags: ownTags("another stack", other)},
		},
		{
			name:  "untagged with another value",
			value: "something else",
			wantErr: `it has no ecr-stack:repository tag and holds "something else";` +
				` nothing was written to it`,
			wantTagsRead: true,
			want:         parameter{Value: "something else", Version: 1, Tags: map[string]string{}},
		},
		{
			name:         "another owner's with another value",
			value:        "stale",
			tags:         ownTags("another stack", "NAME"),
			wantErr:      `it belongs to "another stack" and holds "stale"`,
			wantTagsRead: true,
			want: parameter{Value: "stale", Version: 1,
				Tags: ownTags("another stack", "NAME")},
		},
		{
			name:        "another owner's with this URI",
			value:       "URI",
			tags:        ownTags("another stack", "NAME"),
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want: parameter{Value: "URI", Version: 1,
				Tags: ownTags("another stack", "NAME")},
		},
		{
			name:        "another repository's with this URI",
			value:       "URI",
			tags:        ownTags("another stack", other),
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want: parameter{Value: "URI", Version: 1,
				Tags: ownTags("another stack", other)},
		},
		{
			name:        "untagged with this URI",
			value:       "URI",
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want:        parameter{Value: "URI", Version: 1, Tags: map[string]string{}},
		},
		{
			name:        "own with this URI, lacking a tag",
			value:       "URI",
			tags:        map[string]string{reconcile.OwnerTag: "OWNER"},
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE"},
			wantWrites:  []string{"ECR.PutImageTagMutability"},
			want: parameter{Value: "URI", Version: 1,
				Tags: map[string]string{reconcile.OwnerTag: "OWNER"}},
		},
		{
			name:  "own with a stale value",
			value: "stale",
			tags:  ownTags("OWNER", "NAME"),
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE",
				"updated parameter"},
			wantWrites:   []string{"ECR.PutImageTagMutability", "SSM.PutParameter"},
			wantTagsRead: true,
			want:         parameter{Value: "URI", Version: 2, Tags: ownTags("OWNER", "NAME")},
		},
		{
			name:  "this repository's without owner",
			value: "stale",
			tags:  map[string]string{reconcile.RepositoryTag: "NAME"},
			wantChanges: []string{"tag mutability: MUTABLE -> IMMUTABLE",
				"tagged parameter", "updated parameter"},
			wantWrites: []string{"ECR.PutImageTagMutability", "SSM.AddTagsToResource",
				"SSM.PutParameter"},
			wantTagsRead: true,
			want:         parameter{Value: "URI", Version: 2, Tags: ownTags("OWNER", "NAME")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			uri := registryURI + name
			expand := func(s string) string {
				return strings.NewReplacer("URI", uri, "OWNER", owner, "NAME", name,
					"PARAM", param).Replace(s)
			}
			expandTags := func(in map[string]string) map[string]string {
				out := map[string]string{}
				for k, v := range in {
					out[k] = expand(v)
				}
				return out
			}
			// Adopted earlier, so that only the parameter decides the writes.
			h.createRepository(&ecr.CreateRepositoryInput{
				RepositoryName: aws.String(name),
				Tags: []ecrtypes.Tag{
					{Key: aws.String(reconcile.ManagedByTag), Value: aws.String(owner)},
				},
			})
			h.putParameter(param, expand(tt.value), expandTags(tt.tags))
			h.proxy.Reset()

			res, err := h.core.Ensure(context.Background(), reconcile.EnsureInput{
				Want:  request.Repository{Name: name, TagMutability: request.Immutable},
				Owner: owner, ParameterName: param,
			})

			if tt.wantErr != "" {
				if !errors.Is(err, reconcile.ErrParameterTaken) ||
					!strings.Contains(err.Error(), expand(tt.wantErr)) {
					t.Errorf("got %v, want ErrParameterTaken saying %q", err, expand(tt.wantErr))
				}
			} else if err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if !slices.Equal(res.Changes, tt.wantChanges) {
				t.Errorf("got changes %q, want %q", res.Changes, tt.wantChanges)
			}
			if got := h.writes(); !slices.Equal(got, tt.wantWrites) {
				t.Errorf("got writes %v, want %v", got, tt.wantWrites)
			}
			wantReads := []string{"ECR.DescribeRepositories", "ECR.ListTagsForResource",
				"SSM.GetParameter"}
			if tt.wantTagsRead {
				wantReads = append(wantReads, "SSM.ListTagsForResource")
			}
			if got := h.reads(); !slices.Equal(got, wantReads) {
				t.Errorf("got reads %v, want %v", got, wantReads)
			}
			want := parameter{Value: expand(tt.want.Value), Version: tt.want.Version,
				Tags: expandTags(tt.want.Tags)}
			got := h.parameter(param)
			if got == nil || got.Value != want.Value || got.Version != want.Version ||
				!maps.Equal(got.Tags, want.Tags) {
				t.Errorf("got parameter %+v, want %+v", got, want)
			}
		})
	}
}

// TestEnsureParameterTakenNewRepository checks when a parameter stops the
// ensure of a new repository: before the create when it is not tagged for
// the repository, since it cannot hold the URI of a repository that does not
// exist yet; after it when it is tagged for the repository by another owner
// and holds another value, and the result then says the repository was
// created.
func TestEnsureParameterTakenNewRepository(t *testing.T) {
	// The parameter exists, so its tags are read before the create.
	wantReads := []string{"ECR.DescribeRepositories", "SSM.GetParameter",
		"SSM.ListTagsForResource"}
	const refused = `; repository "{NAME}" was not created and nothing was written to the` +
		` parameter`
	tests := []struct {
		name  string
		value string            // "{URI}" stands for the repository's URI
		tags  map[string]string // "{NAME}" stands for the repository
		// wantErr follows `writing SSM parameter "{PARAM}": UriParameterName:
		// names a parameter that belongs to another repository or owner: `.
		wantErr     string
		wantRepo    bool
		wantWrites  []string
		wantChanges []string
	}{
		{
			name:    "tagged for another repository",
			value:   registryURI + "team/other",
			tags:    ownTags("another stack", "team/other"),
			wantErr: `it is tagged for repository "team/other"` + refused,
		},
		{
			name:  "untagged with another value",
			value: registryURI + "team/other",
			tags:  map[string]string{},
			wantErr: `it has no ecr-stack:repository tag and holds "` + registryURI +
				`team/other", which cannot be the URI of repository "{NAME}" before the` +
				` repository exists` + refused,
		},
		{
			name:  "untagged with the URI to be",
			value: "{URI}",
			tags:  map[string]string{},
			wantErr: `it has no ecr-stack:repository tag and holds "{URI}", which cannot be` +
				` the URI of repository "{NAME}" before the repository exists` + refused,
		},
		{
			name:  "another owner's for this repository, another value",
			value: "stale",
			tags:  ownTags("another stack", "{NAME}"),
			wantErr: `it belongs to "another stack" and holds "stale"; nothing was written to` +
				` it`,
			wantRepo:    true,
			wantWrites:  []string{"ECR.CreateRepository"},
			wantChanges: []string{"created repository"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			expand := strings.NewReplacer("{URI}", registryURI+name, "{NAME}", name,
				"{PARAM}", param).Replace
			value := expand(tt.value)
			tags := map[string]string{}
			for k, v := range tt.tags {
				tags[k] = expand(v)
			}
			h.putParameter(param, value, tags)
			h.proxy.Reset()

			res, err := h.core.Ensure(context.Background(), reconcile.EnsureInput{
				Want: request.Repository{Name: name}, Owner: owner, ParameterName: param,
			})

			wantErr := expand(`writing SSM parameter "{PARAM}": UriParameterName: names a` +
				` parameter that belongs to another repository or owner: ` + tt.wantErr)
			if !errors.Is(err, reconcile.ErrParameterTaken) || err.Error() != wantErr {
				t.Errorf("got %v,\nwant ErrParameterTaken %s", err, wantErr)
			}
			if res.Repository != name || res.CreatedNow != tt.wantRepo {
				t.Errorf("got repository %q created now %t, want %q and %t", res.Repository,
					res.CreatedNow, name, tt.wantRepo)
			}
			if !slices.Equal(res.Changes, tt.wantChanges) {
				t.Errorf("got changes %q, want %q", res.Changes, tt.wantChanges)
			}
			if got := h.writes(); !slices.Equal(got, tt.wantWrites) {
				t.Errorf("got writes %v, want %v", got, tt.wantWrites)
			}
			if got := h.reads(); !slices.Equal(got, wantReads) {
				t.Errorf("got reads %v, want %v", got, wantReads)
			}
			if got := h.repository(name) != nil; got != tt.wantRepo {
				t.Errorf("got repository %t, want %t", got, tt.wantRepo)
			}
			p := h.parameter(param)
			if p == nil || p.Value != value || p.Version != 1 || !maps.Equal(p.Tags, tags) {
				t.Errorf("got parameter %+v, want it untouched", p)
			}
		})
	}
}

// TestEnsureCreatedNowOnFailure has a step after the create fail: the error
// comes with a result that names the repository and says this call created
// it, so that the caller can remove it; failures before the create, and a
// create that a concurrent call made first, do not say so.
func TestEnsureCreatedNowOnFailure(t *testing.T) {
	notFound := testsupport.APIError(400, "RepositoryNotFoundException", "not there yet")
	throttled := map[string]testsupport.Fault{"ECR.PutLifecyclePolicy": testsupport.Throttle("")}
	tests := []struct {
		name        string
		fail        map[string]testsupport.Fault // fails every time
		failOnce    map[string]testsupport.Fault // fails once
		existing    bool                         // the repository exists already
		wantNow     bool
		wantRepo    bool
		wantChanges []string
	}{
		{
			name:        "lifecycle policy throttled",
			fail:        throttled,
			wantNow:     true,
			wantRepo:    true,
			wantChanges: []string{"created repository"},
		},
		{
			name:        "parameter write failing",
			fail:        map[string]testsupport.Fault{"SSM.PutParameter": testsupport.Status(500)},
			wantNow:     true,
			wantRepo:    true,
			wantChanges: []string{"created repository", "lifecycle policy: set"},
		},
		{
			name: "create failing",
			fail: map[string]testsupport.Fault{"ECR.CreateRepository": testsupport.Status(500)},
		},
		{
			name:     "created by a concurrent call",
			fail:     throttled,
			failOnce: map[string]testsupport.Fault{"ECR.DescribeRepositories": notFound},
			existing: true,
			wantRepo: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			if tt.existing {
				h.createRepository(&ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
			}
			for op, f := range tt.fail {
				h.proxy.Fail(op, testsupport.Always, f)
			}
			for op, f := range tt.failOnce {
				h.proxy.Fail(op, 1, f)
			}

			res, err := h.core.Ensure(context.Background(), reconcile.EnsureInput{
				Want:  request.Repository{Name: name, LifecyclePolicy: keepFive},
				Owner: owner, ParameterName: param,
			})

			if err == nil {
				t.Fatalf("got success, want an error")
			}
			if res.Repository != name || res.CreatedNow != tt.wantNow {
				t.Errorf("got repository %q created now %t, want %q and %t", res.Repository,
					res.CreatedNow, name, tt.wantNow)
			}
			if !slices.Equal(res.Changes, tt.wantChanges) {
				t.Errorf("got changes %q, want %q", res.Changes, tt.wantChanges)
			}
			if got := h.repository(name) != nil; got != tt.wantRepo {
				t.Errorf("got repository %t, want %t", got, tt.wantRepo)
			}
		})
	}
}

// TestEnsureRespectsOwners checks that an ensure that respects owners
// refuses, before any write, a repository another owner created or adopted,
// and adopts its own and untagged ones; one that does not respect them adopts
// all.
func TestEnsureRespectsOwners(t *testing.T) {
	const stackOwner = "arn:aws:cloudformation:us-east-1:123456789012:stack/platform/2/Repo"
	const (
		createdByStack = `its ecr-stack:owner tag names "` + stackOwner + `", which created` +
			` it and manages its settings, so nothing was changed`
		managedByStack = `its ecr-stack:managed-by tag names "` + stackOwner + `", which` +
			` adopted it and manages its settings, so nothing was changed`
	)
	tests := []struct {
		name     string
		tags     map[string]string // the existing repository's tags; nil: none
		respect  bool
		meantime bool   // the repository appears between the describe and the create
		wantErr  string // what the refusal says after the condition; "": success
	}{
		{name: "another owner's", tags: map[string]string{reconcile.OwnerTag: stackOwner},
			respect: true, wantErr: createdByStack},
		{name: "another owner's, created meanwhile",
			tags:    map[string]string{reconcile.OwnerTag: stackOwner},
			respect: true, meantime: true, wantErr: createdByStack},
		{name: "another owner's, owners not respected",
			tags: map[string]string{reconcile.OwnerTag: stackOwner}},
		{name: "own", tags: map[string]string{reconcile.OwnerTag: owner}, respect: true},
		{name: "untagged", respect: true},
		{name: "managed by another owner",
			tags:    map[string]string{reconcile.ManagedByTag: stackOwner},
			respect: true, wantErr: managedByStack},
		{name: "own, managed by another owner",
			tags: map[string]string{reconcile.OwnerTag: owner,
				reconcile.ManagedByTag: stackOwner},
			respect: true, wantErr: managedByStack},
		{name: "managed by another owner, created meanwhile",
			tags:    map[string]string{reconcile.ManagedByTag: stackOwner},
			respect: true, meantime: true, wantErr: managedByStack},
		{name: "managed by another owner, owners not respected",
			tags: map[string]string{reconcile.ManagedByTag: stackOwner}},
		{name: "managed by the owner", tags: map[string]string{reconcile.ManagedByTag: owner},
			respect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}
			for k, v := range tt.tags {
				in.Tags = append(in.Tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			h.createRepository(in)
			_, err := h.ecr.PutLifecyclePolicy(context.Background(), &ecr.PutLifecyclePolicyInput{
				RepositoryName: aws.String(name), LifecyclePolicyText: aws.String(keepTen),
			})
			if err != nil {
				t.Fatalf("putting lifecycle policy: %v", err)
			}
			h.proxy.Reset()
			if tt.meantime {
				h.proxy.Fail("ECR.DescribeRepositories", 1,
					testsupport.APIError(400, "RepositoryNotFoundException", "not there yet"))
			}

			res, err := h.core.Ensure(context.Background(), reconcile.EnsureInput{
				Want:  request.Repository{Name: name, LifecyclePolicy: keepFive},
				Owner: owner, ParameterName: param, RespectOwners: tt.respect,
			})

			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				checkPolicy(t, "lifecycle policy", h.lifecyclePolicy(name), keepFive)
				return
			}
			want := `ensuring ECR repository "` + name + `": RepositoryName: names a repository` +
				` that belongs to another owner: ` + tt.wantErr
			if !errors.Is(err, reconcile.ErrOwnedByOther) || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got %v,\nwant ErrOwnedByOther starting %s", err, want)
			}
			// A repository the owner created and another owner adopted is
			// still reported as the owner's.
			wantCreated := tt.tags[reconcile.OwnerTag] == owner
			if res.CreatedNow || res.Created != wantCreated || len(res.Changes) != 0 {
				t.Errorf("got %+v, want nothing created now or changed, created %t", res,
					wantCreated)
			}
			wantWrites := []string(nil)
			if tt.meantime {
				wantWrites = []string{"ECR.CreateRepository"} // answered "already exists"
			}
			if got := h.writes(); !slices.Equal(got, wantWrites) {
				t.Errorf("got writes %v, want %v", got, wantWrites)
			}
			checkPolicy(t, "lifecycle policy", h.lifecyclePolicy(name), keepTen)
			if p := h.parameter(param); p != nil {
				t.Errorf("got parameter %+v, want none", p)
			}
		})
	}
}

// TestEnsureAfterCrash has the parameter write fail after the repository was
// created, then runs the same request again.
func TestEnsureAfterCrash(t *testing.T) {
	h := newHarness(t)
	name, param := h.names()
	in := reconcile.EnsureInput{Want: request.Repository{Name: name, LifecyclePolicy: keepFive},
		Owner: owner, ParameterName: param}
	h.proxy.Fail("SSM.PutParameter", testsupport.MaxAttempts, testsupport.Status(500))

	if _, err := h.core.Ensure(context.Background(), in); err == nil {
		t.Fatalf("got success with the parameter write failing, want an error")
	}
	if h.repository(name) == nil || h.parameter(param) != nil {
		t.Fatalf("got repository %v and parameter %v, want the repository alone",
			h.repository(name) != nil, h.parameter(param))
	}
	h.proxy.Reset()

	res := h.ensure(in)

	if !res.Created || !slices.Equal(res.Changes, []string{"wrote parameter"}) {
		t.Errorf("got %+v, want created and only \"wrote parameter\"", res)
	}
	if p := h.parameter(param); p == nil || p.Value != registryURI+name {
		t.Errorf("got parameter %+v, want %s", p, registryURI+name)
	}
}

// TestEnsureRefusesBadInput checks that an owner that cannot be a tag value,
// or a missing parameter name, is refused before any call.
func TestEnsureRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, owner, param, wantErr string
	}{
		{
			name: "empty owner", owner: "", param: "/test/team/app/uri",
			wantErr: `ensuring ECR repository "team/app": owner must be 1 to 256 characters` +
				` long, the size of a tag value, and is 0`,
		},
		{
			name: "owner longer than a tag value", owner: strings.Repeat("o", 257),
			param: "/test/team/app/uri",
			wantErr: `ensuring ECR repository "team/app": owner must be 1 to 256 characters` +
				` long, the size of a tag value, and is 257`,
		},
		{
			name: "no parameter", owner: owner,
			wantErr: `ensuring ECR repository "team/app": parameter name is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.proxy.Reset()
			_, err := h.core.Ensure(context.Background(), reconcile.EnsureInput{
				Want: request.Repository{Name: "team/app"}, Owner: tt.owner,
				ParameterName: tt.param,
			})
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("got %v, want %s", err, tt.wantErr)
			}
			if got := h.proxy.Calls(); len(got) != 0 {
				t.Errorf("got calls %v, want none", got)
			}
		})
	}
}

// equalResult compares two results field by field.
func equalResult(a, b reconcile.Result) bool {
	return a.Repository == b.Repository && a.ARN == b.ARN && a.URI == b.URI &&
		a.RegistryID == b.RegistryID && a.ParameterName == b.ParameterName &&
		a.Created == b.Created && a.CreatedNow == b.CreatedNow &&
		slices.Equal(a.Changes, b.Changes)
}
