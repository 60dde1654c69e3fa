package params_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ecr-stack/ecr-stack/internal/params"
	"github.com/ecr-stack/ecr-stack/internal/testsupport"
)

// The real client satisfies API.
var _ params.API = (*ssm.Client)(nil)

// TestMotoMissing checks that the moto tests fail, not skip, without moto.
func TestMotoMissing(t *testing.T) {
	testsupport.FailsWithoutMoto(t, "TestStore")
}

// TestStore runs every Store method against moto, with the conditions its
// errors stand for.
func TestStore(t *testing.T) {
	m := testsupport.Moto(t)
	store := params.New(ssm.NewFromConfig(testsupport.AWSConfig(t, m.URL)))
	ctx := context.Background()
	name := "/test/" + testsupport.UniqueName(t, 40) + "/uri"

	_, err := store.Get(ctx, name)
	if !errors.Is(err, params.ErrNotFound) {
		t.Fatalf("got %v before the create, want ErrNotFound", err)
	}
	if _, ok := errors.AsType[*types.ParameterNotFound](err); !ok {
		t.Errorf("got %T, want it to wrap *types.ParameterNotFound", err)
	}
	if want := `reading SSM parameter "` + name + `": `; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got message %q, want it to start with %q", err, want)
	}
	if _, err := store.Tags(ctx, name); !errors.Is(err, params.ErrNotFound) {
		t.Errorf("got %v reading tags before the create, want ErrNotFound", err)
	}

	tags := map[string]string{"owner": "me", "repository": "team/app"}
	if err := store.Create(ctx, name, "v1", tags); err != nil {
		t.Fatalf("Create: %v", err)
	}
	err = store.Create(ctx, name, "v2", nil)
	if !errors.Is(err, params.ErrAlreadyExists) {
		t.Errorf("got %v from a second create, want ErrAlreadyExists", err)
	}
	if _, ok := errors.AsType[*types.ParameterAlreadyExists](err); !ok {
		t.Errorf("got %T, want it to wrap *types.ParameterAlreadyExists", err)
	}

	p, err := store.Get(ctx, name)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got, want := *p, (params.Parameter{Name: name, Value: "v1", Version: 1}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err := store.Tags(ctx, name)
	if err != nil {
		t.Fatalf("Tags: %v", err)
	}
	if !maps.Equal(got, tags) {
		t.Errorf("got tags %v, want %v", got, tags)
	}

	if err := store.Overwrite(ctx, name, "v2"); err != nil {
		t.Fatalf("Overwrite: %v", err)
	}
	if err := store.AddTags(ctx, name, map[string]string{"owner": "you", "x": "y"}); err != nil {
		t.Fatalf("AddTags: %v", err)
	}
	p, err = store.Get(ctx, name)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got, want := *p, (params.Parameter{Name: name, Value: "v2", Version: 2}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = store.Tags(ctx, name)
	if err != nil {
		t.Fatalf("Tags: %v", err)
	}
	want := map[string]string{"owner": "you", "repository": "team/app", "x": "y"}
	if !maps.Equal(got, want) {
		t.Errorf("got tags %v, want %v", got, want)
	}

	if err := store.Delete(ctx, name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	err = store.Delete(ctx, name)
	if !errors.Is(err, params.ErrNotFound) {
		t.Errorf("got %v deleting it again, want ErrNotFound", err)
	}
	if want := `deleting SSM parameter "` + name + `": `; err == nil ||
		!strings.HasPrefix(err.Error(), want) {
		t.Errorf("got message %q, want it to start with %q", err, want)
	}
}
