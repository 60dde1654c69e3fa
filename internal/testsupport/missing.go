package testsupport

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// missingEnv marks the child process FailsWithoutMoto starts.
const missingEnv = "ECR_STACK_WITHOUT_MOTO"

// FailsWithoutMoto runs the test called name of this test binary again, in a
// child process whose PATH holds no moto_server, and fails t unless that test
// fails, rather than skips or passes, with the hint that says how to install
// moto. Called in that child process it does nothing.
func FailsWithoutMoto(t *testing.T, name string) {
	t.Helper()
	if os.Getenv(missingEnv) != "" {
		return
	}

	var path []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "moto_server")); err != nil {
			path = append(path, dir)
		}
	}
	run := "-test.run=^" + regexp.QuoteMeta(name) + "$"
	cmd := exec.Command(os.Args[0], run, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PATH="+strings.Join(path, string(filepath.ListSeparator)),
		missingEnv+"=1")
	out, err := cmd.CombinedOutput()

	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("got %v from %s without moto, want it to fail; output:\n%s", err, name, out)
	}
	const hint = `moto_server not found: install it with pip install "moto[server]"`
	if !strings.Contains(string(out), hint) {
		t.Errorf("got output without the install hint %q:\n%s", hint, out)
	}
	if !strings.Contains(string(out), "--- FAIL: "+name) {
		t.Errorf("got output without \"--- FAIL: %s\":\n%s", name, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Errorf("got a skipped test without moto, want a failure:\n%s", out)
	}
}
