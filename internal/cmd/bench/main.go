// Command bench measures what the stack's functions cost and prints one
// table: the size of each bootstrap as deployed, its cold start beside a
// hello-world aws-lambda-go function, its package-init time, warm latency and
// peak memory under the Lambda Runtime Interface Emulator against moto, the
// AWS calls each kind of invocation makes, the same ensure done with the AWS
// CLI, and the Go benchmarks of the pure packages. It writes the table as
// Markdown to build/bench.md and the raw Go benchmark output, which
// benchstat reads, to build/bench-go.txt.
//
// It starts moto, emulators and bootstraps, and stops all of them before it
// returns, also on error or interrupt. Progress is logged to stderr.
//
//	go run ./internal/cmd/bench [-cold 15] [-warm 50] [-cli 5] [-count 6]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// options are the command-line settings.
type options struct {
	cold      int           // cold starts per bootstrap
	warm      int           // warm invocations per function
	cli       int           // timed runs of the AWS CLI script
	ready     int           // direct runs per bootstrap up to its first request for an event
	count     int           // go test -count
	benchtime string        // go test -benchtime
	out       string        // directory for bench.md and bench-go.txt, relative to the module root
	settle    time.Duration // wait after init before counting network calls
	skipGo    bool          // leave out the Go benchmarks
}

// main parses the flags, runs the measurements and exits non-zero when one
// of them failed; a missed target alone is not a failure.
func main() {
	var o options
	flag.IntVar(&o.cold, "cold", 15, "cold starts per bootstrap under the emulator")
	flag.IntVar(&o.warm, "warm", 50, "warm invocations per function")
	flag.IntVar(&o.cli, "cli", 5, "timed runs of the AWS CLI script")
	flag.IntVar(&o.ready, "ready", 15, "runs per bootstrap up to its first request for an event")
	flag.IntVar(&o.count, "count", 6, "go test -count for the Go benchmarks")
	flag.StringVar(&o.benchtime, "benchtime", "500ms", "go test -benchtime for the Go benchmarks")
	flag.StringVar(&o.out, "out", "build", "directory for bench.md and bench-go.txt")
	flag.DurationVar(&o.settle, "settle", 300*time.Millisecond,
		"wait after init before counting network calls")
	flag.BoolVar(&o.skipGo, "skip-go", false, "leave out the Go benchmarks")
	flag.Parse()

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, log)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// The functions measured, as named under functions/.
const (
	ensureRepo   = "ensure-repo"
	scanNotifier = "scan-notifier"
	hello        = "hello-world"
)

// helloPackage is the hello-world function, the cold-start baseline.
const helloPackage = "./internal/cmd/bench/testdata/hello"

// functions are the stack's functions in table order.
var functions = []string{ensureRepo, scanNotifier}

// packageOf returns the main package of a function.
func packageOf(function string) string {
	if function == hello {
		return helloPackage
	}
	return "./functions/" + function
}

// bench holds the state of one run.
type bench struct {
	opts options
	log  *slog.Logger
	root string // module root
	work string // scratch directory, removed at the end
	tab  table
	errs []error

	// native holds the path of each bootstrap built for this machine, by
	// function; a function that did not build is missing.
	native map[string]string
	// results shared between sections
	warmEnsure     time.Duration // median warm converged ensure
	coldEnsureReal time.Duration // median cold converged ensure
	ensureURI      string        // the URI ensure-repo reported for the converged repository
}

// run measures everything and writes the table, also when a part failed. It
// returns the failures joined.
func run(ctx context.Context, o options, log *slog.Logger) error {
	root, err := localrun.ModuleRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "ecr-stack-bench-")
	if err != nil {
		return fmt.Errorf("creating scratch directory: %w", err)
	}
	defer os.RemoveAll(work)

	b := &bench{opts: o, log: log, root: root, work: work, native: map[string]string{}}
	started := time.Now()
	loadBefore := loadAverage()
	log.Info("bench started", "cpus", runtime.NumCPU(), "load", loadBefore)

	b.section(ctx, "sizes", b.sizes)
	b.section(ctx, "native builds", b.buildNative)
	b.section(ctx, "init", b.initCosts)
	b.section(ctx, "emulator", b.underEmulator)
	if !o.skipGo {
		b.section(ctx, "go benchmarks", b.goBenchmarks)
	}

	b.tab.note("Machine: %s, %d CPUs, %s/%s, %s. Load average %s at the start, %s at the end "+
		"(other work ran at the same time). Took %s.", cpuModel(), runtime.NumCPU(),
		runtime.GOOS, runtime.GOARCH, runtime.Version(), loadBefore, loadAverage(),
		time.Since(started).Round(time.Second))
	b.tab.note("Produced by `make bench` (go run ./internal/cmd/bench) on %s.",
		time.Now().UTC().Format("2006-01-02"))

	if err := b.write(); err != nil {
		b.errs = append(b.errs, err)
	}
	if ms := b.tab.misses(); len(ms) > 0 {
		names := make([]string, len(ms))
		for i, r := range ms {
			names[i] = r.Figure
		}
		log.Warn("targets missed or not measured", "figures", names)
	}
	return errors.Join(b.errs...)
}

// section runs one part of the measurement. A failure is logged, kept for
// the exit status and shown as a row; the next part runs anyway.
func (b *bench) section(ctx context.Context, name string, f func(context.Context) error) {
	if ctx.Err() != nil {
		b.errs = append(b.errs, fmt.Errorf("%s: %w", name, ctx.Err()))
		return
	}
	b.log.Info("section started", "section", name)
	start := time.Now()
	if err := f(ctx); err != nil {
		b.log.Error("section failed", "section", name, "error", err)
		b.fail(name, err)
		return
	}
	b.log.Info("section done", "section", name, "seconds", time.Since(start).Seconds())
}

// fail records err as a row of figure and as a failure of the run.
func (b *bench) fail(figure string, err error) {
	b.errs = append(b.errs, fmt.Errorf("%s: %w", figure, err))
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	b.tab.add(row{Figure: figure, Value: msg, Result: failed})
}

// write prints the table to stdout and writes it to <out>/bench.md.
func (b *bench) write() error {
	var sb strings.Builder
	if err := b.tab.writeMarkdown(&sb); err != nil {
		return err
	}
	fmt.Print(sb.String())

	dir := b.outDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	path := filepath.Join(dir, "bench.md")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	b.log.Info("table written", "path", path)
	return nil
}

// outDir returns the directory the results go to.
func (b *bench) outDir() string {
	if filepath.IsAbs(b.opts.out) {
		return b.opts.out
	}
	return filepath.Join(b.root, b.opts.out)
}
