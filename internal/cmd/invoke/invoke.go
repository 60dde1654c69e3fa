package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ecr-stack/ecr-stack/internal/localrun"
)

// usageText heads the help that -h prints.
const usageText = `usage: invoke -function NAME -event FILE [flags]

Runs the event in FILE through the bootstrap of the function NAME under the
Lambda Runtime Interface Emulator, as Lambda would: sam local invoke without
Docker. NAME is ensure-repo or scan-notifier, or the template's logical id
EnsureRepoFunction or ScanNotifierFunction. The bootstrap is built for this
machine first.

The function runs with the caller's AWS credentials and Region, resolved the
way the AWS CLI resolves them (environment variables, AWS_PROFILE and the
shared config files, SSO, ...), and with its section of the env-vars file.
When AWS_ENDPOINT_URL is set it is passed on, so the function calls that
endpoint (such as moto) instead of AWS.

The function's response goes to standard output, its logs to standard error.
The exit status is 1 when the function returns an error.

A CloudFormation request's ResponseURL is used as it is: the function PUTs
its answer there, which works with a URL CloudFormation made. The samples in
events/ carry an example URL that accepts nothing; against moto, add
-response-bucket to replace it with a pre-signed URL on moto's S3 and print
the answer read back from it.

Flags:
`

// Defaults of the flags, the timeout and memory as in template.yaml's
// Globals.
const (
	defaultEnvFile  = "events/env.json"
	defaultTimeout  = 60 * time.Second
	defaultMemoryMB = 256
)

// responseBucket is the moto bucket -response-bucket creates.
const responseBucket = "ecr-stack-invoke-responses"

// options are the parsed command line.
type options struct {
	function localrun.Function
	event    string
	// envFile is the env-vars file; envFileSet reports that the caller named
	// it, which makes a missing file an error.
	envFile    string
	envFileSet bool
	// buildDir receives <function>/bootstrap; "" means build/ under the
	// module root.
	buildDir       string
	timeout        time.Duration
	responseBucket bool
}

// usageError is a command line that cannot be run.
type usageError struct{ msg string }

// Error returns the message.
func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseArgs parses the command line. -h returns flag.ErrHelp after printing
// the help to stderr.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	var function string
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&function, "function", "",
		"the function: ensure-repo, scan-notifier, EnsureRepoFunction or ScanNotifierFunction")
	fs.StringVar(&o.event, "event", "", "the file holding the event, JSON")
	fs.StringVar(&o.envFile, "env-vars", defaultEnvFile,
		"the env-vars file, as for sam local invoke --env-vars: the function's section is added "+
			"to its environment; a missing default file is ignored")
	fs.StringVar(&o.buildDir, "build-dir", "",
		"where the bootstrap is built, as <dir>/<function>/bootstrap (default build/ under the "+
			"module root)")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "the function's timeout")
	fs.BoolVar(&o.responseBucket, "response-bucket", false,
		"replace a CloudFormation request's ResponseURL with a pre-signed URL on the S3 of "+
			"AWS_ENDPOINT_URL (moto), and print the answer the function PUT there")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, &usageError{msg: err.Error()}
	}
	fs.Visit(func(f *flag.Flag) { o.envFileSet = o.envFileSet || f.Name == "env-vars" })

	switch {
	case fs.NArg() > 0:
		return o, usagef("unexpected arguments %q", fs.Args())
	case function == "":
		return o, usagef("-function is required")
	case o.event == "":
		return o, usagef("-event is required")
	case o.timeout < time.Second:
		return o, usagef("-timeout %s: want at least 1s", o.timeout)
	}
	f, err := localrun.LookupFunction(function)
	if err != nil {
		return o, &usageError{msg: err.Error()}
	}
	o.function = f
	return o, nil
}

// run parses args and invokes the function once. environ is the caller's
// environment, as os.Environ returns it; the SDK reads the same from the
// process when it resolves credentials.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	event, err := readEvent(o.event)
	if err != nil {
		return err
	}
	endpoint := lookup(environ, "AWS_ENDPOINT_URL")
	cfnRequest := isCloudFormationRequest(event)
	if o.responseBucket && endpoint == "" {
		return usagef("-response-bucket needs AWS_ENDPOINT_URL (moto): against AWS, " +
			"CloudFormation makes the ResponseURL")
	}
	if o.responseBucket && !cfnRequest {
		return usagef("-response-bucket: %s is not a CloudFormation request with a ResponseURL",
			o.event)
	}

	fileEnv, err := envFromFile(o)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return errors.New("finding the AWS Region: none set; set AWS_REGION, or a region in " +
			"your AWS profile")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("resolving AWS credentials (set AWS_ACCESS_KEY_ID and "+
			"AWS_SECRET_ACCESS_KEY, or AWS_PROFILE): %w", err)
	}
	env := append(callerEnv(creds, environ), fileEnv...)

	var answer func(context.Context) error
	if o.responseBucket {
		event, answer, err = useResponseBucket(ctx, cfg, event, stderr)
		if err != nil {
			return err
		}
	} else if cfnRequest && endpoint != "" {
		fmt.Fprintf(stderr, "invoke: the function will PUT its answer to the event's ResponseURL "+
			"as it is; for a URL on the S3 of AWS_ENDPOINT_URL instead, run\n"+
			"  go run ./internal/cmd/invoke -function %s -event %s -response-bucket\n",
			o.function.Dir, o.event)
	}

	buildDir := o.buildDir
	if buildDir == "" {
		root, err := localrun.ModuleRoot()
		if err != nil {
			return err
		}
		buildDir = filepath.Join(root, "build")
	}
	bootstrap, err := localrun.Build(ctx, o.function.Dir, buildDir)
	if err != nil {
		return err
	}
	logs := newReportWatch(stderr)
	e, err := localrun.StartEmulator(ctx, localrun.EmulatorConfig{
		Bootstrap: bootstrap,
		Env:       env,
		Timeout:   o.timeout,
		MemoryMB:  defaultMemoryMB,
		Region:    cfg.Region,
		Stdout:    logs,
		Stderr:    logs,
	})
	if err != nil {
		return err
	}
	defer e.Close()

	body, invokeErr := e.Invoke(ctx, event)
	// The emulator writes its REPORT line just after answering; it belongs
	// in the logs, so the emulator is closed only once it has passed.
	select {
	case <-logs.reported:
	case <-time.After(reportWait):
	case <-ctx.Done():
	}
	var fe *localrun.FunctionError
	if invokeErr != nil && !errors.As(invokeErr, &fe) {
		return fmt.Errorf("invoking %s: %w", o.function.Dir, invokeErr)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", bytes.TrimSpace(body)); err != nil {
		return fmt.Errorf("writing response: %w", err)
	}
	if answer != nil {
		if err := answer(ctx); err != nil {
			return err
		}
	}
	if fe != nil {
		return fmt.Errorf("invoking %s: the function returned an error: %s: %s", o.function.Dir,
			fe.Type, fe.Message)
	}
	return nil
}

// readEvent reads the event file, which must hold JSON.
func readEvent(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading event: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("reading event %q: not JSON", path)
	}
	return b, nil
}

// envFromFile returns the function's section of the env-vars file: nothing
// when the default file does not exist.
func envFromFile(o options) ([]string, error) {
	if !o.envFileSet {
		if _, err := os.Stat(o.envFile); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	return localrun.ReadEnvFile(o.envFile, o.function.LogicalID)
}

// callerEnv returns the environment that gives the function the caller's
// identity: creds as the three credential variables, and every
// AWS_ENDPOINT_URL variable (the global one and the per-service ones) of
// environ. The Region is set by the emulator.
func callerEnv(creds aws.Credentials, environ []string) []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
	}
	if creds.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+creds.SessionToken)
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" &&
			(k == "AWS_ENDPOINT_URL" || strings.HasPrefix(k, "AWS_ENDPOINT_URL_")) {
			env = append(env, kv)
		}
	}
	return env
}

// lookup returns the value of key in environ, the last one when it is set
// more than once, as the SDK reads it.
func lookup(environ []string, key string) string {
	var v string
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// isCloudFormationRequest reports whether event is a custom resource request:
// an object with RequestType and ResponseURL.
func isCloudFormationRequest(event []byte) bool {
	var r struct{ RequestType, ResponseURL string }
	return json.Unmarshal(event, &r) == nil && r.RequestType != "" && r.ResponseURL != ""
}

// useResponseBucket returns event with its ResponseURL replaced by a
// pre-signed PUT URL on the S3 of cfg, and a function that prints, after the
// invocation, what the function PUT there.
func useResponseBucket(ctx context.Context, cfg aws.Config, event []byte, stderr io.Writer) (
	[]byte, func(context.Context) error, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(event, &fields); err != nil {
		return nil, nil, fmt.Errorf("reading event: %w", err)
	}
	var ids struct {
		RequestID string `json:"RequestId"`
	}
	if err := json.Unmarshal(event, &ids); err != nil || ids.RequestID == "" {
		return nil, nil, errors.New("reading event: a CloudFormation request without RequestId")
	}

	bucket, err := localrun.NewResponseBucket(ctx, cfg, responseBucket)
	if err != nil {
		return nil, nil, err
	}
	key := ids.RequestID + "/" + time.Now().UTC().Format("20060102T150405.000000000Z")
	url, err := bucket.Presign(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if fields["ResponseURL"], err = json.Marshal(url); err != nil {
		return nil, nil, fmt.Errorf("encoding ResponseURL: %w", err)
	}
	if event, err = json.Marshal(fields); err != nil {
		return nil, nil, fmt.Errorf("encoding event: %w", err)
	}

	where := "s3://" + responseBucket + "/" + key
	answer := func(ctx context.Context) error {
		body, err := bucket.Read(ctx, key)
		if err != nil {
			return err
		}
		if body == nil {
			fmt.Fprintf(stderr, "invoke: the function PUT no answer to its ResponseURL (%s)\n",
				where)
			return nil
		}
		fmt.Fprintf(stderr, "invoke: CloudFormation was told (read back from %s):\n%s\n", where,
			bytes.TrimSpace(body))
		return nil
	}
	return event, answer, nil
}

// reportWait bounds the wait for the emulator's REPORT line.
const reportWait = time.Second

// reportLine starts the line the emulator writes when an invocation ends.
var reportLine = []byte("REPORT RequestId:")

// reportWatch passes the emulator's output on to w, one write at a time, and
// tells when the REPORT line has passed.
type reportWatch struct {
	// reported is closed when the REPORT line has passed.
	reported chan struct{}

	mu   sync.Mutex
	w    io.Writer
	seen bool
}

// newReportWatch returns a reportWatch writing to w.
func newReportWatch(w io.Writer) *reportWatch {
	return &reportWatch{w: w, reported: make(chan struct{})}
}

// Write writes p to w.
func (r *reportWatch) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.w.Write(p)
	if !r.seen && bytes.Contains(p, reportLine) {
		r.seen = true
		close(r.reported)
	}
	return n, err
}
