package main

import "syscall"

// childAttr makes the kernel terminate a server if the harness dies without
// stopping it (killed, or a crash), so no server outlives a run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
