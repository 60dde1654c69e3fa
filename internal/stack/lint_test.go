package stack

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// templates returns template.yaml and every example stack.
func templates(t *testing.T) []string {
	t.Helper()
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(examples) == 0 {
		t.Fatal("got no examples/*.yaml, want the example consumer stacks")
	}
	return append([]string{filepath.Join(root, "template.yaml")}, examples...)
}

// TestCfnLint runs cfn-lint on the template and the examples. Warnings fail
// too: a check that must be ignored is ignored in the template's metadata,
// with its reason in a comment (TestLintIgnoresExplained).
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint not found: install it with pip install cfn-lint")
	}
	files := templates(t)
	// One run for every file: cfn-lint takes seconds to start.
	cmd := exec.Command(bin, append([]string{"--format", "parseable"}, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("cfn-lint %s: %v\n%s", strings.Join(files, " "), err, out.String())
	}
	if s := strings.TrimSpace(out.String()); s != "" {
		t.Errorf("cfn-lint printed findings, want none:\n%s", s)
	}
}

// TestLintIgnoresExplained checks that every cfn-lint check ignored in a
// template carries its reason in a comment on the same or the previous line.
func TestLintIgnoresExplained(t *testing.T) {
	for _, file := range templates(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			prev, n := "", 0
			for sc.Scan() {
				n++
				line := sc.Text()
				if strings.Contains(line, "ignore_checks") || strings.Contains(line, "cfn-lint-disable") {
					explained := strings.Contains(line, "#") ||
						strings.HasPrefix(strings.TrimSpace(prev), "#")
					if !explained {
						t.Errorf("line %d ignores a cfn-lint check without a reason in a comment", n)
					}
				}
				prev = line
			}
		})
	}
}
