package localrun

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// sysProcAttr puts a child in its own process group, so that Close can kill
// it with everything it started, and kills it when this process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// starter starts children from one goroutine locked to its OS thread for the
// life of the process: Linux sends the parent-death signal when the thread
// that started a child exits, not the process, and only a locked thread is
// sure to live as long as the process.
var starter struct {
	once sync.Once
	reqs chan startRequest
}

// startRequest asks the starter to start cmd and report the result on done.
type startRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// startCmd starts cmd from the starter's thread.
func startCmd(cmd *exec.Cmd) error {
	starter.once.Do(func() {
		starter.reqs = make(chan startRequest)
		go func() {
			runtime.LockOSThread()
			for r := range starter.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	starter.reqs <- startRequest{cmd: cmd, done: done}
	return <-done
}
