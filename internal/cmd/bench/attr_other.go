//go:build !linux

package main

import "syscall"

// childAttr puts a started process in a process group of its own, which
// killGroup ends as a whole.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
