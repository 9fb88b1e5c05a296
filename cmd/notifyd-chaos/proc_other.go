//go:build !linux

package main

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; children are
// stopped by the deferred cleanup only.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// setRecvBuffer is a no-op outside Linux: the slow client then needs a
// longer flood to fill the kernel's buffers.
func setRecvBuffer(syscall.RawConn, int) error { return nil }
