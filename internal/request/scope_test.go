package request

import (
	"strings"
	"testing"
)

// TestScope checks the prefix rules both front doors hold requests to.
func TestScope(t *testing.T) {
	limited := Scope{ParameterPrefix: "/ecr/repositories",
		RepositoryPrefixes: []string{"team-a/", "team-b/"}}
	tests := []struct {
		name      string
		scope     Scope
		want      Repository
		wantParam string
		wantErr   string // "" when r is in the scope
	}{
		{
			name:      "no repository prefixes",
			scope:     Scope{ParameterPrefix: "/ecr/repositories"},
			want:      Repository{Name: "any/app"},
			wantParam: "/ecr/repositories/any/app/uri",
		},
		{
			name:      "allowed prefix",
			scope:     limited,
			want:      Repository{Name: "team-b/app"},
			wantParam: "/ecr/repositories/team-b/app/uri",
		},
		{
			name:      "outside the allowed prefixes",
			scope:     limited,
			want:      Repository{Name: "team-c/app"},
			wantParam: "/ecr/repositories/team-c/app/uri",
			wantErr: `RepositoryName: must start with one of the allowed prefixes` +
				` "team-a/", "team-b/"`,
		},
		{
			name:      "a prefix is not a whole level",
			scope:     Scope{ParameterPrefix: "/p", RepositoryPrefixes: []string{"team-a"}},
			want:      Repository{Name: "team-ab/app"},
			wantParam: "/p/team-ab/app/uri",
		},
		{
			name:      "parameter below the prefix",
			scope:     limited,
			want:      Repository{Name: "team-a/app", UriParameterName: "/ecr/repositories/x"},
			wantParam: "/ecr/repositories/x",
		},
		{
			name:      "parameter prefix with a trailing slash",
			scope:     Scope{ParameterPrefix: "/ecr/repositories/"},
			want:      Repository{Name: "app", UriParameterName: "/ecr/repositories/x"},
			wantParam: "/ecr/repositories/x",
		},
		{
			name:  "parameter beside the prefix",
			scope: limited,
			want: Repository{Name: "team-a/app",
				UriParameterName: "/ecr/repositories-x/uri"},
			wantParam: "/ecr/repositories-x/uri",
			wantErr: `UriParameterName: must start with the parameter prefix` +
				` "/ecr/repositories/"`,
		},
		{
			name:      "the prefix itself",
			scope:     limited,
			want:      Repository{Name: "team-a/app", UriParameterName: "/ecr/repositories"},
			wantParam: "/ecr/repositories",
			wantErr: `UriParameterName: must start with the parameter prefix` +
				` "/ecr/repositories/"`,
		},
		{
			name:      "both",
			scope:     limited,
			want:      Repository{Name: "app", UriParameterName: "/elsewhere/uri"},
			wantParam: "/elsewhere/uri",
			wantErr: `RepositoryName: must start with one of the allowed prefixes` +
				` "team-a/", "team-b/"` + "\n" +
				`UriParameterName: must start with the parameter prefix "/ecr/repositories/"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.scope.ParameterName(tt.want); got != tt.wantParam {
				t.Errorf("got parameter %q, want %q", got, tt.wantParam)
			}
			err := tt.scope.Check(tt.want)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("got error %q,\nwant %q", gotErr, tt.wantErr)
			}
			if n, want := len(FieldErrors(err)), strings.Count(tt.wantErr, ": must"); n != want {
				t.Errorf("got %d field errors, want %d", n, want)
			}
			name, param := tt.scope.AllowsRepository(tt.want.Name),
				tt.scope.AllowsParameter(tt.wantParam)
			if ok := name && param; ok != (tt.wantErr == "") {
				t.Errorf("got AllowsRepository %t and AllowsParameter %t, want both %t", name,
					param, tt.wantErr == "")
			}
		})
	}
}
