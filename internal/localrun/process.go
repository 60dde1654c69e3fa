package localrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// errExited marks a process that exited before it was ready, which is worth
// another attempt on other ports.
var errExited = errors.New("process exited")

// startAttempts is how many times a server is started on fresh ports before
// giving up: a port found free can be taken by another process before the
// server binds it.
const startAttempts = 3

// process is a started child process and what it wrote.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the result of Wait; read after done is closed

	// signal sends sig to pid, or to the process group -pid; syscall.Kill
	// unless a test watches the order of the signals.
	signal func(pid int, sig syscall.Signal) error

	closeOnce sync.Once
}

// startProcess starts cmd in its own process group. Output not otherwise
// directed is captured in the process's buffer.
func startProcess(cmd *exec.Cmd) (*process, error) {
	p := &process{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{}), signal: syscall.Kill}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	cmd.SysProcAttr = sysProcAttr()

	if err := startCmd(cmd); err != nil {
		return nil, err
	}

	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop kills the process group with SIGTERM, then with SIGKILL after grace,
// and waits for the process to exit. Calling stop or stopTree again does
// nothing.
func (p *process) stop(grace time.Duration) {
	p.closeOnce.Do(func() {
		pid := p.cmd.Process.Pid
		if grace > 0 {
			_ = p.signal(-pid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(grace):
			}
		}
		_ = p.signal(-pid, syscall.SIGKILL)
		<-p.done
	})
}

// stopTree kills the process group and the children that left it for groups
// of their own, which detached lists, and waits for the process to exit.
// Neither side sees the other go, which it would report in the output (a
// Lambda runtime whose Runtime API vanished, say): the group is frozen with
// SIGSTOP first, so that it can neither start another child nor notice one
// die, nor reap one whose pid could then be reused; then the detached
// children are killed, and the group last. Calling stop or stopTree again
// does nothing.
func (p *process) stopTree(detached func(pid int) []int) {
	p.closeOnce.Do(func() {
		pid := p.cmd.Process.Pid
		_ = p.signal(-pid, syscall.SIGSTOP)
		for _, c := range detached(pid) {
			_ = p.signal(-c, syscall.SIGKILL)
			_ = p.signal(c, syscall.SIGKILL)
		}
		_ = p.signal(-pid, syscall.SIGKILL)
		<-p.done
	})
}

// children lists the pids of the direct children of pid, read from /proc. It
// returns nil where /proc is not available.
func children(pid int) []int {
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	var pids []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range bytes.Fields(b) {
			if c, err := strconv.Atoi(string(field)); err == nil {
				pids = append(pids, c)
			}
		}
	}
	return pids
}

// waitReady calls ready every few milliseconds until it returns nil, the
// process exits, ctx is done or timeout passes.
func (p *process) waitReady(ctx context.Context, timeout time.Duration,
	ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w before it was ready: %v", errExited, p.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for readiness: %w (last attempt: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago. All are held open together so that none is returned twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// dial reports whether something accepts TCP connections at addr.
func dial(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends b to the buffer.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// tail returns at most the last n bytes written, for error messages.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
