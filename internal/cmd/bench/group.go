package main

import (
	"os/exec"
	"syscall"
	"time"
)

// inGroup makes cmd, started with exec.CommandContext, run in a process group
// of its own that is killed whole when the context ends, so that what it
// starts in turn (the AWS CLI under bash, test binaries under go test) ends
// with it.
func inGroup(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
