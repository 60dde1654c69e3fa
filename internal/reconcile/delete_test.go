package reconcile_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// TestDelete checks each delete rule, and that a second delete changes
// nothing.
func TestDelete(t *testing.T) {
	const stranger = "arn:aws:cloudformation:us-east-1:123456789012:stack/other/2/Repo"
	tests := []struct {
		name string
		// setup prepares the repository and parameter called name and param.
		setup         func(h *harness, name, param string)
		emptyOnDelete bool
		want          reconcile.DeleteResult
		wantErr       string // "" when it succeeds
		wantWrites    []string
		wantRepo      bool // the repository exists afterwards
		wantImages    int
		wantParam     bool // the parameter exists afterwards
		// wantTags are the repository's reserved tags afterwards; nil: not
		// checked.
		wantTags map[string]string
	}{
		{
			name: "owned and empty",
			setup: func(h *harness, name, param string) {
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
			},
			want: reconcile.DeleteResult{RepositoryDeleted: true, ParameterDeleted: true,
				Reason: "deleted the repository; deleted the parameter"},
			wantWrites: []string{"ECR.DeleteRepository", "SSM.DeleteParameter"},
		},
		{
			name: "owned with an image",
			setup: func(h *harness, name, param string) {
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
				testsupport.PushImage(h.t, h.cfg, name, "v1")
			},
			wantErr: `deleting ECR repository "NAME": repository is not empty: it holds 1` +
				` image and EmptyOnDelete is false, so nothing was deleted`,
			wantWrites: []string{"ECR.DeleteRepository"},
			wantRepo:   true, wantImages: 1, wantParam: true,
		},
		{
			name: "owned with images and EmptyOnDelete",
			setup: func(h *harness, name, param string) {
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
				testsupport.PushImage(h.t, h.cfg, name, "v1")
				testsupport.PushImage(h.t, h.cfg, name, "v2")
			},
			emptyOnDelete: true,
			want: reconcile.DeleteResult{RepositoryDeleted: true, ParameterDeleted: true,
				Reason: "deleted the repository; deleted the parameter"},
			wantWrites: []string{"ECR.DeleteRepository", "SSM.DeleteParameter"},
		},
		{
			name: "adopted",
			setup: func(h *harness, name, param string) {
				h.createRepository(&ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
				testsupport.PushImage(h.t, h.cfg, name, "v1")
			},
			emptyOnDelete: true,
			want: reconcile.DeleteResult{Released: true, ParameterDeleted: true,
				Reason: "the repository was not created by this owner, so it was released" +
					" and kept; deleted the parameter"},
			wantWrites: []string{"ECR.UntagResource", "SSM.DeleteParameter"},
			wantRepo:   true, wantImages: 1, wantTags: map[string]string{},
		},
		{
			name: "created by self-service, adopted",
			setup: func(h *harness, name, param string) {
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: "self-service", ParameterName: param + "-self", RespectOwners: true})
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
			},
			want: reconcile.DeleteResult{Released: true, ParameterDeleted: true,
				Reason: "the repository was not created by this owner, so it was released" +
					" and kept; deleted the parameter"},
			wantWrites: []string{"ECR.UntagResource", "SSM.DeleteParameter"},
			wantRepo:   true,
			wantTags:   map[string]string{reconcile.OwnerTag: "self-service"},
		},
		{
			name: "adopted, then adopted by another owner",
			setup: func(h *harness, name, param string) {
				h.createRepository(&ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: stranger, ParameterName: param + "-other"})
			},
			want: reconcile.DeleteResult{Released: true, ParameterDeleted: true,
				Reason: "the repository was not created by this owner, so it was released" +
					" and kept; deleted the parameter"},
			wantWrites: []string{"SSM.DeleteParameter"},
			wantRepo:   true,
			wantTags:   map[string]string{reconcile.ManagedByTag: stranger},
		},
		{
			name: "untagged parameter that held the URI",
			setup: func(h *harness, name, param string) {
				// Ensure refuses an untagged parameter before it creates the
				// repository, so the repository is created first.
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: request.DefaultParameterName("/other", name)})
				h.putParameter(param, registryURI+name, nil)
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param})
			},
			want: reconcile.DeleteResult{RepositoryDeleted: true,
				Reason: "deleted the repository; the parameter was not written by this" +
					" owner for this repository, so it was kept"},
			wantWrites: []string{"ECR.DeleteRepository"},
			wantParam:  true,
		},
		{
			name:  "already gone",
			setup: func(h *harness, name, param string) {},
			want: reconcile.DeleteResult{Reason: "the repository was already deleted;" +
				" the parameter was already deleted"},
		},
		{
			name: "someone else's",
			setup: func(h *harness, name, param string) {
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: stranger, ParameterName: param})
			},
			emptyOnDelete: true,
			want: reconcile.DeleteResult{Released: true,
				Reason: "the repository was not created by this owner, so it was released" +
					" and kept; the parameter was not written by this owner for this" +
					" repository, so it was kept"},
			wantRepo:  true,
			wantParam: true,
		},
		{
			name: "parameter retargeted to another repository",
			setup: func(h *harness, name, param string) {
				h.ensure(reconcile.EnsureInput{Want: request.Repository{Name: name},
					Owner: owner, ParameterName: param + "-old"})
				h.putParameter(param, registryURI+"team/next", ownTags(owner, "team/next"))
			},
			want: reconcile.DeleteResult{RepositoryDeleted: true,
				Reason: "deleted the repository; the parameter was not written by this" +
					" owner for this repository, so it was kept"},
			wantWrites: []string{"ECR.DeleteRepository"},
			wantParam:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			name, param := h.names()
			tt.setup(h, name, param)
			h.proxy.Reset()
			in := reconcile.DeleteInput{Repository: name, Owner: owner, ParameterName: param,
				EmptyOnDelete: tt.emptyOnDelete}

			res, err := h.core.Delete(context.Background(), in)

			wantErr := strings.ReplaceAll(tt.wantErr, "NAME", name)
			switch {
			case wantErr == "" && err != nil:
				t.Fatalf("got %v, want success", err)
			case wantErr != "" &&
				(!errors.Is(err, reconcile.ErrNotEmpty) || err.Error() != wantErr):
				t.Fatalf("got %v, want ErrNotEmpty %q", err, wantErr)
			}
			if res != tt.want {
				t.Errorf("got %+v, want %+v", res, tt.want)
			}
			if got := h.writes(); !slices.Equal(got, tt.wantWrites) {
				t.Errorf("got writes %v, want %v", got, tt.wantWrites)
			}
			h.checkLeft(name, param, tt.wantRepo, tt.wantImages, tt.wantParam)
			if tt.wantTags != nil {
				got := h.repositoryTags(name)
				maps.DeleteFunc(got, func(k, _ string) bool {
					return !strings.HasPrefix(k, request.ReservedTagPrefix)
				})
				if !maps.Equal(got, tt.wantTags) {
					t.Errorf("got reserved tags %v, want %v", got, tt.wantTags)
				}
			}
			if err != nil {
				return
			}

			h.proxy.Reset()
			again, err := h.core.Delete(context.Background(), in)
			if err != nil {
				t.Fatalf("got %v deleting again, want success", err)
			}
			if again.RepositoryDeleted || again.ParameterDeleted {
				t.Errorf("got %+v deleting again, want nothing deleted", again)
			}
			if got := h.writes(); len(got) != 0 {
				t.Errorf("got writes %v deleting again, want none", got)
			}
		})
	}
}

// checkLeft checks what is left of the repository name and the parameter.
func (h *harness) checkLeft(name, param string, wantRepo bool, wantImages int, wantParam bool) {
	h.t.Helper()
	if got := h.repository(name) != nil; got != wantRepo {
		h.t.Errorf("got repository left %t, want %t", got, wantRepo)
	}
	if wantRepo {
		out, err := h.ecr.ListImages(context.Background(), &ecr.ListImagesInput{
			RepositoryName: aws.String(name),
		})
		if err != nil {
			h.t.Fatalf("listing images: %v", err)
		}
		if got := len(out.ImageIds); got != wantImages {
			h.t.Errorf("got %d images, want %d", got, wantImages)
		}
	}
	if got := h.parameter(param) != nil; got != wantParam {
		h.t.Errorf("got parameter left %t, want %t", got, wantParam)
	}
}

// TestReplacement renames an owned repository that holds images: the new one
// is created and the delete of the old one keeps it and its images.
func TestReplacement(t *testing.T) {
	h := newHarness(t)
	oldName, oldParam := h.names()
	newName, newParam := oldName+"-next", request.DefaultParameterName("/test", oldName+"-next")
	old := request.Repository{Name: oldName, LifecyclePolicy: keepFive}
	h.ensure(reconcile.EnsureInput{Want: old, Owner: owner, ParameterName: oldParam})
	testsupport.PushImage(t, h.cfg, oldName, "v1")

	res := h.ensure(reconcile.EnsureInput{
		Want:     request.Repository{Name: newName, LifecyclePolicy: keepFive},
		Previous: &old, Owner: owner, ParameterName: newParam,
	})
	if !res.Created || res.Changes[0] != "created repository" {
		t.Errorf("got %+v, want the new repository created", res)
	}
	_, err := h.core.Delete(context.Background(), reconcile.DeleteInput{
		Repository: oldName, Owner: owner, ParameterName: oldParam,
	})

	if !errors.Is(err, reconcile.ErrNotEmpty) {
		t.Errorf("got %v deleting the old repository, want ErrNotEmpty", err)
	}
	h.checkLeft(oldName, oldParam, true, 1, true)
	h.checkLeft(newName, newParam, true, 0, true)
}

// TestRemoveParameter checks that only an owned parameter is removed.
func TestRemoveParameter(t *testing.T) {
	tests := []struct {
		name      string
		tags      map[string]string // nil: no parameter
		want      bool
		wantParam bool
	}{
		{name: "owned", tags: ownTags(owner, "team/app"), want: true},
		{name: "another owner's", tags: ownTags("someone", "team/app"), wantParam: true},
		{name: "untagged", tags: map[string]string{}, wantParam: true},
		{name: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, param := h.names()
			if tt.tags != nil {
				h.putParameter(param, "uri", tt.tags)
			}

			got, err := h.core.RemoveParameter(context.Background(), param, owner)

			if err != nil || got != tt.want {
				t.Errorf("got %t, %v, want %t, nil", got, err, tt.want)
			}
			if left := h.parameter(param) != nil; left != tt.wantParam {
				t.Errorf("got parameter left %t, want %t", left, tt.wantParam)
			}
		})
	}
}
