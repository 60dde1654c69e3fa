package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// Size targets, per bootstrap as deployed.
const (
	maxBinary = 10 * MiB
	maxZipped = 4 * MiB
)

// deployedFlags are the Makefile's BUILD_FLAGS, which sam build uses.
var deployedFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w -buildid="}

// sizes builds each bootstrap as deployed (linux/arm64, stripped) and
// reports its size, zipped size and number of linked modules beside the
// hello-world function's.
func (b *bench) sizes(ctx context.Context) error {
	type size struct {
		binary, zipped int64
		modules        int
	}
	measure := func(function string) (size, error) {
		out := filepath.Join(b.work, "arm64", function, "bootstrap")
		if err := buildDeployed(ctx, b.root, packageOf(function), out); err != nil {
			return size{}, err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return size{}, err
		}
		zipped, err := zipSize(out)
		if err != nil {
			return size{}, err
		}
		bi, err := buildinfo.ReadFile(out)
		if err != nil {
			return size{}, fmt.Errorf("reading build info of %q: %w", out, err)
		}
		return size{binary: fi.Size(), zipped: zipped, modules: len(bi.Deps)}, nil
	}

	b.log.Info("building for arm64", "function", hello)
	base, err := measure(hello)
	if err != nil {
		return err
	}
	for _, fn := range functions {
		b.log.Info("building for arm64", "function", fn)
		s, err := measure(fn)
		if err != nil {
			b.fail("size: "+fn, err)
			continue
		}
		b.tab.add(
			row{
				Figure: "size: " + fn + " bootstrap (linux/arm64, stripped)",
				Value:  fmtMiB(s.binary), Target: "≤ 10 MiB", Result: verdict(s.binary <= maxBinary),
				Ratio: fmtRatio(float64(s.binary)/float64(base.binary)) + " hello-world",
			},
			row{
				Figure: "size: " + fn + " zipped (deflate)",
				Value:  fmtMiB(s.zipped), Target: "≤ 4 MiB", Result: verdict(s.zipped <= maxZipped),
				Ratio: fmtRatio(float64(s.zipped)/float64(base.zipped)) + " hello-world",
			},
		)
		b.tab.note("%s links %d modules (hello-world: %d); `go version -m` on the bootstrap "+
			"lists them.", fn, s.modules, base.modules)
	}
	b.tab.add(row{
		Figure: "size: hello-world bootstrap, for comparison (zipped)",
		Value:  fmt.Sprintf("%s (%s)", fmtMiB(base.binary), fmtMiB(base.zipped)),
		Result: info,
	})
	return nil
}

// buildDeployed builds pkg the way the Makefile's build-<LogicalId> targets
// do for Lambda: linux/arm64, CGO off, the Makefile's flags.
func buildDeployed(ctx context.Context, root, pkg, out string) error {
	args := append([]string{"build"}, deployedFlags...)
	args = append(args, "-o", out, pkg)
	cmd := inGroup(exec.CommandContext(ctx, "go", args...))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %q for linux/arm64: %w: %s", pkg, err, bytes.TrimSpace(b))
	}
	return nil
}

// zipSize returns the size of the archive zipBootstrap makes of path.
func zipSize(path string) (int64, error) {
	b, err := zipBootstrap(path)
	return int64(len(b)), err
}

// zipBootstrap returns a zip archive holding the file at path as an
// executable named bootstrap, compressed with deflate, as a Lambda
// deployment package is.
func zipBootstrap(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zipping %q: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("zipping %q: %w", path, err)
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h, err := zip.FileInfoHeader(fi)
	if err != nil {
		return nil, fmt.Errorf("zipping %q: %w", path, err)
	}
	h.Name = "bootstrap"
	h.Method = zip.Deflate
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zipping %q: %w", path, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return nil, fmt.Errorf("zipping %q: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zipping %q: %w", path, err)
	}
	return buf.Bytes(), nil
}

// buildNative builds every bootstrap for this machine, as the emulator runs
// them. A function that does not build is reported and left out of what
// follows.
func (b *bench) buildNative(ctx context.Context) error {
	for _, fn := range append([]string{hello}, functions...) {
		b.log.Info("building for this machine", "function", fn)
		out := filepath.Join(b.work, "native", fn, "bootstrap")
		path, err := buildNative(ctx, packageOf(fn), out)
		if err != nil {
			if fn == hello {
				return err
			}
			b.fail("build: "+fn, err)
			continue
		}
		b.native[fn] = path
	}
	return nil
}

// buildNative builds pkg into out for this machine, as localrun does for the
// emulator, and returns its absolute path.
func buildNative(ctx context.Context, pkg, out string) (string, error) {
	return localrun.BuildPackage(ctx, pkg, out)
}
