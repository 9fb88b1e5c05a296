package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one child process (redis-server or notifyd) that can be stopped,
// killed and started again with the same command line. Its output is
// appended to logPath across restarts.
type proc struct {
	// immutable after newProc
	name    string
	bin     string
	args    []string
	env     []string // nil: inherit
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd     // guarded by mu; nil when not running
	done chan struct{} // guarded by mu; closed when cmd has been waited for
}

func newProc(name, bin string, args, env []string, logPath string) *proc {
	return &proc{name: name, bin: bin, args: args, env: env, logPath: logPath}
}

// start runs the process. The goroutine that waits for it is owned by the
// proc and ends when the process exits; stop and kill join it.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s: already running", p.name)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: log: %w", p.name, err)
	}
	fmt.Fprintf(logf, "--- chaos: starting %s at %s\n", p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s: start %s: %w", p.name, p.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// stop sends SIGTERM and waits up to grace for the exit, then SIGKILLs. It
// returns how long the process took to exit. Stopping a stopped proc is a
// no-op.
func (p *proc) stop(grace time.Duration) (time.Duration, error) {
	return p.signal(syscall.SIGTERM, grace)
}

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill() error {
	_, err := p.signal(syscall.SIGKILL, 10*time.Second)
	return err
}

func (p *proc) signal(sig syscall.Signal, grace time.Duration) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0, nil
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, fmt.Errorf("%s: signal %v: %w", p.name, sig, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	var err error
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		err = fmt.Errorf("%s: still running %v after %v: killed", p.name, grace, sig)
	}
	took := time.Since(start)
	p.cmd, p.done = nil, nil
	return took, err
}

// running reports whether the process was started and has not exited.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}
