package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/registry"
)

// DeleteInput is one delete request.
type DeleteInput struct {
	// Repository is the name of the repository to delete.
	Repository string
	// Owner is the owner Ensure recorded; only what it owns is deleted.
	Owner string
	// ParameterName is the URI parameter to delete; "" leaves parameters
	// alone.
	ParameterName string
	// EmptyOnDelete allows deleting a repository that holds images.
	EmptyOnDelete bool
}

// DeleteResult is what Delete did.
type DeleteResult struct {
	// RepositoryDeleted reports that this call deleted the repository.
	RepositoryDeleted bool
	// Released reports that the repository exists and belongs to someone
	// else, so it was kept; a ManagedByTag naming Owner was removed from it.
	Released bool
	// ParameterDeleted reports that this call deleted the parameter.
	ParameterDeleted bool
	// Reason says in a sentence what happened to each, for logs and callers.
	Reason string
}

// Delete deletes the repository when Owner created it, and the parameter when
// Owner wrote it for that repository.
//
// A repository that Owner did not create is released: kept, with its images,
// settings and tags, except a ManagedByTag naming Owner, which is removed so
// that the repository goes back to whoever created it, and callers that
// respect owners may change it again when that is them or nobody. A
// ManagedByTag naming anyone else is left alone. A repository that Owner
// created and that holds images is deleted only with EmptyOnDelete;
// otherwise Delete returns ErrNotEmpty and deletes nothing, the parameter
// included. A repository or parameter that is already gone counts as deleted
// by someone else, not as an error, so Delete is idempotent.
func (c *Core) Delete(ctx context.Context, in DeleteInput) (DeleteResult, error) {
	log := c.log.With("repository", in.Repository, "parameter", in.ParameterName)
	var (
		res     DeleteResult
		reasons []string
	)

	repoDeleted, released, why, err := c.deleteRepository(ctx, log, in)
	if err != nil {
		return res, err
	}
	res.RepositoryDeleted, res.Released = repoDeleted, released
	reasons = append(reasons, why)

	if in.ParameterName != "" {
		deleted, why, err := c.removeParameter(ctx, log, in.ParameterName, in.Owner, in.Repository)
		if err != nil {
			res.Reason = strings.Join(reasons, "; ")
			return res, err
		}
		res.ParameterDeleted = deleted
		reasons = append(reasons, why)
	}
	res.Reason = strings.Join(reasons, "; ")
	return res, nil
}

// deleteRepository deletes the repository of in when in.Owner owns it and
// says why it did or did not.
func (c *Core) deleteRepository(ctx context.Context, log *slog.Logger,
	in DeleteInput) (deleted, released bool, why string, err error) {
	const gone = "the repository was already deleted"
	name := in.Repository

	repo, err := c.reg.FindRepositoryByName(ctx, name)
	if errors.Is(err, registry.ErrNotFound) {
		log.InfoContext(ctx, "repository already deleted")
		return false, false, gone, nil
	}
	if err != nil {
		return false, false, "", err
	}
	tags, err := c.reg.Tags(ctx, repo.ARN)
	if errors.Is(err, registry.ErrNotFound) {
		log.InfoContext(ctx, "repository already deleted")
		return false, false, gone, nil
	}
	if err != nil {
		return false, false, "", err
	}
	if !owns(tags, in.Owner) {
		if manages(tags, in.Owner) {
			err := c.reg.Untag(ctx, repo.ARN, []string{ManagedByTag})
			if errors.Is(err, registry.ErrNotFound) {
				log.InfoContext(ctx, "repository already deleted")
				return false, false, gone, nil
			}
			if err != nil {
				return false, false, "", err
			}
		}
		log.InfoContext(ctx, "released repository", "owner", tags[OwnerTag],
			"managed_by", tags[ManagedByTag])
		return false, true, "the repository was not created by this owner, so it was" +
			" released and kept", nil
	}

	err = c.reg.DeleteRepository(ctx, name, in.EmptyOnDelete)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		log.InfoContext(ctx, "repository already deleted")
		return false, false, gone, nil
	case errors.Is(err, registry.ErrNotEmpty):
		return false, false, "", fmt.Errorf("deleting ECR repository %q: %w: %s and"+
			" EmptyOnDelete is false, so nothing was deleted", name, ErrNotEmpty,
			c.holds(ctx, log, name))
	case err != nil:
		return false, false, "", err
	}
	log.InfoContext(ctx, "deleted repository", "force", in.EmptyOnDelete)
	return true, false, "deleted the repository", nil
}

// holds says how many images the repository holds, as far as one call can
// tell.
func (c *Core) holds(ctx context.Context, log *slog.Logger, name string) string {
	n, more, err := c.reg.ImageCount(ctx, name)
	switch {
	case err != nil:
		log.WarnContext(ctx, "images not counted", "error", err.Error())
		return "it holds images"
	case more:
		return fmt.Sprintf("it holds more than %d images", n)
	case n == 1:
		return "it holds 1 image"
	}
	return fmt.Sprintf("it holds %d images", n)
}

// RemoveParameter deletes the parameter called name when owner wrote it, and
// reports whether it did. A parameter that is gone or belongs to someone else
// is not an error.
func (c *Core) RemoveParameter(ctx context.Context, name, owner string) (bool, error) {
	deleted, _, err := c.removeParameter(ctx, c.log.With("parameter", name), name, owner, "")
	return deleted, err
}

// removeParameter deletes the parameter called name when its tags name owner
// and, unless repository is "", do not name another repository.
func (c *Core) removeParameter(ctx context.Context, log *slog.Logger, name, owner,
	repository string) (bool, string, error) {
	const gone = "the parameter was already deleted"

	tags, err := c.par.Tags(ctx, name)
	if errors.Is(err, params.ErrNotFound) {
		log.InfoContext(ctx, "parameter already deleted")
		return false, gone, nil
	}
	if err != nil {
		return false, "", err
	}
	r, tagged := tags[RepositoryTag]
	if !owns(tags, owner) || repository != "" && tagged && r != repository {
		log.InfoContext(ctx, "parameter kept", "owner", tags[OwnerTag], "for", r)
		return false, "the parameter was not written by this owner for this repository, so" +
			" it was kept", nil
	}

	err = c.par.Delete(ctx, name)
	if errors.Is(err, params.ErrNotFound) {
		log.InfoContext(ctx, "parameter already deleted")
		return false, gone, nil
	}
	if err != nil {
		return false, "", err
	}
	log.InfoContext(ctx, "deleted parameter")
	return true, "deleted the parameter", nil
}
