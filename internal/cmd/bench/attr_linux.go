package main

import "syscall"

// childAttr puts a started process in a process group of its own, which
// killGroup ends as a whole, and makes it die with this one, so that an
// interrupted run leaves nothing behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
