// Package reconcile makes an ECR repository and the SSM parameter that holds
// its URI match a request, and removes them again, for any front door.
//
// Ensure creates what is missing, adopts what exists, and then writes only the
// settings that differ from the request; a caller that must not take over
// what another owner created or adopted says so with
// EnsureInput.RespectOwners. Delete removes only what its owner created and
// releases what it adopted. Ownership is recorded as tags: the repository
// gets OwnerTag, set in the same call that creates it, and ManagedByTag when
// a caller that does not respect owners adopts it; the parameter gets
// OwnerTag and RepositoryTag.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/registry"
	"github.com/ecr-stack/ecr-stack/internal/request"
)

// Ownership tags. A repository carries OwnerTag when Ensure created it, and
// ManagedByTag, naming the adopter, when an Ensure without RespectOwners
// adopted it from another owner or from nobody; Delete removes ManagedByTag
// again when it releases the repository. A parameter carries OwnerTag and
// RepositoryTag when Ensure wrote it. Requests can neither set nor remove
// these tags.
const (
	OwnerTag      = request.ReservedTagPrefix + "owner"
	RepositoryTag = request.ReservedTagPrefix + "repository"
	ManagedByTag  = request.ReservedTagPrefix + "managed-by"
)

// maxTagValue is the longest tag value ECR and SSM accept, in characters.
const maxTagValue = 256

// The conditions a door tells its caller about. Errors returned by Core match
// them with errors.Is; their messages say what was found and what was left
// unchanged, and a refused request's message names the request property at
// fault first, as in "UriParameterName: names a parameter that ...".
var (
	// ErrImmutableSetting: the request asks to change a setting that ECR
	// cannot change on an existing repository (its encryption).
	ErrImmutableSetting = errors.New("cannot change in place")
	// ErrParameterTaken: the parameter belongs to another repository or
	// owner.
	ErrParameterTaken = errors.New("names a parameter that belongs to another repository" +
		" or owner")
	// ErrOwnedByOther: the repository was created or adopted by another
	// owner and EnsureInput.RespectOwners is set.
	ErrOwnedByOther = errors.New("names a repository that belongs to another owner")
	// ErrNotEmpty: the repository holds images and EmptyOnDelete is false.
	ErrNotEmpty = errors.New("repository is not empty")
)

// refusal is a request Ensure refuses. Its message names the request
// property at fault and the condition, then says why; errors.Is matches the
// condition.
type refusal struct {
	field  string // the request property, such as "UriParameterName"
	cond   error  // ErrImmutableSetting, ErrParameterTaken or ErrOwnedByOther
	detail string
}

// Error returns the field, the condition and the detail.
func (r *refusal) Error() string { return r.field + ": " + r.cond.Error() + ": " + r.detail }

// Unwrap returns the condition.
func (r *refusal) Unwrap() error { return r.cond }

// Core ensures and deletes repositories and their URI parameters. It is safe
// for concurrent use.
type Core struct {
	reg *registry.Registry
	par *params.Store
	log *slog.Logger
}

// New returns a Core that works through reg and par and logs to log (nothing
// is logged when log is nil).
func New(reg *registry.Registry, par *params.Store, log *slog.Logger) *Core {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Core{reg: reg, par: par, log: log}
}

// EnsureInput is one ensure request.
type EnsureInput struct {
	// Want is the repository as requested.
	Want request.Repository
	// Previous is what this owner asked for last time, or nil. Settings and
	// tags it names that Want no longer names are undone: policies are
	// deleted, scan on push and tag mutability return to the create
	// defaults, tags are removed.
	Previous *request.Repository
	// Owner is recorded on what Ensure creates, for example a stack id and a
	// logical id, or "self-service". It is a tag value: 1 to 256 characters.
	Owner string
	// ParameterName is the SSM parameter that receives the URI, already
	// validated.
	ParameterName string
	// RespectOwners makes Ensure refuse, before any write, a repository
	// whose OwnerTag or ManagedByTag names another owner, with
	// ErrOwnedByOther and a message that names that owner. Without it such a
	// repository is adopted like any other, which lets a stack take over a
	// repository that self-service created, and the adoption is recorded as
	// ManagedByTag so that callers that respect owners leave it alone from
	// then on. A repository without either tag is adopted either way.
	RespectOwners bool
}

// Result is what Ensure did and found. Ensure returns it with its error too,
// holding what was learned and done before the failure: Repository and
// ParameterName always, CreatedNow and the changes written so far.
type Result struct {
	Repository, ARN, URI, RegistryID, ParameterName string
	// Created reports that Owner created the repository, in this call or an
	// earlier one; false means it was adopted.
	Created bool
	// CreatedNow reports that this call created the repository. It is set
	// as soon as the create succeeds and stays set when a later step fails,
	// so that a caller whose request failed knows it left behind a
	// repository of its own, new and without images, which Delete with the
	// same Owner removes. A repository created by a concurrent call does not
	// count.
	CreatedNow bool
	// Changes lists what was written, in order, as short phrases such as
	// "created repository" or "scan on push: false -> true". It is empty, not
	// nil, when everything already matched.
	Changes []string
}

// Ensure makes the repository and its URI parameter match in.
//
// It reads the repository, the settings the request manages and the
// parameter's value in parallel. A missing repository is created in one call
// that carries every setting and the ownership tag; one that a concurrent
// call creates first is treated as existing. Then each setting that differs
// is written, and the URI is written to the parameter when it differs. An
// already converged repository costs the repository's description and tags,
// one read per managed setting and one parameter read, issued at once, and
// no write.
//
// The parameter's tags are read only when they can change the decision:
// before a repository is created, when the parameter exists, and when the
// parameter holds a value other than the URI (its ownership decides whether
// it may be overwritten). A parameter that already holds the URI is left as
// it is, tagged or not: it points where it should, and ownership matters
// only to overwrites and deletes; Delete never deletes an untagged parameter.
//
// Before any write, Ensure refuses with ErrOwnedByOther a repository another
// owner created or adopted when in.RespectOwners is set, with
// ErrImmutableSetting a request that would change the encryption of an
// existing repository, and with ErrParameterTaken a parameter that holds
// another value and belongs to another repository or owner, or to nobody.
// Before it creates a repository it refuses with ErrParameterTaken a
// parameter that exists and is not tagged for that repository: it cannot
// hold the URI of a repository that does not exist yet. One tagged for the
// repository by another owner can still be refused after the create, when it
// holds another value; the result then has CreatedNow set.
//
// Without in.RespectOwners, the adoption of a repository that Owner did not
// create is recorded last, once everything else succeeded, by setting
// ManagedByTag to Owner when it names anyone else or nobody: a failed request
// leaves no claim behind for a rollback to clear, and a repository whose tag
// names Owner already costs no write.
func (c *Core) Ensure(ctx context.Context, in EnsureInput) (Result, error) {
	name := in.Want.Name
	res := Result{Repository: name, ParameterName: in.ParameterName}
	if n := utf8.RuneCountInString(in.Owner); n == 0 || n > maxTagValue {
		return res, fmt.Errorf("ensuring ECR repository %q: owner must be 1 to %d characters"+
			" long, the size of a tag value, and is %d", name, maxTagValue, n)
	}
	if in.ParameterName == "" {
		return res, fmt.Errorf("ensuring ECR repository %q: parameter name is empty", name)
	}
	e := &ensure{
		in:      in,
		log:     c.log.With("repository", name, "parameter", in.ParameterName),
		reg:     c.reg,
		par:     c.par,
		changes: []string{},
	}
	err := e.run(ctx, &res)
	res.Changes = e.changes
	if err != nil {
		return res, err
	}
	e.log.InfoContext(ctx, "ensured repository", "created", res.CreatedNow,
		"owned", res.Created, "changes", res.Changes)
	return res, nil
}

// run carries out the ensure, filling in res as it learns about the
// repository.
func (e *ensure) run(ctx context.Context, res *Result) error {
	st, ps, err := e.read(ctx)
	if err != nil {
		return err
	}
	created := false
	if st.repo == nil {
		if err := e.checkParameterBeforeCreate(ctx, &ps); err != nil {
			return err
		}
		if st, created, err = e.create(ctx); err != nil {
			return err
		}
		res.CreatedNow = created
	} else {
		e.log.InfoContext(ctx, "found repository", "owned", owns(st.tags, e.in.Owner),
			"managed_by", st.tags[ManagedByTag])
	}
	res.ARN, res.URI, res.RegistryID = st.repo.ARN, st.repo.URI, st.repo.RegistryID
	res.Created = owns(st.tags, e.in.Owner)
	if !created {
		if err := e.checkOwner(st.tags); err != nil {
			return err
		}
		if err := e.checkEncryption(ctx, st.repo); err != nil {
			return err
		}
	}

	pp, err := e.planParameter(ctx, &ps, st.repo.URI)
	if err != nil {
		return err
	}
	if err := e.converge(ctx, st); err != nil {
		return err
	}
	if err := e.writeParameter(ctx, pp, st.repo.URI); err != nil {
		return err
	}
	return e.recordAdoption(ctx, st)
}

// ensure holds the state of one Ensure call.
type ensure struct {
	in  EnsureInput
	log *slog.Logger
	// reg is the Core's registry, or its Settling form once the repository
	// is known to have been created a moment ago.
	reg     *registry.Registry
	par     *params.Store
	changes []string
}

// repoState is what Ensure knows about the repository.
type repoState struct {
	repo              *registry.Repository // nil: there is none
	tags              map[string]string
	lifecycle, policy string // "" when there is none
}

// paramState is what Ensure knows about the parameter.
type paramState struct {
	param *params.Parameter // nil: there is none
	tags  map[string]string // nil: not read
}

// change records one write as a Changes entry and a log line.
func (e *ensure) change(ctx context.Context, msg, change string) {
	e.changes = append(e.changes, change)
	e.log.InfoContext(ctx, msg, "change", change)
}

// read reads the repository with the settings the request manages and the
// parameter's value, all at once.
func (e *ensure) read(ctx context.Context) (repoState, paramState, error) {
	var (
		st repoState
		ps paramState
	)
	g, gctx := errgroup.WithContext(ctx)
	e.goReadRepository(gctx, g, e.reg, &st)
	g.Go(func() error {
		var err error
		ps, err = e.readParameter(gctx)
		return err
	})
	err := g.Wait()
	return st, ps, err
}

// goReadRepository starts the reads of the repository, its tags and the
// policies the request manages on g. The policy reads do not wait for the
// describe: when the repository turns out to be missing their answers are
// dropped.
func (e *ensure) goReadRepository(ctx context.Context, g *errgroup.Group,
	reg *registry.Registry, st *repoState) {
	name := e.in.Want.Name
	g.Go(func() error {
		repo, err := reg.FindRepositoryByName(ctx, name)
		if errors.Is(err, registry.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		tags, err := reg.Tags(ctx, repo.ARN)
		if err != nil {
			return err
		}
		st.repo, st.tags = repo, tags
		return nil
	})
	if e.managesLifecycle() {
		g.Go(func() error {
			text, err := reg.LifecyclePolicy(ctx, name)
			if errors.Is(err, registry.ErrNotFound) {
				return nil
			}
			st.lifecycle = text
			return err
		})
	}
	if e.managesPolicy() {
		g.Go(func() error {
			text, err := reg.RepositoryPolicy(ctx, name)
			if errors.Is(err, registry.ErrNotFound) {
				return nil
			}
			st.policy = text
			return err
		})
	}
}

// readParameter reads the parameter's value; its tags are left unread.
func (e *ensure) readParameter(ctx context.Context) (paramState, error) {
	p, err := e.par.Get(ctx, e.in.ParameterName)
	if errors.Is(err, params.ErrNotFound) {
		return paramState{}, nil
	}
	if err != nil {
		return paramState{}, err
	}
	return paramState{param: p}, nil
}

// readParameterTags reads the tags of the parameter ps holds, unless they
// have been read. A parameter deleted since its value was read is missing
// afterwards: ps.param becomes nil.
func (e *ensure) readParameterTags(ctx context.Context, ps *paramState) error {
	if ps.param == nil || ps.tags != nil {
		return nil
	}
	tags, err := e.par.Tags(ctx, e.in.ParameterName)
	if errors.Is(err, params.ErrNotFound) {
		e.log.InfoContext(ctx, "parameter deleted meanwhile")
		*ps = paramState{}
		return nil
	}
	if err != nil {
		return err
	}
	ps.tags = tags
	return nil
}

// create creates the repository with every setting the request names and
// reports true, or, when a concurrent call created it first, reads it as it
// is and reports false.
func (e *ensure) create(ctx context.Context) (repoState, bool, error) {
	want := e.in.Want
	tags := map[string]string{OwnerTag: e.in.Owner}
	for _, t := range want.Tags {
		if !reserved(t.Key) {
			tags[t.Key] = t.Value
		}
	}
	enc := want.EffectiveEncryption()
	in := registry.CreateInput{
		Name:                 want.Name,
		ScanOnPush:           want.EffectiveScanOnPush(),
		TagMutability:        want.EffectiveTagMutability(),
		MutabilityExclusions: expandFilters(want.MutabilityExclusions),
		EncryptionType:       enc.Type,
		KMSKey:               enc.KMSKey,
		Tags:                 tags,
	}

	// Whoever created it, the repository is new: ECR may not show it to
	// every call for a moment.
	e.reg = e.reg.Settling()
	repo, err := e.reg.CreateRepository(ctx, in)
	if errors.Is(err, registry.ErrAlreadyExists) {
		e.log.InfoContext(ctx, "repository created concurrently")
		var st repoState
		g, gctx := errgroup.WithContext(ctx)
		e.goReadRepository(gctx, g, e.reg, &st)
		if err := g.Wait(); err != nil {
			return st, false, err
		}
		if st.repo == nil {
			return st, false, fmt.Errorf("reading ECR repository %q: %w", want.Name,
				registry.ErrNotFound)
		}
		return st, false, nil
	}
	if err != nil {
		return repoState{}, false, err
	}
	e.change(ctx, "created repository", "created repository")
	return repoState{repo: repo, tags: tags}, true, nil
}

// checkOwner returns ErrOwnedByOther when the request respects owners and
// the repository's OwnerTag or ManagedByTag names another owner.
func (e *ensure) checkOwner(tags map[string]string) error {
	if !e.in.RespectOwners {
		return nil
	}
	if other, tagged := tags[OwnerTag]; tagged && other != e.in.Owner {
		return e.ownedByOther(fmt.Sprintf("its %s tag names %q, which created it and manages"+
			" its settings, so nothing was changed; choose another name, or change the"+
			" repository through its owner", OwnerTag, other))
	}
	if other, tagged := tags[ManagedByTag]; tagged && other != e.in.Owner {
		return e.ownedByOther(fmt.Sprintf("its %s tag names %q, which adopted it and manages"+
			" its settings, so nothing was changed; choose another name, or change the"+
			" repository through the owner that manages it", ManagedByTag, other))
	}
	return nil
}

// ownedByOther returns the ErrOwnedByOther error for the requested
// repository with detail.
func (e *ensure) ownedByOther(detail string) error {
	return fmt.Errorf("ensuring ECR repository %q: %w", e.in.Want.Name, &refusal{
		field:  "RepositoryName",
		cond:   ErrOwnedByOther,
		detail: detail,
	})
}

// recordAdoption sets ManagedByTag to the owner on a repository that an
// ensure without RespectOwners adopted, unless the owner created it or the
// tag names the owner already. A caller that respects owners never claims a
// repository: it only works on what nobody else manages.
func (e *ensure) recordAdoption(ctx context.Context, st repoState) error {
	if e.in.RespectOwners || owns(st.tags, e.in.Owner) {
		return nil
	}
	old, tagged := st.tags[ManagedByTag]
	if tagged && old == e.in.Owner {
		return nil
	}
	err := e.reg.Tag(ctx, st.repo.ARN, map[string]string{ManagedByTag: e.in.Owner})
	if err != nil {
		return err
	}
	if tagged {
		e.change(ctx, "recorded adoption",
			fmt.Sprintf("tag %s: %s -> %s", ManagedByTag, old, e.in.Owner))
	} else {
		e.change(ctx, "recorded adoption", fmt.Sprintf("tag %s: added", ManagedByTag))
	}
	return nil
}

// owns reports whether tags record owner as the owner. An empty owner owns
// nothing, so an untagged resource is never taken for one's own.
func owns(tags map[string]string, owner string) bool {
	return owner != "" && tags[OwnerTag] == owner
}

// manages reports whether tags record owner as the adopter that manages the
// repository. An empty owner manages nothing.
func manages(tags map[string]string, owner string) bool {
	return owner != "" && tags[ManagedByTag] == owner
}
