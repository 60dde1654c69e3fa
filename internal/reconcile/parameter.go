package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecr-stack/ecr-stack/internal/params"
)

// paramPlan is what Ensure writes to the parameter.
type paramPlan struct {
	create    bool              // the parameter is missing
	overwrite bool              // a new version with the URI
	tags      map[string]string // ownership tags to add
}

// parameterTags returns the ownership tags of the requested parameter.
func (e *ensure) parameterTags() map[string]string {
	return map[string]string{OwnerTag: e.in.Owner, RepositoryTag: e.in.Want.Name}
}

// checkParameterBeforeCreate reads the tags of an existing parameter and
// returns ErrParameterTaken unless they name the requested repository.
// Ensure checks it before creating a repository: a parameter tagged for
// another repository stays taken whatever the URI, and one without the tag
// cannot hold the URI of a repository that does not exist yet. Only an
// exact match of its value with the URI to be could make it one's own, and
// that URI is known only once the repository exists; refusing first keeps a
// request that would fail from leaving a repository behind.
func (e *ensure) checkParameterBeforeCreate(ctx context.Context, ps *paramState) error {
	if err := e.readParameterTags(ctx, ps); err != nil {
		return err
	}
	if ps.param == nil {
		return nil
	}
	name := e.in.Want.Name
	repo, ok := ps.tags[RepositoryTag]
	var why string
	switch {
	case ok && repo == name:
		return nil
	case ok:
		why = fmt.Sprintf("it is tagged for repository %q", repo)
	default:
		why = fmt.Sprintf("it has no %s tag and holds %q, which cannot be the URI of"+
			" repository %q before the repository exists", RepositoryTag, ps.param.Value, name)
	}
	return e.refuseParameter(why + fmt.Sprintf("; repository %q was not created and nothing"+
		" was written to the parameter", name))
}

// planParameter decides what to write to the parameter for uri, or returns
// ErrParameterTaken when it belongs to someone else. A missing parameter is
// created with the ownership tags, and one that holds uri is left as it is,
// without reading its tags. Any other value is replaced only in a parameter
// tagged for this repository or owner, which first gets the ownership tags
// it lacks; a parameter tagged for another repository, tagged for this
// repository by another owner, or untagged is taken.
func (e *ensure) planParameter(ctx context.Context, ps *paramState,
	uri string) (paramPlan, error) {
	if ps.param == nil {
		return paramPlan{create: true}, nil
	}
	if ps.param.Value == uri {
		return paramPlan{}, nil
	}
	if err := e.readParameterTags(ctx, ps); err != nil {
		return paramPlan{}, err
	}
	if ps.param == nil { // deleted since its value was read
		return paramPlan{create: true}, nil
	}
	repo, hasRepo := ps.tags[RepositoryTag]
	owner, hasOwner := ps.tags[OwnerTag]
	value := ps.param.Value
	switch {
	case hasRepo && repo != e.in.Want.Name:
		return paramPlan{}, e.taken(fmt.Sprintf("it is tagged for repository %q", repo))
	case hasOwner && owner != e.in.Owner:
		return paramPlan{}, e.taken(fmt.Sprintf("it belongs to %q and holds %q", owner, value))
	case !hasRepo && !hasOwner:
		return paramPlan{}, e.taken(fmt.Sprintf("it has no %s tag and holds %q",
			RepositoryTag, value))
	}
	pp := paramPlan{overwrite: true}
	for k, v := range e.parameterTags() {
		if _, ok := ps.tags[k]; !ok {
			if pp.tags == nil {
				pp.tags = map[string]string{}
			}
			pp.tags[k] = v
		}
	}
	return pp, nil
}

// taken returns the ErrParameterTaken error for the requested parameter,
// found when the repository exists.
func (e *ensure) taken(why string) error {
	return e.refuseParameter(why + "; nothing was written to it")
}

// refuseParameter returns the ErrParameterTaken error for the requested
// parameter with detail.
func (e *ensure) refuseParameter(detail string) error {
	return fmt.Errorf("writing SSM parameter %q: %w", e.in.ParameterName,
		&refusal{field: "UriParameterName", cond: ErrParameterTaken, detail: detail})
}

// writeParameter carries out pp. A create that finds the parameter written by
// a concurrent call reads it again and plans anew, so concurrent ensures write
// one version.
func (e *ensure) writeParameter(ctx context.Context, pp paramPlan, uri string) error {
	name := e.in.ParameterName
	if pp.create {
		err := e.par.Create(ctx, name, uri, e.parameterTags())
		if err == nil {
			e.change(ctx, "wrote parameter", "wrote parameter")
			return nil
		}
		if !errors.Is(err, params.ErrAlreadyExists) {
			return err
		}
		e.log.InfoContext(ctx, "parameter written concurrently")
		ps, err := e.readParameter(ctx)
		if err != nil {
			return err
		}
		if ps.param == nil {
			return fmt.Errorf("reading SSM parameter %q: %w", name, params.ErrNotFound)
		}
		if pp, err = e.planParameter(ctx, &ps, uri); err != nil {
			return err
		}
	}

	// Ownership is recorded before the value changes, so a crash in between
	// never leaves this repository's URI in a parameter without its tags.
	if len(pp.tags) > 0 {
		if err := e.par.AddTags(ctx, name, pp.tags); err != nil {
			return err
		}
		e.change(ctx, "tagged parameter", "tagged parameter")
	}
	if pp.overwrite {
		if err := e.par.Overwrite(ctx, name, uri); err != nil {
			return err
		}
		e.change(ctx, "wrote parameter", "updated parameter")
	}
	return nil
}
