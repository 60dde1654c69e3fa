package customresource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/ecr-stack/ecr-stack/internal/reconcile"
	"github.com/ecr-stack/ecr-stack/internal/request"
)

const (
	testStream = "2024/01/01/[$LATEST]0123456789abcdef"
	suffix     = " (log stream " + testStream + ")"
	stackID    = "arn:aws:cloudformation:us-east-1:123456789012:stack/example-stack/" +
		"00000000-0000-0000-0000-000000000000"
	owner     = stackID + "/ExampleRepository"
	repoName  = "example-team/example-app"
	paramName = "/ecr/repositories/example-team/example-app/uri"
	// movedParam is another parameter under the prefix.
	movedParam = "/ecr/repositories/apps/example/uri"
)

// newHandler returns a Handler for core that logs to a buffer.
func newHandler(core Core, opts Options) (*Handler, *logBuffer) {
	log, lb := newLogger()
	opts.Logger = log
	if opts.Scope.ParameterPrefix == "" {
		opts.Scope.ParameterPrefix = "/ecr/repositories"
	}
	if opts.LogStream == "" {
		opts.LogStream = testStream
	}
	return New(core, opts), lb
}

// withProps returns ev with its properties replaced by props (nil removes
// them) after applying edit to a copy.
func withProps(props map[string]any, edit func(map[string]any)) map[string]any {
	c := maps.Clone(props)
	edit(c)
	return c
}

// parseError returns the error request.Parse gives for props.
func parseError(t *testing.T, props map[string]any) string {
	t.Helper()
	_, err := request.Parse(props)
	if err != nil {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	t.Fatalf("request.Parse accepted %v", props)
	return ""
}

func TestLifecycle(t *testing.T) {
	create := loadEvent(t, "ensure-repo-create.json")
	update := loadEvent(t, "ensure-repo-update.json")
	del := loadEvent(t, "ensure-repo-delete.json")
	coreErr := errors.New(`creating ECR repository "example-team/example-app": AccessDenied`)
	bad := func(props map[string]any) map[string]any {
		return withProps(props, func(m map[string]any) { m["Colour"] = "red" })
	}
	marker := MarkerID(create.RequestID)
	// outside sets UriParameterName outside the parameter prefix.
	outside := func(props map[string]any) map[string]any {
		return withProps(props, func(m map[string]any) {
			m["UriParameterName"] = "/apps/example/uri"
		})
	}
	noEnsures := func(t *testing.T, got []reconcile.EnsureInput) {
		if len(got) != 0 {
			t.Errorf("got %d ensures, want 0", len(got))
		}
	}
	const (
		prefixRule = `RepositoryName: must start with one of the allowed prefixes "team-a/",` +
			` "team-b/"`
		parameterRule = `UriParameterName: must start with the parameter prefix` +
			` "/ecr/repositories/"`
	)

	tests := []struct {
		name     string
		ev       cfn.Event
		prefixes []string // the allowed repository prefixes; none allows all
		core     *fakeCore
		status   cfn.StatusType
		id       string
		reason   string
		data     map[string]any
		ensures  func(t *testing.T, got []reconcile.EnsureInput)
		deletes  []reconcile.DeleteInput
		removals []string
	}{
		{
			name:   "create",
			ev:     create,
			status: cfn.StatusSuccess,
			id:     repoName,
			data: map[string]any{
				"Arn":              "arn:aws:ecr:us-east-1:123456789012:repository/" + repoName,
				"RepositoryUri":    "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + repoName,
				"RegistryId":       "123456789012",
				"UriParameterName": paramName,
			},
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				if len(got) != 1 {
					t.Fatalf("got %d ensures, want 1", len(got))
				}
				in := got[0]
				if in.Owner != owner || in.ParameterName != paramName || in.Previous != nil ||
					in.Want.Name != repoName {
					t.Errorf("got owner %q, parameter %q, previous %v, name %q; want %q, %q, nil, %q",
						in.Owner, in.ParameterName, in.Previous, in.Want.Name, owner, paramName, repoName)
				}
				// A stack may take over a repository that self-service created.
				if in.RespectOwners {
					t.Error("got RespectOwners, want a Create that adopts whatever it finds")
				}
			},
		},
		{
			name: "create with the default parameter name",
			ev: func() cfn.Event {
				ev := create
				ev.ResourceProperties = withProps(create.ResourceProperties,
					func(m map[string]any) { delete(m, "UriParameterName") })
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     repoName,
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				if got[0].ParameterName != paramName {
					t.Errorf("got parameter %q, want %q", got[0].ParameterName, paramName)
				}
			},
		},
		{
			name: "create with a bad property",
			ev: func() cfn.Event {
				ev := create
				ev.ResourceProperties = bad(create.ResourceProperties)
				return ev
			}(),
			status: cfn.StatusFailed,
			id:     marker,
			reason: parseError(t, bad(create.ResourceProperties)) + suffix,
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				if len(got) != 0 {
					t.Errorf("got %d ensures, want 0", len(got))
				}
			},
		},
		{
			name:   "create refused by the core",
			ev:     create,
			core:   &fakeCore{ensure: fails(coreErr)},
			status: cfn.StatusFailed,
			id:     marker,
			reason: coreErr.Error() + suffix,
		},
		{
			name: "create failing after the repository was created",
			ev:   create,
			core: &fakeCore{ensure: func(_ context.Context,
				in reconcile.EnsureInput) (reconcile.Result, error) {
				return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName,
					CreatedNow: true, Changes: []string{"created repository"}}, coreErr
			}},
			status: cfn.StatusFailed,
			id:     repoName,
			reason: coreErr.Error() + suffix,
		},
		{
			name: "create failing on a repository it did not create",
			ev:   create,
			core: &fakeCore{ensure: func(_ context.Context,
				in reconcile.EnsureInput) (reconcile.Result, error) {
				return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName,
					Created: true}, coreErr
			}},
			status: cfn.StatusFailed,
			id:     marker,
			reason: coreErr.Error() + suffix,
		},
		{
			name:     "create outside the allowed prefixes",
			ev:       create,
			prefixes: []string{"team-a/", "team-b/"},
			status:   cfn.StatusFailed,
			id:       marker,
			reason:   prefixRule + suffix,
			ensures:  noEnsures,
		},
		{
			name:     "create under an allowed prefix",
			ev:       create,
			prefixes: []string{"team-a/", "example-team/"},
			status:   cfn.StatusSuccess,
			id:       repoName,
		},
		{
			name: "create with a parameter outside the prefix",
			ev: func() cfn.Event {
				ev := create
				ev.ResourceProperties = outside(create.ResourceProperties)
				return ev
			}(),
			status:  cfn.StatusFailed,
			id:      marker,
			reason:  parameterRule + suffix,
			ensures: noEnsures,
		},
		{
			name: "create outside both prefixes",
			ev: func() cfn.Event {
				ev := create
				ev.ResourceProperties = outside(create.ResourceProperties)
				return ev
			}(),
			prefixes: []string{"team-a/", "team-b/"},
			status:   cfn.StatusFailed,
			id:       marker,
			reason:   prefixRule + "; " + parameterRule + suffix,
			ensures:  noEnsures,
		},
		{
			name:   "update of the same repository",
			ev:     update,
			status: cfn.StatusSuccess,
			id:     repoName,
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				in := got[0]
				if in.Previous == nil {
					t.Fatal("got no previous request, want the old properties")
				}
				if in.Previous.TagMutability != "MUTABLE" || in.Want.TagMutability != "IMMUTABLE" {
					t.Errorf("got mutability %q -> %q, want MUTABLE -> IMMUTABLE",
						in.Previous.TagMutability, in.Want.TagMutability)
				}
			},
		},
		{
			name: "update moving the parameter",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = withProps(update.ResourceProperties,
					func(m map[string]any) { m["UriParameterName"] = movedParam })
				return ev
			}(),
			status:   cfn.StatusSuccess,
			id:       repoName,
			removals: []string{paramName + " by " + owner},
		},
		{
			name: "update moving the parameter, removal failing",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = withProps(update.ResourceProperties,
					func(m map[string]any) { m["UriParameterName"] = movedParam })
				return ev
			}(),
			core: &fakeCore{remove: func(context.Context, string, string) (bool, error) {
				return false, errors.New("throttled")
			}},
			status:   cfn.StatusFailed,
			id:       repoName,
			reason:   `removing parameter "` + paramName + `": throttled` + suffix,
			removals: []string{paramName + " by " + owner},
		},
		{
			name: "update renaming the repository",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = withProps(update.ResourceProperties, func(m map[string]any) {
					m["RepositoryName"] = "example-team/renamed"
					delete(m, "UriParameterName")
				})
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     "example-team/renamed",
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				in := got[0]
				want := "/ecr/repositories/example-team/renamed/uri"
				if in.Previous != nil || in.ParameterName != want {
					t.Errorf("got previous %v, parameter %q; want nil, %q", in.Previous,
						in.ParameterName, want)
				}
			},
		},
		{
			name: "update renaming the repository, keeping the parameter name",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = withProps(update.ResourceProperties, func(m map[string]any) {
					m["RepositoryName"] = "example-team/renamed"
				})
				return ev
			}(),
			status:   cfn.StatusSuccess,
			id:       "example-team/renamed",
			removals: []string{paramName + " by " + owner},
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				if got[0].ParameterName != paramName {
					t.Errorf("got parameter %q, want %q", got[0].ParameterName, paramName)
				}
			},
		},
		{
			name: "update renaming the repository, failing after the create",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = withProps(update.ResourceProperties, func(m map[string]any) {
					m["RepositoryName"] = "example-team/renamed"
					delete(m, "UriParameterName")
				})
				return ev
			}(),
			core: &fakeCore{ensure: func(_ context.Context,
				in reconcile.EnsureInput) (reconcile.Result, error) {
				return reconcile.Result{Repository: in.Want.Name, ParameterName: in.ParameterName,
					CreatedNow: true, Changes: []string{"created repository"}}, coreErr
			}},
			status: cfn.StatusFailed,
			id:     repoName,
			reason: coreErr.Error() + suffix,
			deletes: []reconcile.DeleteInput{{Repository: "example-team/renamed", Owner: owner,
				ParameterName: "/ecr/repositories/example-team/renamed/uri"}},
		},
		{
			name: "update renaming the repository, failing on an existing one",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = withProps(update.ResourceProperties, func(m map[string]any) {
					m["RepositoryName"] = "example-team/renamed"
					delete(m, "UriParameterName")
				})
				return ev
			}(),
			core: &fakeCore{ensure: func(_ context.Context,
				in reconcile.EnsureInput) (reconcile.Result, error) {
				return reconcile.Result{Repository: in.Want.Name, Created: true}, coreErr
			}},
			status: cfn.StatusFailed,
			id:     repoName,
			reason: coreErr.Error() + suffix,
		},
		{
			name: "update with unreadable old properties",
			ev: func() cfn.Event {
				ev := update
				ev.OldResourceProperties = bad(update.OldResourceProperties)
				ev.ResourceProperties = withProps(update.ResourceProperties,
					func(m map[string]any) { m["UriParameterName"] = movedParam })
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     repoName,
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				if got[0].Previous != nil {
					t.Errorf("got previous %v, want nil", got[0].Previous)
				}
			},
		},
		{
			name: "update with a bad property",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = bad(update.ResourceProperties)
				return ev
			}(),
			status: cfn.StatusFailed,
			id:     repoName,
			reason: parseError(t, bad(update.ResourceProperties)) + suffix,
		},
		{
			name:   "update refused by the core",
			ev:     update,
			core:   &fakeCore{ensure: fails(coreErr)},
			status: cfn.StatusFailed,
			id:     repoName,
			reason: coreErr.Error() + suffix,
		},
		{
			name:     "update outside the allowed prefixes",
			ev:       update,
			prefixes: []string{"team-a/", "team-b/"},
			status:   cfn.StatusFailed,
			id:       repoName,
			reason:   prefixRule + suffix,
			ensures:  noEnsures,
		},
		{
			name: "update moving the parameter outside the prefix",
			ev: func() cfn.Event {
				ev := update
				ev.ResourceProperties = outside(update.ResourceProperties)
				return ev
			}(),
			status:  cfn.StatusFailed,
			id:      repoName,
			reason:  parameterRule + suffix,
			ensures: noEnsures,
		},
		{
			name: "update moving the parameter from outside the prefix",
			ev: func() cfn.Event {
				ev := update
				ev.OldResourceProperties = outside(update.OldResourceProperties)
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     repoName,
			ensures: func(t *testing.T, got []reconcile.EnsureInput) {
				if len(got) != 1 || got[0].ParameterName != paramName {
					t.Errorf("got %+v, want one ensure with parameter %q", got, paramName)
				}
			},
		},
		{
			name:   "delete",
			ev:     del,
			status: cfn.StatusSuccess,
			id:     repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner,
				ParameterName: paramName}},
		},
		{
			name: "delete with EmptyOnDelete",
			ev: func() cfn.Event {
				ev := del
				ev.ResourceProperties = withProps(del.ResourceProperties,
					func(m map[string]any) { m["EmptyOnDelete"] = "true" })
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner,
				ParameterName: paramName, EmptyOnDelete: true}},
		},
		{
			name: "delete of a failed create",
			ev: func() cfn.Event {
				ev := del
				ev.PhysicalResourceID = MarkerID("11111111-2222-3333-4444-555555555555")
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     MarkerID("11111111-2222-3333-4444-555555555555"),
		},
		{
			name: "delete with unreadable properties",
			ev: func() cfn.Event {
				ev := del
				ev.ResourceProperties = withProps(del.ResourceProperties, func(m map[string]any) {
					m["Colour"] = "red"
					m["EmptyOnDelete"] = "true"
					m["UriParameterName"] = movedParam
				})
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner,
				ParameterName: movedParam}},
		},
		{
			name: "delete with unreadable properties and no parameter name",
			ev: func() cfn.Event {
				ev := del
				ev.ResourceProperties = map[string]any{"EmptyOnDelete": []any{"true"}}
				return ev
			}(),
			status: cfn.StatusSuccess,
			id:     repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner,
				ParameterName: paramName}},
		},
		{
			name:     "delete outside the allowed prefixes",
			ev:       del,
			prefixes: []string{"team-a/", "team-b/"},
			status:   cfn.StatusSuccess,
			id:       repoName,
		},
		{
			name:     "delete under an allowed prefix",
			ev:       del,
			prefixes: []string{"team-a/", "example-team/"},
			status:   cfn.StatusSuccess,
			id:       repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner,
				ParameterName: paramName}},
		},
		{
			name: "delete with a parameter outside the prefix",
			ev: func() cfn.Event {
				ev := del
				ev.ResourceProperties = outside(del.ResourceProperties)
				return ev
			}(),
			status:  cfn.StatusSuccess,
			id:      repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner}},
		},
		{
			name: "delete with unreadable properties and a parameter outside the prefix",
			ev: func() cfn.Event {
				ev := del
				ev.ResourceProperties = withProps(outside(del.ResourceProperties),
					func(m map[string]any) { m["Colour"] = "red" })
				return ev
			}(),
			status:  cfn.StatusSuccess,
			id:      repoName,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner}},
		},
		{
			name: "delete refused by the core",
			ev:   del,
			core: &fakeCore{del: func(context.Context,
				reconcile.DeleteInput) (reconcile.DeleteResult, error) {
				return reconcile.DeleteResult{}, reconcile.ErrNotEmpty
			}},
			status: cfn.StatusFailed,
			id:     repoName,
			reason: reconcile.ErrNotEmpty.Error() + suffix,
			deletes: []reconcile.DeleteInput{{Repository: repoName, Owner: owner,
				ParameterName: paramName}},
		},
		{
			name: "unknown request type",
			ev: func() cfn.Event {
				ev := create
				ev.RequestType = "Replace"
				return ev
			}(),
			status: cfn.StatusFailed,
			id:     marker,
			reason: `RequestType "Replace": must be Create, Update or Delete` + suffix,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newResponseServer(t)
			core := tt.core
			if core == nil {
				core = &fakeCore{}
			}
			scope := request.Scope{RepositoryPrefixes: tt.prefixes}
			h, _ := newHandler(core, Options{Scope: scope})
			ev := tt.ev
			ev.ResponseURL = srv.signedURL()

			resp, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			got := srv.answer(t)
			if !reflect.DeepEqual(&got, resp) {
				t.Errorf("got returned %+v, want what was sent %+v", resp, got)
			}
			if got.Status != tt.status || got.PhysicalResourceID != tt.id || got.Reason != tt.reason {
				t.Errorf("got %s %q reason %q,\nwant %s %q reason %q",
					got.Status, got.PhysicalResourceID, got.Reason, tt.status, tt.id, tt.reason)
			}
			if got.RequestID != ev.RequestID || got.StackID != ev.StackID ||
				got.LogicalResourceID != ev.LogicalResourceID {
				t.Errorf("got ids %q %q %q, want the request's", got.RequestID, got.StackID,
					got.LogicalResourceID)
			}
			if tt.data != nil && !reflect.DeepEqual(got.Data, tt.data) {
				t.Errorf("got data %v, want %v", got.Data, tt.data)
			}
			if tt.ensures != nil {
				tt.ensures(t, core.ensures)
			}
			if !reflect.DeepEqual(core.deletes, tt.deletes) {
				t.Errorf("got deletes %+v, want %+v", core.deletes, tt.deletes)
			}
			if !reflect.DeepEqual(core.removals, tt.removals) {
				t.Errorf("got removals %q, want %q", core.removals, tt.removals)
			}
		})
	}
}

// fails returns an ensure function that fails with err.
func fails(err error) func(context.Context, reconcile.EnsureInput) (reconcile.Result, error) {
	return func(context.Context, reconcile.EnsureInput) (reconcile.Result, error) {
		return reconcile.Result{}, err
	}
}

func TestOwner(t *testing.T) {
	long := strings.Repeat("L", 250)
	sum := sha256.Sum256([]byte(stackID + "/" + long))
	cut := (stackID + "/" + long)[:223]
	tests := []struct {
		name string
		ev   cfn.Event
		want string
	}{
		{"stack and logical id", cfn.Event{StackID: stackID, LogicalResourceID: "ExampleRepository"},
			owner},
		{"digest past 256 characters", cfn.Event{StackID: stackID, LogicalResourceID: long},
			cut + "/" + hex.EncodeToString(sum[:16])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Owner(tt.ev)
			if got != tt.want || len(got) > maxOwner {
				t.Errorf("got %q (%d characters), want %q", got, len(got), tt.want)
			}
		})
	}
}

func TestIsRepositoryID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"example-team/example-app", true},
		{"app", true},
		{MarkerID("11111111-2222-3333-4444-555555555555"), false},
		{"", false},
		{"a", false},
		{"Upper", false},
		{"team//app", false},
		{strings.Repeat("a", 257), false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := IsRepositoryID(tt.id); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
