package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchResult gathers the samples of one Go benchmark over -count runs.
type benchResult struct {
	// Package is the import path of the benchmark's package.
	Package string
	// Name is the benchmark's full name without the GOMAXPROCS suffix, such
	// as "BenchmarkRender/findings=10000".
	Name string
	// NsPerOp, BytesPerOp and AllocsPerOp hold one value per run; the last
	// two are empty without -benchmem.
	NsPerOp, BytesPerOp, AllocsPerOp []float64
}

// Short names the benchmark for a table: the package's last element and the
// name without its "Benchmark" prefix, e.g. "alert.Render/findings=10000".
func (r benchResult) Short() string {
	return path.Base(r.Package) + "." + strings.TrimPrefix(r.Name, "Benchmark")
}

// procsSuffix is the "-N" that go test appends to a benchmark's name when
// GOMAXPROCS is not 1.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBenchOutput reads the output of go test -bench, in the format
// benchstat reads, and returns one result per benchmark in order of first
// appearance.
func parseBenchOutput(r io.Reader) ([]benchResult, error) {
	var (
		pkg     string
		order   []string
		results = map[string]*benchResult{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fields := strings.Fields(line)
		// name, iterations, then value-unit pairs.
		if len(fields) < 4 || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			continue
		}
		name := procsSuffix.ReplaceAllString(fields[0], "")
		key := pkg + " " + name
		res, ok := results[key]
		if !ok {
			res = &benchResult{Package: pkg, Name: name}
			results[key] = res
			order = append(order, key)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("parsing %q in benchmark line %q: %w", fields[i], line, err)
			}
			switch fields[i+1] {
			case "ns/op":
				res.NsPerOp = append(res.NsPerOp, v)
			case "B/op":
				res.BytesPerOp = append(res.BytesPerOp, v)
			case "allocs/op":
				res.AllocsPerOp = append(res.AllocsPerOp, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading benchmark output: %w", err)
	}
	out := make([]benchResult, 0, len(order))
	for _, k := range order {
		out = append(out, *results[k])
	}
	return out, nil
}

// Rendering targets for an alert of renderTargetFindings findings.
const (
	renderTargetFindings = 10000
	maxRenderTime        = 50 * time.Millisecond
	maxRenderBytes       = 20 * MiB
)

// goBenchmarks runs the Go benchmarks of every package under internal/ that
// has some, keeps the raw output in <out>/bench-go.txt and adds a row per
// benchmark with the medians over the runs.
func (b *bench) goBenchmarks(ctx context.Context) error {
	pkgs, err := benchmarkPackages(filepath.Join(b.root, "internal"))
	if err != nil {
		return err
	}
	if len(pkgs) == 0 {
		return errors.New("no package under internal/ has a benchmark")
	}
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchmem",
		"-count", strconv.Itoa(b.opts.count), "-benchtime", b.opts.benchtime}
	args = append(args, pkgs...)
	b.log.Info("running go benchmarks", "packages", pkgs)
	cmd := inGroup(exec.CommandContext(ctx, "go", args...))
	cmd.Dir = b.root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	dir := b.outDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing benchmark output: %w", err)
	}
	raw := filepath.Join(dir, "bench-go.txt")
	if err := os.WriteFile(raw, stdout.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing benchmark output: %w", err)
	}
	results, err := parseBenchOutput(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		return err
	}
	if runErr != nil {
		err := fmt.Errorf("running go %s: %w: %s", strings.Join(args, " "), runErr,
			tailBytes(append(stdout.Bytes(), stderr.Bytes()...), 1500))
		if len(results) == 0 {
			return err
		}
		b.fail("go benchmarks", err)
	}

	for _, r := range results {
		ns := medianFloat(r.NsPerOp)
		bytesOp := medianFloat(r.BytesPerOp)
		row := row{
			Figure: fmt.Sprintf("go bench: %s (median of %d)", r.Short(), len(r.NsPerOp)),
			Value: fmt.Sprintf("%s/op · %s/op · %s allocs/op", fmtNs(ns), fmtBytes(bytesOp),
				fmtCount(int64(medianFloat(r.AllocsPerOp)))),
			Result: info,
		}
		if path.Base(r.Package) == "alert" &&
			r.Name == fmt.Sprintf("BenchmarkRender/findings=%d", renderTargetFindings) {
			row.Target = "≤ 50 ms, ≤ 20 MiB"
			row.Result = verdict(ns <= float64(maxRenderTime) && bytesOp <= maxRenderBytes)
		}
		b.tab.add(row)
	}
	b.tab.note("Go benchmarks: `go test -run '^$' -bench . -benchmem -count %d -benchtime %s "+
		"%s`; raw output, which benchstat reads, in %s.", b.opts.count, b.opts.benchtime,
		strings.Join(pkgs, " "), filepath.Join(b.opts.out, "bench-go.txt"))
	return nil
}

// benchmarkPackages returns, as ./-relative paths from the module root, the
// packages under dir whose test files declare a benchmark. internal/cmd is
// left out.
func benchmarkPackages(dir string) ([]string, error) {
	root := filepath.Dir(dir)
	seen := map[string]bool{}
	var pkgs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if name == "testdata" || strings.HasPrefix(name, ".") ||
				p == filepath.Join(dir, "cmd") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte("\nfunc Benchmark")) {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := "./" + filepath.ToSlash(rel)
		if !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding benchmarks under %q: %w", dir, err)
	}
	slices.Sort(pkgs)
	return pkgs, nil
}

// fmtNs formats nanoseconds per operation, e.g. "850 ns", "12.3 µs", "4.21 ms".
func fmtNs(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmtMsFloat(ns / 1e6)
}

// fmtBytes formats a byte count per operation, e.g. "512 B", "12.4 KiB",
// "4.51 MiB".
func fmtBytes(n float64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%.0f B", n)
	case n < MiB:
		return fmt.Sprintf("%.1f KiB", n/1024)
	}
	return fmt.Sprintf("%.2f MiB", n/MiB)
}
