package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// readyTimeout bounds how long a bootstrap may take to ask for its first
// event.
const readyTimeout = 20 * time.Second

// runtimeAPI is a stand-in for Lambda's Runtime API that never hands out an
// event: it notes when the bootstrap first asks for one, which is when its
// initialisation is over, and keeps the request waiting.
type runtimeAPI struct {
	addr string
	srv  *http.Server
	done chan struct{} // closed by Close, to end waiting requests

	once      sync.Once
	next      chan time.Time // receives the time of the first request for an event
	initError chan string    // receives what the bootstrap reported as its init error
}

// startRuntimeAPI starts a runtime API on a free loopback port.
func startRuntimeAPI() (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting runtime API: %w", err)
	}
	a := &runtimeAPI{
		addr:      l.Addr().String(),
		done:      make(chan struct{}),
		next:      make(chan time.Time, 1),
		initError: make(chan string, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter,
		r *http.Request) {
		now := time.Now()
		a.once.Do(func() { a.next <- now })
		select {
		case <-r.Context().Done():
		case <-a.done:
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter,
		r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		select {
		case a.initError <- string(b):
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(l)
	return a, nil
}

// Close stops the runtime API and ends the requests it keeps waiting.
func (a *runtimeAPI) Close() error {
	close(a.done)
	return a.srv.Close()
}

// directRun is the outcome of running a bootstrap up to its first request
// for an event.
type directRun struct {
	// Ready is the time from starting the process to its first request for
	// an event: process start, Go runtime and package initialisation, and
	// main up to the runtime loop.
	Ready time.Duration
	// Output is what the process wrote to stdout and stderr until then.
	Output []byte
}

// runUntilReady starts bootstrap with env and a runtime API of its own,
// waits until it asks for its first event, then waits settle more (so that
// work started in the background during init has a chance to show), kills it
// and returns the time to ready and its output.
func runUntilReady(ctx context.Context, bootstrap string, env []string,
	settle time.Duration) (directRun, error) {
	api, err := startRuntimeAPI()
	if err != nil {
		return directRun{}, err
	}
	defer api.Close()

	var out bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	cmd := exec.Command(bootstrap)
	cmd.Env = append(append([]string{}, env...), "AWS_LAMBDA_RUNTIME_API="+api.addr)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = childAttr()

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return directRun{}, fmt.Errorf("starting %q: %w", bootstrap, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	var ready time.Time
	select {
	case ready = <-api.next:
	case msg := <-api.initError:
		stop()
		return directRun{}, fmt.Errorf("running %q: init error: %s", bootstrap, msg)
	case err := <-exited:
		mu.Lock()
		defer mu.Unlock()
		return directRun{}, fmt.Errorf("running %q: exited before asking for an event: %w: %s",
			bootstrap, err, tailBytes(out.Bytes(), 1000))
	case <-timer.C:
		stop()
		return directRun{}, fmt.Errorf("running %q: no request for an event within %s",
			bootstrap, readyTimeout)
	case <-ctx.Done():
		stop()
		return directRun{}, fmt.Errorf("running %q: %w", bootstrap, ctx.Err())
	}

	if settle > 0 {
		select {
		case <-time.After(settle):
		case <-ctx.Done():
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	return directRun{Ready: ready.Sub(start), Output: bytes.Clone(out.Bytes())}, nil
}

// writerFunc adapts a function to io.Writer.
type writerFunc func(p []byte) (int, error)

// Write calls f.
func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// tailBytes returns at most the last n bytes of b as a string, for messages.
func tailBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}

// errNoProcess is returned when no process runs a given executable.
var errNoProcess = errors.New("no process runs it")

// peakRSS returns the peak resident set size (VmHWM) of the one process that
// runs the executable at path, found through /proc.
func peakRSS(path string) (int64, error) {
	pid, err := pidOf(path)
	if err != nil {
		return 0, fmt.Errorf("finding process of %q: %w", path, err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading status of process %d: %w", pid, err)
	}
	kb, err := statusField(b, "VmHWM")
	if err != nil {
		return 0, fmt.Errorf("reading status of process %d: %w", pid, err)
	}
	return kb * 1024, nil
}
