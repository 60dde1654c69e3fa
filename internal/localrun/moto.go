package localrun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"time"
)

// ErrMotoNotFound is returned by StartMoto when moto_server is not on PATH.
// Its message tells how to install it.
var ErrMotoNotFound = errors.New(
	`moto_server not found: install it with pip install "moto[server]"`)

// motoReadyTimeout bounds how long StartMoto waits for a started moto_server
// to answer; importing moto takes a few seconds on a slow machine.
const motoReadyTimeout = 60 * time.Second

// Moto is a running moto_server listening on a loopback port.
type Moto struct {
	// URL is the server's base URL, http://127.0.0.1:PORT, to be used as the
	// SDK's endpoint (BaseEndpoint or AWS_ENDPOINT_URL).
	URL string

	proc *process
}

// StartMoto starts moto_server on a free loopback port and returns once it
// answers HTTP requests. The server runs until Close; ctx bounds only the
// start. It returns an error wrapping ErrMotoNotFound when moto_server is not
// on PATH.
func StartMoto(ctx context.Context) (*Moto, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("starting moto: %w", ErrMotoNotFound)
	}

	for attempt := 1; ; attempt++ {
		m, err := startMoto(ctx, path)
		if err == nil || !errors.Is(err, errExited) || attempt == startAttempts {
			return m, err
		}
	}
}

// startMoto makes one attempt at starting moto_server on a free port.
func startMoto(ctx context.Context, path string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("starting moto: %w", err)
	}

	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	proc, err := startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting moto %q: %w", path, err)
	}
	m := &Moto{URL: "http://127.0.0.1:" + strconv.Itoa(port), proc: proc}

	client := &http.Client{Timeout: 2 * time.Second}
	err = proc.waitReady(ctx, motoReadyTimeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/data.json", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
	if err != nil {
		proc.stop(0)
		return nil, fmt.Errorf("starting moto on port %d: %w; output: %s", port, err,
			tail(proc.out.Bytes(), 2000))
	}
	return m, nil
}

// Output returns what moto_server has written to stdout and stderr so far:
// one line per request, and tracebacks when it fails.
func (m *Moto) Output() []byte {
	return m.proc.out.Bytes()
}

// Close stops moto_server and waits for it to exit. Calling it again does
// nothing.
func (m *Moto) Close() error {
	m.proc.stop(0)
	return nil
}
