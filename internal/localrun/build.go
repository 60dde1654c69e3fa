package localrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// ModuleRoot returns the directory of the go.mod that governs the working
// directory, found by walking up from it.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding module root: %w", err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("finding module root: no go.mod in %q or above", dir)
		}
		d = parent
	}
}

// Build compiles the function in ./functions/<function> of the module that
// governs the working directory into outDir/<function>/bootstrap and returns
// that path. See BuildPackage for how.
func Build(ctx context.Context, function, outDir string) (string, error) {
	out := filepath.Join(outDir, function, "bootstrap")
	return BuildPackage(ctx, "./functions/"+function, out)
}

// BuildPackage compiles the main package pkg, a path relative to the module
// root such as "./functions/ensure-repo", into the executable out, the way
// the stack builds its functions: for Linux and this machine's architecture,
// with CGO_ENABLED=0, -tags lambda.norpc, -trimpath and stripped symbols. The
// result runs under the emulator on this machine; Lambda's arm64 build is the
// Makefile's business. It returns out as an absolute path.
func BuildPackage(ctx context.Context, pkg, out string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("building %q: %w", pkg, err)
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("building %q: %w", pkg, err)
	}

	cmd := exec.CommandContext(ctx, "go", "build",
		"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid=",
		"-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %q: %w: %s", pkg, err, bytes.TrimSpace(b))
	}
	return out, nil
}

// rie caches the path of the emulator binary for the life of the process.
var rie struct {
	mu   sync.Mutex
	path string
}

// emulatorBinary returns the path of the Lambda Runtime Interface Emulator:
// the file named by RIE_BINARY if set, otherwise the tool pinned in go.mod,
// built once into Go's build cache by `go tool -n`.
func emulatorBinary(ctx context.Context) (string, error) {
	if p := os.Getenv("RIE_BINARY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("finding emulator from RIE_BINARY: %w", err)
		}
		return p, nil
	}

	rie.mu.Lock()
	defer rie.mu.Unlock()
	if rie.path != "" {
		if _, err := os.Stat(rie.path); err == nil {
			return rie.path, nil
		}
	}

	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("finding emulator: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", "aws-lambda-rie")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building emulator: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	p := strings.TrimSpace(string(b))
	if p == "" {
		return "", errors.New("building emulator: go tool -n printed no path")
	}
	rie.path = p
	return p, nil
}
