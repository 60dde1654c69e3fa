//go:build unix && !linux

package localrun

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts a child in its own process group, so that Close can kill
// it with everything it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// startCmd starts cmd.
func startCmd(cmd *exec.Cmd) error {
	return cmd.Start()
}
