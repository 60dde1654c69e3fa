package stack

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dependentActions lists, for an action the code calls, the actions AWS
// authorizes with the caller's permissions while serving that call. They
// appear in no interface, yet the call fails without them.
var dependentActions = map[string][]string{
	// For repositories under enhanced scanning, ECR answers from Amazon
	// Inspector with the caller's permissions.
	"ecr:DescribeImageScanFindings": {"inspector2:ListFindings"},
}

// wildcardOnly lists the actions that have no resource-level permissions:
// their statements must use Resource "*".
var wildcardOnly = map[string]string{
	"inspector2:ListFindings":   "ListFindings has no resource type",
	"ecr:GetAuthorizationToken": "the token is for the registry, not a repository",
}

// kmsThrough maps each service that uses KMS keys with the function's
// permissions (a kms:ViaService condition names it) to the action of the code
// that makes it do so. KMS actions are checked this way rather than against
// the code, which never calls KMS itself: ECR describes the key and creates
// grants when it creates an encrypted repository, SNS generates data keys
// when it takes a message for an encrypted topic.
var kmsThrough = map[string]string{
	"ecr": "ecr:CreateRepository",
	"sns": "sns:Publish",
}

// scenarios are the parameter sets the IAM tests resolve the template with:
// each branch of the template's conditions that changes a policy.
var scenarios = []struct {
	name   string
	params map[string]string
}{
	{name: "defaults"},
	{name: "two prefixes", params: map[string]string{
		"AllowedRepositoryPrefixes": "team-a/,team-b/",
		"ParameterPrefix":           "/platform/ecr",
	}},
	{name: "five prefixes", params: map[string]string{
		"AllowedRepositoryPrefixes": "a/,b/,c-,d.,e",
	}},
	{name: "existing topic", params: map[string]string{
		"ExistingTopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
	}},
	{name: "existing topic with key", params: map[string]string{
		"ExistingTopicArn":      "arn:aws:sns:us-east-1:123456789012:alerts-encrypted",
		"ExistingTopicKmsKeyId": "11111111-2222-3333-4444-555555555555",
	}},
}

// functionCommands maps each function of the template to the directory of
// its command, read from the Makefile's build-<LogicalId> target that sam
// build runs.
func functionCommands(t *testing.T, tmpl *Template) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for id, res := range tmpl.Resources {
		if res.Type != TypeFunction {
			continue
		}
		re := regexp.MustCompile(`(?m)^build-` + id +
			`:.*\n(?:\t.*\n)*?\t.*\s(\./functions/[A-Za-z0-9_-]+)`)
		m := re.FindSubmatch(data)
		if m == nil {
			t.Fatalf("the Makefile has no build-%s target that builds ./functions/<name>", id)
		}
		out[id] = string(m[1])
	}
	if len(out) == 0 {
		t.Fatal("got no functions in the template")
	}
	return out
}

// TestIAMMatchesCode checks that each function's policies allow exactly the
// AWS API calls its code can make, as its interfaces declare them: a call
// without a permission fails, and so does a permission nothing calls. The
// actions AWS checks during a call (dependentActions) belong to the call;
// KMS actions must be limited to a service the code calls.
func TestIAMMatchesCode(t *testing.T) {
	tmpl := loadTemplate(t)
	commands := functionCommands(t, tmpl)
	for _, fn := range slices.Sorted(maps.Keys(commands)) {
		t.Run(fn, func(t *testing.T) {
			calls := apiCalls(t, commands[fn])
			t.Logf("%s (%s) calls %v", fn, commands[fn], slices.Sorted(maps.Keys(calls)))
			want := map[string]string{}
			for action, where := range calls {
				want[action] = strings.Join(where, ", ")
				for _, dep := range dependentActions[action] {
					want[dep] = "needed by " + action
				}
			}
			granted := map[string]string{}
			for _, sc := range scenarios {
				stmts, err := tmpl.Statements(fn, deployedResolver(t, tmpl, sc.params))
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range stmts {
					if st.Effect != "Allow" {
						t.Errorf("%s: statement %q has effect %q, want Allow", sc.name, st.Sid, st.Effect)
					}
					for _, a := range st.Actions {
						if strings.ContainsAny(a, "*?") {
							t.Errorf("%s: statement %q allows %q, want exact actions", sc.name, st.Sid, a)
						}
						if strings.HasPrefix(a, "kms:") {
							checkKMS(t, sc.name, st, calls)
							continue
						}
						granted[a] = st.Sid
					}
				}
			}
			for _, a := range slices.Sorted(maps.Keys(want)) {
				if _, ok := granted[a]; !ok {
					t.Errorf("the code calls %s (%s), but %s's policies do not allow it", a, want[a], fn)
				}
			}
			for _, a := range slices.Sorted(maps.Keys(granted)) {
				if _, ok := want[a]; !ok {
					t.Errorf("%s's statement %q allows %s, but the code never calls it", fn, granted[a], a)
				}
			}
		})
	}
}

// checkKMS checks that a statement with KMS actions is limited, by
// kms:ViaService, to services that the code makes use the key.
func checkKMS(t *testing.T, scenario string, st Statement, calls map[string][]string) {
	t.Helper()
	eq, _ := st.Condition["StringEquals"].(map[string]any)
	via, _ := eq["kms:ViaService"].(string)
	svc, ok := strings.CutSuffix(via, ".us-east-1.amazonaws.com")
	if !ok {
		t.Errorf("%s: KMS statement %q has kms:ViaService %q, want one service of this Region",
			scenario, st.Sid, via)
		return
	}
	action, ok := kmsThrough[svc]
	if !ok {
		t.Errorf("%s: KMS statement %q is for %s, which is not known to use keys for the caller",
			scenario, st.Sid, svc)
		return
	}
	if _, ok := calls[action]; !ok {
		t.Errorf("%s: KMS statement %q is for %s, but the code never calls %s",
			scenario, st.Sid, svc, action)
	}
}

// TestIAMScope checks the resources of each statement: no "*" unless an
// action has no resource-level permissions; ARNs of this account and Region
// only; repositories under the allowed prefixes, parameters under the prefix,
// the alert topic and its key.
func TestIAMScope(t *testing.T) {
	tmpl := loadTemplate(t)
	const arn = "arn:aws:%s:us-east-1:123456789012:%s"
	repo := func(p string) string { return fmt.Sprintf(arn, "ecr", "repository/"+p+"*") }
	keyOf := func(id string) string { return fmt.Sprintf(arn, "kms", "key/"+id) }
	alertKey, err := fakeAttribute("AWS::KMS::Key", "AlertKey", "Arn")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scenario, function, sid string
		want                    []string // nil: the statement does not exist
	}{
		{"defaults", ensureRepo, "Repositories", []string{repo("")}},
		{"two prefixes", ensureRepo, "Repositories", []string{repo("team-a/"), repo("team-b/")}},
		{"five prefixes", ensureRepo, "Repositories",
			[]string{repo("a/"), repo("b/"), repo("c-"), repo("d."), repo("e")}},
		{"defaults", ensureRepo, "UriParameters",
			[]string{fmt.Sprintf(arn, "ssm", "parameter/ecr/repositories/*")}},
		{"two prefixes", ensureRepo, "UriParameters",
			[]string{fmt.Sprintf(arn, "ssm", "parameter/platform/ecr/*")}},
		{"defaults", ensureRepo, "RepositoryKeysThroughEcr", []string{keyOf("*")}},
		{"defaults", scanNotifier, "ScanFindings", []string{repo("")}},
		{"two prefixes", scanNotifier, "ScanFindings", []string{repo("")}},
		{"defaults", scanNotifier, "Alerts", []string{fmt.Sprintf(arn, "sns", "AlertTopic")}},
		{"existing topic", scanNotifier, "Alerts", []string{fmt.Sprintf(arn, "sns", "alerts")}},
		{"defaults", scanNotifier, "AlertKeyThroughSns", []string{alertKey}},
		{"existing topic", scanNotifier, "AlertKeyThroughSns", nil},
		{"existing topic with key", scanNotifier, "AlertKeyThroughSns",
			[]string{keyOf("11111111-2222-3333-4444-555555555555")}},
	}
	for _, sc := range scenarios {
		for _, fn := range []string{ensureRepo, scanNotifier} {
			t.Run(sc.name+"/"+fn, func(t *testing.T) {
				stmts, err := tmpl.Statements(fn, deployedResolver(t, tmpl, sc.params))
				if err != nil {
					t.Fatal(err)
				}
				bySid := map[string]Statement{}
				for _, st := range stmts {
					if st.Sid == "" {
						t.Errorf("a statement allowing %v has no Sid", st.Actions)
					}
					bySid[st.Sid] = st
					checkResources(t, st)
				}
				for _, tt := range tests {
					if tt.scenario != sc.name || tt.function != fn {
						continue
					}
					st, ok := bySid[tt.sid]
					switch {
					case !ok && tt.want != nil:
						t.Errorf("got no statement %q, want one on %v", tt.sid, tt.want)
					case ok && tt.want == nil:
						t.Errorf("got statement %q on %v, want none", tt.sid, st.Resources)
					case ok && !slices.Equal(st.Resources, tt.want):
						t.Errorf("statement %q: got resources %v, want %v", tt.sid, st.Resources, tt.want)
					}
				}
			})
		}
	}
}

// checkResources checks one statement's resources for scope.
func checkResources(t *testing.T, st Statement) {
	t.Helper()
	if len(st.Resources) == 0 {
		t.Errorf("statement %q has no resources", st.Sid)
	}
	for _, r := range st.Resources {
		if r == "*" {
			for _, a := range st.Actions {
				if _, ok := wildcardOnly[a]; !ok {
					t.Errorf("statement %q allows %s on \"*\", want the resources it touches", st.Sid, a)
				}
			}
			continue
		}
		parts := strings.SplitN(r, ":", 6)
		if len(parts) != 6 || parts[3] != "us-east-1" || parts[4] != "123456789012" {
			t.Errorf("statement %q names %q, want an ARN of this account and Region", st.Sid, r)
		}
		if strings.HasSuffix(parts[len(parts)-1], ":*") || parts[len(parts)-1] == "*" {
			t.Errorf("statement %q names %q, want a resource type before any wildcard", st.Sid, r)
		}
	}
}
