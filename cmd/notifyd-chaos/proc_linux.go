package main

import "syscall"

// sysProcAttr makes the kernel kill a child when the chaos tool dies, so an
// interrupted run leaves no redis-server or notifyd behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// setRecvBuffer shrinks a socket's receive buffer, so that a client that
// stops reading makes the gateway's writes block soon.
func setRecvBuffer(rc syscall.RawConn, size int) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
	})
	if err != nil {
		return err
	}
	return serr
}
