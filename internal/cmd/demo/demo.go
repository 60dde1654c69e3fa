package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// The settings of template.yaml's Globals that the emulator reproduces.
const (
	functionTimeout  = 60 * time.Second
	functionMemoryMB = 256
)

// Names of what the demo creates in moto.
const (
	responseBucket = "ecr-stack-demo-responses"
	topicName      = "ecr-scan-alerts"
	queueName      = "ecr-scan-alerts-subscriber"
)

// alertWait bounds the wait for the alert to reach the subscribed queue.
const alertWait = 30 * time.Second

// The sample events the demo sends, relative to the module root.
const (
	envFile          = "events/env.json"
	createEvent      = "events/ensure-repo-create.json"
	selfServiceEvent = "events/ensure-repo-self-service.json"
	scanEvent        = "events/scan-notifier-ecr-scan-complete.json"
)

// demo is one run of the demo.
type demo struct {
	// out receives the demo's report.
	out io.Writer
	// root is the module root; event files are read below it.
	root string
	// buildDir receives <function>/bootstrap; logDir the functions' logs.
	buildDir, logDir string
	// moto, if set, is used instead of a moto_server of the demo's own, and
	// left running; ownMoto reports that the demo started moto itself.
	moto    *localrun.Moto
	ownMoto bool

	p       *printer
	aws     aws.Config
	boot    map[localrun.Function]string
	closers []func()

	// repositoryARN and registryID describe the repository CloudFormation
	// asked for, once shown.
	repositoryARN, registryID string

	// outcome is what the demo found, for its test.
	outcome outcome
}

// outcome is what a run of the demo established.
type outcome struct {
	// Told is the answer the custom resource PUT to its ResponseURL.
	Told cfnAnswer
	// Repository and URI name the repository CloudFormation asked for;
	// Parameter is where its URI was stored, and ParameterValue what a user
	// read there.
	Repository, URI, Parameter, ParameterValue string
	// SelfService is the self-service request's result; SelfServiceValue
	// the URI read from its parameter.
	SelfService      selfServiceResult
	SelfServiceValue string
	// Alert is what the subscriber of the topic received.
	Alert localrun.Notification
}

// run runs every step, stops what it started and reports.
func (d *demo) run(ctx context.Context) error {
	d.p = &printer{w: d.out}
	defer d.stop()

	err := d.steps(ctx)
	d.stop()
	if err != nil {
		return err
	}
	d.p.section("Done")
	d.p.line("The functions' JSON logs, one line per step:")
	for _, f := range localrun.Functions() {
		d.p.line("  %s", d.rel(d.logPath(f)))
	}
	if d.ownMoto {
		d.p.line("Stopped the emulators and moto.")
	} else {
		d.p.line("Stopped the emulators.")
	}
	return d.p.err
}

// steps runs the demo's steps in order.
func (d *demo) steps(ctx context.Context) error {
	d.p.title("ecr-stack demo: both functions under the Lambda Runtime Interface Emulator, " +
		"against moto")
	if err := d.start(ctx); err != nil {
		return err
	}
	ensure, err := d.emulator(ctx, localrun.EnsureRepo)
	if err != nil {
		return err
	}
	if err := d.customResource(ctx, ensure); err != nil {
		return err
	}
	if err := d.showRepository(ctx); err != nil {
		return err
	}
	if err := d.selfService(ctx, ensure); err != nil {
		return err
	}
	return d.scan(ctx)
}

// start builds both bootstraps and starts moto, at the same time.
func (d *demo) start(ctx context.Context) error {
	d.p.section("Building the bootstraps and starting moto")
	g, gctx := errgroup.WithContext(ctx)
	functions := localrun.Functions()
	paths := make([]string, len(functions))
	for i, f := range functions {
		g.Go(func() error {
			p, err := localrun.Build(gctx, f.Dir, d.buildDir)
			paths[i] = p
			return err
		})
	}
	d.ownMoto = d.moto == nil
	if d.ownMoto {
		g.Go(func() error {
			m, err := localrun.StartMoto(gctx)
			d.moto = m
			return err
		})
	}
	err := g.Wait()
	if d.ownMoto && d.moto != nil {
		m := d.moto
		d.closers = append(d.closers, func() { m.Close() })
	}
	if err != nil {
		return err
	}

	d.boot = map[localrun.Function]string{}
	for i, f := range functions {
		d.boot[f] = paths[i]
		d.p.line("built %s", d.rel(paths[i]))
	}
	d.p.line("moto_server listening on %s", d.moto.URL)
	d.aws = d.moto.Config()
	return nil
}

// emulator starts the emulator for f with f's section of the env-vars file,
// pointed at moto, writing the function's logs to its file under logDir.
// extra pairs go after the env-vars file's.
func (d *demo) emulator(ctx context.Context, f localrun.Function, extra ...string) (
	*localrun.Emulator, error) {
	env, err := localrun.ReadEnvFile(filepath.Join(d.root, envFile), f.LogicalID)
	if err != nil {
		return nil, err
	}
	env = append(append(env, extra...), d.moto.Env()...)

	if err := os.MkdirAll(d.logDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	log, err := os.Create(d.logPath(f))
	if err != nil {
		return nil, fmt.Errorf("creating log file: %w", err)
	}
	e, err := localrun.StartEmulator(ctx, localrun.EmulatorConfig{
		Bootstrap: d.boot[f],
		Env:       env,
		Timeout:   functionTimeout,
		MemoryMB:  functionMemoryMB,
		Stdout:    log,
		Stderr:    log,
	})
	if err != nil {
		log.Close()
		return nil, err
	}
	d.closers = append(d.closers, func() {
		e.Close()
		log.Close()
	})
	return e, nil
}

// invoke sends the event to the function f running in e. A function error
// names the log file to read.
func (d *demo) invoke(ctx context.Context, e *localrun.Emulator, f localrun.Function,
	event []byte) ([]byte, error) {
	body, err := e.Invoke(ctx, event)
	var fe *localrun.FunctionError
	if errors.As(err, &fe) {
		return body, fmt.Errorf("invoking %s: %w (its logs: %s)", f.Dir, err, d.rel(d.logPath(f)))
	}
	if err != nil {
		return body, fmt.Errorf("invoking %s: %w", f.Dir, err)
	}
	return body, nil
}

// stop closes what the demo started, the last first. Calling it again does
// nothing.
func (d *demo) stop() {
	for _, c := range slices.Backward(d.closers) {
		c()
	}
	d.closers = nil
}

// logPath returns the path of f's log file.
func (d *demo) logPath(f localrun.Function) string {
	return filepath.Join(d.logDir, f.Dir+".log")
}

// rel returns path relative to the module root when it lies below it.
func (d *demo) rel(path string) string {
	r, err := filepath.Rel(d.root, path)
	if err != nil || !filepath.IsLocal(r) {
		return path
	}
	return r
}

// readEvent reads the sample event name, a path relative to the module root.
func (d *demo) readEvent(name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.root, name))
	if err != nil {
		return nil, fmt.Errorf("reading event: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("reading event %q: not JSON", name)
	}
	return b, nil
}
