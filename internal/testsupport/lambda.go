package testsupport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// buildTimeout bounds one build of a bootstrap; a cold build cache makes the
// first one slow.
const buildTimeout = 5 * time.Minute

// builds holds one build per package for the life of the test binary.
var builds sync.Map // package path -> *build

// build is the outcome of building one package.
type build struct {
	once sync.Once
	path string
	err  error
}

// Bootstrap builds the function in ./functions/<function> once per test binary
// and returns the path of its bootstrap. See BootstrapPackage.
func Bootstrap(t testing.TB, function string) string {
	t.Helper()
	return BootstrapPackage(t, "./functions/"+function)
}

// BootstrapPackage builds the main package pkg, a path relative to the module
// root such as "./functions/ensure-repo", once per test binary, the way
// localrun.BuildPackage does, and returns the path of the executable. Its
// directory is named after pkg's last element, which the emulator uses as the
// function name. The executable lives in a directory under os.TempDir shared
// by every test binary of the module and is replaced atomically, so test
// binaries running at once do not disturb each other.
func BootstrapPackage(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		b.path, b.err = buildShared(pkg)
	})
	if b.err != nil {
		t.Fatalf("%v", b.err)
	}
	return b.path
}

// buildShared builds pkg to a fresh name and renames it over the shared path.
func buildShared(pkg string) (string, error) {
	root, err := localrun.ModuleRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	rel := filepath.FromSlash(strings.TrimPrefix(pkg, "./"))
	dir := filepath.Join(os.TempDir(), "ecr-stack-bootstrap-"+hex.EncodeToString(sum[:6]), rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	built, err := localrun.BuildPackage(ctx, pkg, filepath.Join(tmp, "bootstrap"))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "bootstrap")
	if err := os.Rename(built, path); err != nil {
		return "", err
	}
	return path, nil
}

// Emulator starts the emulator for bootstrap and closes it when the test ends;
// if the test failed, it first logs what the function wrote. env holds
// KEY=VALUE pairs for the function, added after static credentials
// (AccessKeyID, SecretAccessKey); a later pair wins, so
// "AWS_LAMBDA_FUNCTION_TIMEOUT=3" sets a 3-second function timeout. The
// function reaches moto only if env says so, e.g. "AWS_ENDPOINT_URL="+m.URL.
func Emulator(t testing.TB, bootstrap string, env ...string) *localrun.Emulator {
	t.Helper()
	return EmulatorWith(t, localrun.EmulatorConfig{Bootstrap: bootstrap, Env: env})
}

// EmulatorWith is Emulator with every setting of localrun.EmulatorConfig.
// Static credentials come before cfg.Env.
func EmulatorWith(t testing.TB, cfg localrun.EmulatorConfig) *localrun.Emulator {
	t.Helper()
	cfg.Env = append([]string{
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
	}, cfg.Env...)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := localrun.StartEmulator(ctx, cfg)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		if t.Failed() {
			t.Logf("function logs:\n%s", e.Logs())
			if out := e.Output(); len(out) > 0 {
				t.Logf("emulator output:\n%s", out)
			}
		}
	})
	return e
}
