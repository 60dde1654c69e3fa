package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Defaults for EmulatorConfig.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultMemoryMB = 128
	DefaultRegion   = "us-east-1"
)

// emulatorReadyTimeout bounds how long StartEmulator waits for the emulator
// to listen.
const emulatorReadyTimeout = 20 * time.Second

// timedOutPrefix starts the body the emulator answers with, status 200, when
// the function runs past its timeout.
const timedOutPrefix = "Task timed out after "

// EmulatorConfig says which bootstrap the emulator runs and how.
type EmulatorConfig struct {
	// Bootstrap is the path of the function's executable.
	Bootstrap string

	// Env holds KEY=VALUE pairs for the function, added after the minimal
	// environment StartEmulator builds (a later pair wins). The function sees
	// nothing of this process's environment but PATH: credentials and
	// AWS_ENDPOINT_URL must be given here.
	Env []string

	// Timeout is the function's timeout, rounded up to whole seconds as
	// Lambda's is. Zero means DefaultTimeout.
	Timeout time.Duration

	// Name is AWS_LAMBDA_FUNCTION_NAME; empty means the name of the
	// bootstrap's directory.
	Name string

	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE; zero means DefaultMemoryMB.
	MemoryMB int

	// Region is AWS_REGION and AWS_DEFAULT_REGION; empty means DefaultRegion.
	Region string

	// Stdout, if set, also receives what the function writes to stdout and
	// stderr (the emulator merges them, as Lambda does) and the emulator's
	// START, END and REPORT lines. Logs returns the same bytes either way.
	Stdout io.Writer

	// Stderr, if set, receives the emulator's own diagnostics. Output
	// returns them either way.
	Stderr io.Writer
}

// Emulator is the Lambda Runtime Interface Emulator running one bootstrap.
// It starts the bootstrap on the first invocation, so the time from
// StartEmulator to the first Invoke's answer includes the cold start. It
// runs one invocation at a time: Invoke waits for the one before it.
type Emulator struct {
	// URL is the emulator's base URL, http://127.0.0.1:PORT.
	URL string

	// RuntimeAPI is the host:port of the Runtime API the bootstrap talks to.
	RuntimeAPI string

	proc   *process
	logs   *syncBuffer
	diag   *syncBuffer
	client *http.Client

	// turn holds a token while an invocation runs in the emulator, which
	// may be after the Invoke that started it has given up.
	turn chan struct{}
	// life ends when Close is called, ending invocations still running.
	life context.Context
	end  context.CancelFunc
}

// FunctionError is a failed invocation: the function returned an error or
// panicked, or ran out of time.
type FunctionError struct {
	// Type is the errorType the runtime reported, such as "errorString",
	// or "Sandbox.Timedout" when the function ran past its timeout.
	Type string `json:"errorType"`

	// Message is the errorMessage the runtime reported.
	Message string `json:"errorMessage"`
}

// Error returns the type and the message.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// StartEmulator starts the emulator for cfg.Bootstrap on two distinct free
// loopback ports and returns once it accepts connections. The emulator runs
// until Close; ctx bounds only the start. The emulator binary is the one
// named by env RIE_BINARY, or the aws-lambda-rie tool pinned in go.mod.
func StartEmulator(ctx context.Context, cfg EmulatorConfig) (*Emulator, error) {
	bootstrap, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("starting emulator for %q: %w", cfg.Bootstrap, err)
	}
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("starting emulator for %q: %w", cfg.Bootstrap, err)
	}
	cfg.Bootstrap = bootstrap

	bin, err := emulatorBinary(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting emulator for %q: %w", cfg.Bootstrap, err)
	}

	for attempt := 1; ; attempt++ {
		e, err := startEmulator(ctx, bin, cfg)
		if err == nil || !errors.Is(err, errExited) || attempt == startAttempts {
			return e, err
		}
	}
}

// startEmulator makes one attempt at starting the emulator on free ports.
func startEmulator(ctx context.Context, bin string, cfg EmulatorConfig) (*Emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("starting emulator for %q: %w", cfg.Bootstrap, err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	api := "127.0.0.1:" + strconv.Itoa(ports[1])

	e := &Emulator{
		URL:        "http://" + addr,
		RuntimeAPI: api,
		logs:       &syncBuffer{},
		diag:       &syncBuffer{},
		// No client timeout: the function's own timeout bounds an invocation,
		// and the caller's context bounds the wait.
		client: &http.Client{},
		turn:   make(chan struct{}, 1),
	}
	e.life, e.end = context.WithCancel(context.Background())

	cmd := exec.Command(bin,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", api,
		"--log-level", "error",
		cfg.Bootstrap)
	cmd.Dir = filepath.Dir(cfg.Bootstrap)
	cmd.Env = emulatorEnv(cfg)
	cmd.Stdout = e.logs
	if cfg.Stdout != nil {
		cmd.Stdout = io.MultiWriter(e.logs, cfg.Stdout)
	}
	cmd.Stderr = e.diag
	if cfg.Stderr != nil {
		cmd.Stderr = io.MultiWriter(e.diag, cfg.Stderr)
	}

	e.proc, err = startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting emulator %q: %w", bin, err)
	}

	err = e.proc.waitReady(ctx, emulatorReadyTimeout, func(ctx context.Context) error {
		return dial(ctx, addr)
	})
	if err != nil {
		e.end()
		e.proc.stop(0)
		return nil, fmt.Errorf("starting emulator for %q on %s: %w; output: %s",
			cfg.Bootstrap, addr, err, tail(e.diag.Bytes(), 2000))
	}
	return e, nil
}

// emulatorEnv returns the environment of the emulator process, which the
// emulator hands on to the function whole.
func emulatorEnv(cfg EmulatorConfig) []string {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	seconds := int(math.Ceil(timeout.Seconds()))
	name := cfg.Name
	if name == "" {
		name = filepath.Base(filepath.Dir(cfg.Bootstrap))
	}
	memory := cfg.MemoryMB
	if memory <= 0 {
		memory = DefaultMemoryMB
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}

	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"TZ=UTC",
		"LAMBDA_TASK_ROOT=" + filepath.Dir(cfg.Bootstrap),
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(seconds),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(memory),
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		// Without credentials in Env the SDK would otherwise wait on an
		// instance metadata service that does not exist here.
		"AWS_EC2_METADATA_DISABLED=true",
	}
	return append(env, cfg.Env...)
}

// Invoke sends payload to the function and returns the response body. When
// the function returned an error, panicked or timed out, it returns the body
// and a *FunctionError. Other failures (the emulator answering with a status
// other than 200, ctx done) return an error and whatever body arrived.
//
// Invocations are serialised, as the emulator handles one at a time. When ctx
// ends first, Invoke returns at once, but the next Invoke waits until the
// emulator has finished the abandoned invocation (at most the function's
// timeout).
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case e.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoking function: waiting for the invocation before: %w", ctx.Err())
	}

	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-e.turn }()
		body, err := e.invoke(payload)
		done <- result{body, err}
	}()

	select {
	case r := <-done:
		return r.body, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("invoking function: %w", ctx.Err())
	}
}

// invoke makes one invocation, bounded by the emulator's life.
func (e *Emulator) invoke(payload []byte) ([]byte, error) {
	url := e.URL + "/2015-03-31/functions/function/invocations"
	req, err := http.NewRequestWithContext(e.life, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoking function: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking function: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return body, fmt.Errorf("invoking function: reading response: %w", err)
	}
	// A function that exits while handling the invocation (a panic, with
	// aws-lambda-go) is answered with 502 and the error it reported.
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadGateway {
		if fe := functionError(body); fe != nil {
			return body, fe
		}
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoking function: emulator answered %s: %s", resp.Status,
			tail(body, 1000))
	}
	return body, nil
}

// functionError returns the error a response body reports, or nil when it
// reports none.
func functionError(body []byte) *FunctionError {
	if bytes.HasPrefix(body, []byte(timedOutPrefix)) {
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(body)}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var fe struct {
		Type    *string `json:"errorType"`
		Message *string `json:"errorMessage"`
	}
	if json.Unmarshal(trimmed, &fe) != nil || fe.Message == nil {
		return nil
	}
	out := &FunctionError{Message: *fe.Message}
	if fe.Type != nil {
		out.Type = *fe.Type
	}
	return out
}

// Logs returns what the function has written so far, stdout and stderr
// merged, with the emulator's START, END and REPORT lines.
func (e *Emulator) Logs() []byte {
	return e.logs.Bytes()
}

// Output returns the emulator's own diagnostics written so far.
func (e *Emulator) Output() []byte {
	return e.diag.Bytes()
}

// Close stops the emulator and the bootstrap it runs, and waits for the
// emulator to exit. The bootstrap is killed first, while the emulator is
// frozen, so that neither writes about the other's end into the logs (the
// bootstrap would report that it could not get the next invocation).
// Invocations still running end with an error. Calling Close again does
// nothing.
func (e *Emulator) Close() error {
	// The emulator starts the bootstrap in a process group of its own, out of
	// reach of a kill of the emulator's group.
	e.proc.stopTree(children)
	e.end()
	return nil
}
