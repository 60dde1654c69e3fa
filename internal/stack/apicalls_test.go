package stack

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// sdkServicePrefix is the import path prefix of the AWS SDK's service
// packages; the element after it names the service.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// iamPrefix maps an SDK service package name to its IAM action prefix where
// the two differ.
var iamPrefix = map[string]string{
	"cloudwatchlogs":          "logs",
	"eventbridge":             "events",
	"sfn":                     "states",
	"elasticloadbalancingv2":  "elasticloadbalancing",
	"cognitoidentityprovider": "cognito-idp",
}

// iamAction maps an SDK operation to its IAM action where the two differ.
var iamAction = map[string]string{
	"s3:ListObjectsV2": "s3:ListBucket",
	"s3:HeadObject":    "s3:GetObject",
	"s3:HeadBucket":    "s3:ListBucket",
}

// apiCalls lists the AWS API operations the code of one command can call, as
// IAM actions mapped to where each is declared. It loads every package of
// this module that the command at dir (e.g. "./functions/ensure-repo")
// imports, itself included, and takes
//   - every method of an interface type declared or used in those packages
//     whose signature is an SDK client operation's:
//     (context.Context, *<service>.<Op>Input[, ...func(*<service>.Options)])
//     (*<service>.<Op>Output, error), and
//   - every call of such a method on a concrete SDK client.
//
// Test files are not loaded: their fakes call nothing.
func apiCalls(t *testing.T, dir string) map[string][]string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
		t.Fatalf("reading the code of %s: %v", dir, err)
	}
	module := modulePath(t)
	graph, err := packages.Load(&packages.Config{
		Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps | packages.NeedModule,
		Dir:  root,
	}, dir)
	if err != nil {
		t.Fatalf("listing the packages of %s: %v", dir, err)
	}
	var paths []string
	packages.Visit(graph, nil, func(p *packages.Package) {
		if p.PkgPath == module || strings.HasPrefix(p.PkgPath, module+"/") {
			paths = append(paths, p.PkgPath)
		}
	})
	if n := packages.PrintErrors(graph); n > 0 || len(paths) == 0 {
		t.Fatalf("loading %s: %d errors, %d packages of this module (is the command there?)",
			dir, n, len(paths))
	}
	slices.Sort(paths)

	pkgs, err := packages.Load(&packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedSyntax,
		Dir:  root,
	}, paths...)
	if err != nil {
		t.Fatalf("loading the packages of %s: %v", dir, err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		t.Fatalf("type-checking the packages of %s: %d errors", dir, n)
	}
	calls := map[string][]string{}
	add := func(action string, fset *token.FileSet, pos token.Pos, what string) {
		where := fmt.Sprintf("%s (%s)", what, fset.Position(pos))
		if !slices.Contains(calls[action], where) {
			calls[action] = append(calls[action], where)
		}
	}
	for _, p := range pkgs {
		info := p.TypesInfo
		seen := map[*types.TypeName]bool{}
		for _, objs := range []map[*ast.Ident]types.Object{info.Defs, info.Uses} {
			for _, obj := range objs {
				tn, ok := obj.(*types.TypeName)
				if !ok || seen[tn] {
					continue
				}
				seen[tn] = true
				iface, ok := tn.Type().Underlying().(*types.Interface)
				if !ok {
					continue
				}
				for m := range iface.Methods() {
					if action, ok := operation(m); ok {
						add(action, p.Fset, m.Pos(), tn.Pkg().Name()+"."+tn.Name()+"."+m.Name())
					}
				}
			}
		}
		for id, sel := range info.Selections {
			fn, ok := sel.Obj().(*types.Func)
			if !ok || sel.Kind() != types.MethodVal || !isSDKClient(sel.Recv()) {
				continue
			}
			if action, ok := operation(fn); ok {
				add(action, p.Fset, id.Pos(), "call of "+fn.FullName())
			}
		}
	}
	for _, where := range calls {
		slices.Sort(where)
	}
	return calls
}

// operation returns the IAM action of a method whose signature is that of
// an SDK client operation.
func operation(fn *types.Func) (string, bool) {
	sig, ok := fn.Type().(*types.Signature)
	if !ok {
		return "", false
	}
	params, results := sig.Params(), sig.Results()
	if params.Len() < 2 || params.Len() > 3 || results.Len() != 2 {
		return "", false
	}
	if !isNamed(params.At(0).Type(), "context", "Context") ||
		!isNamed(results.At(1).Type(), "", "error") {
		return "", false
	}
	in, ok := sdkType(params.At(1).Type())
	if !ok || !strings.HasSuffix(in.Obj().Name(), "Input") {
		return "", false
	}
	out, ok := sdkType(results.At(0).Type())
	op := strings.TrimSuffix(in.Obj().Name(), "Input")
	if !ok || out.Obj().Pkg() != in.Obj().Pkg() || out.Obj().Name() != op+"Output" {
		return "", false
	}
	if params.Len() == 3 && !sig.Variadic() {
		return "", false
	}
	svc := strings.TrimPrefix(in.Obj().Pkg().Path(), sdkServicePrefix)
	prefix := svc
	if p, ok := iamPrefix[svc]; ok {
		prefix = p
	}
	action := prefix + ":" + op
	if a, ok := iamAction[action]; ok {
		action = a
	}
	return action, true
}

// sdkType returns the named type a pointer type points to when it is
// declared in an SDK service package (not in its sub-packages).
func sdkType(t types.Type) (*types.Named, bool) {
	ptr, ok := t.(*types.Pointer)
	if !ok {
		return nil, false
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return nil, false
	}
	svc, ok := strings.CutPrefix(named.Obj().Pkg().Path(), sdkServicePrefix)
	return named, ok && svc != "" && !strings.Contains(svc, "/")
}

// isSDKClient reports whether t is an SDK service package's *Client.
func isSDKClient(t types.Type) bool {
	named, ok := sdkType(t)
	return ok && named.Obj().Name() == "Client"
}

// isNamed reports whether t is the named type pkg.name ("" for universe).
func isNamed(t types.Type, pkg, name string) bool {
	var obj *types.TypeName
	switch x := t.(type) {
	case *types.Named:
		obj = x.Obj()
	case *types.Alias:
		obj = x.Obj()
	default:
		return false
	}
	if obj.Name() != name {
		return false
	}
	if pkg == "" {
		return obj.Pkg() == nil
	}
	return obj.Pkg() != nil && obj.Pkg().Path() == pkg
}

// modulePath returns the path of this module.
func modulePath(t *testing.T) string {
	t.Helper()
	cfg := &packages.Config{Mode: packages.NeedModule | packages.NeedName, Dir: "."}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil || len(pkgs) != 1 || pkgs[0].Module == nil {
		t.Fatalf("finding this module: %v", err)
	}
	return pkgs[0].Module.Path
}

// TestAPICallsFromInterfaces checks apiCalls on a fixture package: its
// interfaces, an SDK paginator interface it uses, and a direct client call.
func TestAPICallsFromInterfaces(t *testing.T) {
	got := slices.Sorted(maps.Keys(apiCalls(t, "./internal/stack/testdata/apicalls")))
	want := []string{
		"ecr:DescribeImageScanFindings",
		"ecr:DescribeRepositories",
		"ecr:ListImages",
		"sns:Publish",
		"ssm:GetParameter",
		"ssm:ListTagsForResource",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
