package customresource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
)

// markerPrefix starts the physical id of a resource whose Create failed. The
// colon makes it a string no repository can be named, so the rollback's
// Delete of it is recognised without looking anything up.
const markerPrefix = "ecr-stack:create-failed:"

// maxOwner is the longest Owner the core can record: ECR and SSM tag values
// hold at most 256 characters.
const maxOwner = 256

// repositoryName matches what ECR accepts as a repository name.
var repositoryName = regexp.MustCompile(
	`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// MarkerID returns the physical id a failed Create answers with. It names the
// request that failed and can never be a repository name.
func MarkerID(requestID string) string { return markerPrefix + requestID }

// IsMarker reports whether id is the physical id of a failed Create.
func IsMarker(id string) bool { return strings.HasPrefix(id, markerPrefix) }

// IsRepositoryID reports whether a physical id can name a repository. Only
// such ids are ever deleted; a failed Create's marker is not one.
func IsRepositoryID(id string) bool {
	return len(id) >= 2 && len(id) <= 256 && repositoryName.MatchString(id)
}

// Owner returns the owner recorded for the resource ev is about: the stack
// id, a slash and the logical resource id. An owner longer than the 256
// characters a tag value holds keeps its first 223 characters and ends with
// a slash and 32 hex digits of its SHA-256, which is as stable and, in
// practice, as unique.
func Owner(ev cfn.Event) string {
	owner := ev.StackID + "/" + ev.LogicalResourceID
	if len(owner) <= maxOwner {
		return owner
	}
	sum := sha256.Sum256([]byte(owner))
	digest := hex.EncodeToString(sum[:16])
	return owner[:maxOwner-len(digest)-1] + "/" + digest
}

// fallback returns the outcome of a failure before the work decided anything:
// the marker for a Create, the current physical id otherwise.
func fallback(ev cfn.Event) outcome {
	if ev.RequestType == cfn.RequestCreate || ev.PhysicalResourceID == "" {
		return outcome{physicalID: MarkerID(ev.RequestID)}
	}
	return outcome{physicalID: ev.PhysicalResourceID}
}

// do dispatches on the request type. Errors of decoding the request's own
// fields fail it, except for a Delete, which must be able to finish.
func (h *Handler) do(ctx context.Context, in incoming, p *progress, log *slog.Logger) outcome {
	switch in.ev.RequestType {
	case cfn.RequestCreate:
		if in.err != nil {
			return failed(in.ev, in.err)
		}
		return h.create(ctx, in, p, log)
	case cfn.RequestUpdate:
		if in.err != nil {
			return failed(in.ev, in.err)
		}
		return h.update(ctx, in, p, log)
	case cfn.RequestDelete:
		return h.delete(ctx, in, p, log)
	default:
		return failed(in.ev, fmt.Errorf("RequestType %q: must be Create, Update or Delete",
			in.ev.RequestType))
	}
}

// failed returns the outcome of a failure with err.
func failed(ev cfn.Event, err error) outcome {
	o := fallback(ev)
	o.err = err
	return o
}

// properties reads a resource's properties into a repository request and the
// parameter name it asks for: UriParameterName when given, otherwise the
// default under the prefix. decodeErr is the error of decoding props, if any.
// It does not hold the request to the Scope; see wanted.
func (h *Handler) properties(props map[string]any,
	decodeErr error) (request.Repository, string, error) {
	if decodeErr != nil {
		return request.Repository{}, "", decodeErr
	}
	want, err := request.Parse(props)
	if err != nil {
		return request.Repository{}, "", err
	}
	param := h.scope.ParameterName(want)
	if err := request.ValidateParameterName(param); err != nil {
		return request.Repository{}, "", err
	}
	return want, param, nil
}

// wanted reads the new properties of a Create or Update like properties and
// refuses a request outside the Scope, which the function has no permission
// to carry out.
func (h *Handler) wanted(in incoming) (request.Repository, string, error) {
	want, param, err := h.properties(in.ev.ResourceProperties, in.propsErr)
	if err != nil {
		return request.Repository{}, "", err
	}
	if err := h.scope.Check(want); err != nil {
		return request.Repository{}, "", err
	}
	return want, param, nil
}

// parameterName returns explicit, or the default name for repository.
func (h *Handler) parameterName(explicit, repository string) string {
	return h.scope.ParameterName(request.Repository{Name: repository, UriParameterName: explicit})
}

// data returns the attributes Fn::GetAtt reads.
func data(res reconcile.Result, param string) map[string]any {
	if res.ParameterName != "" {
		param = res.ParameterName
	}
	return map[string]any{
		"Arn":              res.ARN,
		"RepositoryUri":    res.URI,
		"RegistryId":       res.RegistryID,
		"UriParameterName": param,
	}
}

// create ensures the repository and its parameter. A failure answers with the
// marker physical id, so the rollback's Delete touches nothing, unless this
// request created the repository before a later step failed: then it answers
// with the repository's name, so the rollback's Delete removes what would
// otherwise be left behind. That repository is this resource's and new, so
// the Delete rules remove it, and the parameter only if this resource wrote
// it.
//
// A Create takes over a repository whatever its ownership tag says, unlike
// self-service: moving a repository that self-service or another stack
// created into a template is how it comes under infrastructure as code. The
// core records the adoption as the repository's managed-by tag, which keeps
// self-service away until this resource's Delete releases it.
func (h *Handler) create(ctx context.Context, in incoming, p *progress, log *slog.Logger) outcome {
	p.set("reading properties")
	want, param, err := h.wanted(in)
	if err != nil {
		return failed(in.ev, err)
	}
	log = log.With("repository", want.Name, "parameter", param)

	p.set(fmt.Sprintf("ensuring repository %q", want.Name))
	res, err := h.core.Ensure(ctx, reconcile.EnsureInput{
		Want:          want,
		Owner:         Owner(in.ev),
		ParameterName: param,
	})
	if err != nil {
		o := failed(in.ev, err)
		if res.CreatedNow {
			o.physicalID = nameOf(res, want)
			log.WarnContext(ctx, "create failed after the repository was created",
				"physical_id", o.physicalID)
		}
		return o
	}
	return outcome{physicalID: nameOf(res, want), data: data(res, param)}
}

// update ensures the repository the new properties describe. The same
// repository is converged from what the old properties asked for; a new name
// is a replacement: the new repository is ensured on its own and
// CloudFormation's later Delete of the old physical id follows the delete
// rules. A parameter that moved is removed from its old name when this
// resource owns it; one that keeps its name across a replacement is handed
// to the new repository. An old parameter outside the Scope is kept, since the
// function has no permission to remove it. A failure echoes the old physical
// id, after removing a replacement repository this request created.
func (h *Handler) update(ctx context.Context, in incoming, p *progress, log *slog.Logger) outcome {
	p.set("reading properties")
	want, param, err := h.wanted(in)
	if err != nil {
		return failed(in.ev, err)
	}
	log = log.With("repository", want.Name, "parameter", param)
	replaced := want.Name != in.ev.PhysicalResourceID

	owner := Owner(in.ev)
	ensure := reconcile.EnsureInput{Want: want, Owner: owner, ParameterName: param}
	// Old properties that no longer read (written for an earlier version of
	// this function) only cost the removal of settings they named.
	prev, prevParam, prevErr := h.properties(in.ev.OldResourceProperties, in.oldPropsErr)
	switch {
	case prevErr != nil:
		log.WarnContext(ctx, "old properties unreadable", "error", prevErr)
	case !replaced:
		ensure.Previous = &prev
	}

	if replaced && prevErr == nil && prevParam == param {
		// The parameter keeps its name but moves to the new repository. The
		// core refuses a parameter tagged for another repository, so this
		// owner's own tag comes off first; CloudFormation's Delete of the old
		// repository then leaves the parameter alone, and a rollback writes
		// it back for the old one.
		p.set(fmt.Sprintf("moving parameter %q", param))
		removed, err := h.core.RemoveParameter(ctx, param, owner)
		if err != nil {
			return failed(in.ev, fmt.Errorf("moving parameter %q: %w", param, err))
		}
		log.InfoContext(ctx, "parameter released for the new repository", "removed", removed)
	}

	if replaced {
		log.InfoContext(ctx, "replacing repository", "old_repository", in.ev.PhysicalResourceID)
	}
	p.set(fmt.Sprintf("ensuring repository %q", want.Name))
	res, err := h.core.Ensure(ctx, ensure)
	if err != nil {
		if replaced && res.CreatedNow {
			h.undoReplacement(ctx, nameOf(res, want), param, owner, log)
		}
		return failed(in.ev, err)
	}

	moved := !replaced && prevErr == nil && prevParam != param
	switch {
	case moved && !h.scope.AllowsParameter(prevParam):
		log.WarnContext(ctx, "old parameter outside the parameter prefix, kept",
			"old_parameter", prevParam)
	case moved:
		p.set(fmt.Sprintf("removing parameter %q", prevParam))
		removed, err := h.core.RemoveParameter(ctx, prevParam, owner)
		if err != nil {
			return failed(in.ev, fmt.Errorf("removing parameter %q: %w", prevParam, err))
		}
		log.InfoContext(ctx, "old parameter", "old_parameter", prevParam, "removed", removed)
	}
	return outcome{physicalID: nameOf(res, want), data: data(res, param)}
}

// undoReplacement removes the repository a failed replacing Update created.
// CloudFormation keeps the old physical id after a failed Update and never
// sends a Delete for the new name, so nothing else would remove it. The
// repository is new, empty and this resource's, so the Delete rules remove
// it, and its parameter only if this resource wrote it there; the rollback's
// Update then writes the old repository's parameter back. A failure here,
// such as an expired deadline, is logged and leaves the repository in place.
func (h *Handler) undoReplacement(ctx context.Context, name, param, owner string,
	log *slog.Logger) {
	res, err := h.core.Delete(ctx, reconcile.DeleteInput{
		Repository: name, Owner: owner, ParameterName: param,
	})
	if err != nil {
		log.ErrorContext(ctx, "removing the replacement of a failed update",
			"new_repository", name, "error", err)
		return
	}
	log.WarnContext(ctx, "removed the replacement of a failed update",
		"new_repository", name, "deleted", res.RepositoryDeleted,
		"parameter_deleted", res.ParameterDeleted)
}

// nameOf returns the repository's name as the core reports it.
func nameOf(res reconcile.Result, want request.Repository) string {
	if res.Repository != "" {
		return res.Repository
	}
	return want.Name
}

// delete removes what this resource owns of the repository its physical id
// names. The core deletes the repository only if this resource created it
// (and, when it holds images, only with EmptyOnDelete), releases it
// otherwise, and deletes the parameter only if this resource owns it.
//
// A physical id that cannot name a repository (the marker of a failed
// Create) answers SUCCESS without any call, and so does a repository outside
// the Scope: the function has no permission to touch it, and keeping it is
// the safe side. A parameter outside the Scope is kept for the same reason.
//
// Properties that cannot be read do not stop a Delete, which CloudFormation
// must be able to finish; they are replaced by the safest reading: nothing
// emptied (EmptyOnDelete false, so a repository with images fails the Delete
// and keeps them), and the parameter named by a readable UriParameterName or
// else the default for the physical id, which the core removes only if this
// resource owns it.
func (h *Handler) delete(ctx context.Context, in incoming, p *progress, log *slog.Logger) outcome {
	id := in.ev.PhysicalResourceID
	if !IsRepositoryID(id) {
		log.InfoContext(ctx, "nothing to delete", "physical_id", id)
		return outcome{physicalID: id}
	}
	if !h.scope.AllowsRepository(id) {
		log.WarnContext(ctx, "repository outside the allowed prefixes, kept", "repository", id)
		return outcome{physicalID: id}
	}
	del := reconcile.DeleteInput{Repository: id, Owner: Owner(in.ev)}
	want, param, err := h.properties(in.ev.ResourceProperties, in.propsErr)
	switch {
	case err != nil:
		log.WarnContext(ctx, "properties unreadable, deleting nothing with images", "error", err)
		del.ParameterName = h.fallbackParameter(in.ev.ResourceProperties, id)
	case want.Name != id:
		// Not something CloudFormation sends; the physical id decides what
		// is deleted, and the parameter follows it unless named.
		log.WarnContext(ctx, "properties name another repository",
			"properties_repository", want.Name)
		del.EmptyOnDelete = want.EmptyOnDelete
		del.ParameterName = h.parameterName(want.UriParameterName, id)
	default:
		del.EmptyOnDelete = want.EmptyOnDelete
		del.ParameterName = param
	}
	if request.ValidateParameterName(del.ParameterName) != nil {
		del.ParameterName = ""
	}
	if del.ParameterName != "" && !h.scope.AllowsParameter(del.ParameterName) {
		log.WarnContext(ctx, "parameter outside the parameter prefix, kept",
			"parameter", del.ParameterName)
		del.ParameterName = ""
	}
	log = log.With("repository", id, "parameter", del.ParameterName)

	p.set(fmt.Sprintf("deleting repository %q", id))
	res, err := h.core.Delete(ctx, del)
	if err != nil {
		return outcome{physicalID: id, err: err}
	}
	log.InfoContext(ctx, "repository deleted",
		"deleted", res.RepositoryDeleted, "released", res.Released,
		"parameter_deleted", res.ParameterDeleted, "reason", res.Reason)
	return outcome{physicalID: id}
}

// fallbackParameter returns the parameter a Delete with unreadable properties
// removes (if this resource owns it): UriParameterName when it is a string,
// otherwise the default for repository.
func (h *Handler) fallbackParameter(props map[string]any, repository string) string {
	if s, ok := props["UriParameterName"].(string); ok && strings.TrimSpace(s) != "" {
		return s
	}
	return h.parameterName("", repository)
}
