package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// logFile is the name of every server's log in its directory.
const logFile = "redis.log"

// Server is one redis-server process owned by a test. Its methods may be
// called from any goroutine, except those that fail the test (Restart), which
// belong to the test's goroutine.
type Server struct {
	// immutable after newServer
	tb   testing.TB
	bin  string
	dir  string
	port int
	argv []string // the whole command line after the binary

	mu     sync.Mutex    // guards the fields below
	cmd    *exec.Cmd     // nil while stopped
	exited chan struct{} // closed when cmd has exited (its waiter goroutine returned)
}

// startAttempts bounds how many fresh ports newServer tries: a port that was
// free when FreePort returned can be taken by another process's connection
// before redis-server binds it.
const startAttempts = 5

// SkipEnv names the environment variable that lets the integration tests be
// skipped when redis-server is absent. Without it they fail, so that nobody
// takes a run that tested nothing real for a green one.
const SkipEnv = "NOTIFYD_SKIP_INTEGRATION"

// Binary returns the path of redis-server. When it is absent, tb fails,
// unless SkipEnv is set to 1 (then tb is skipped, and says why).
func Binary(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(SkipEnv) == "1" && os.Getenv("CI") == "" {
			tb.Skipf("redis-server not found in PATH and %s=1: integration test skipped", SkipEnv)
		}
		tb.Fatalf("redis-server not found in PATH: install it (Debian: apt-get install redis-server) "+
			"to run the integration tests, or set %s=1 to skip them knowingly", SkipEnv)
	}
	return bin
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("redistest: listen: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a fresh, non-persistent redis-server on a free loopback port.
// extra are additional command-line arguments such as "--maxmemory", "10mb".
func Start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	return newServer(tb, func(dir string, port int) []string {
		return append(standardArgs(dir, port), extra...)
	})
}

// newServer starts, and stops at cleanup, a redis-server whose command line
// argv builds from its fresh working directory and free port.
func newServer(tb testing.TB, argv func(dir string, port int) []string) *Server {
	tb.Helper()
	bin := Binary(tb)
	for attempt := 1; ; attempt++ {
		s := &Server{tb: tb, bin: bin, dir: tempDir(tb), port: FreePort(tb)}
		s.argv = argv(s.dir, s.port)
		err := s.start()
		if err == nil {
			tb.Cleanup(s.Stop)
			return s
		}
		log := s.Log()
		if attempt == startAttempts || !strings.Contains(log, "Address already in use") {
			tb.Fatalf("redistest: redis-server on %d did not come up: %v\n%s", s.port, err, log)
		}
	}
}

// memDir is a RAM-backed directory on Linux. Sentinel and Cluster nodes
// fsync their configuration on every change; on a busy disk one fsync can
// stall a process for seconds, which sends Sentinel into TILT mode and can
// get a cluster node flagged failing.
const memDir = "/dev/shm"

// tempDir returns a fresh directory removed at cleanup, in memDir when there
// is one.
func tempDir(tb testing.TB) string {
	tb.Helper()
	if fi, err := os.Stat(memDir); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp(memDir, "redistest-"); err == nil {
			tb.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return tb.TempDir()
}

// standardArgs are the arguments of a non-persistent server on port that
// works and logs in dir.
func standardArgs(dir string, port int) []string {
	return []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		// A replica's first sync starts at once instead of after 5s.
		"--repl-diskless-sync-delay", "0",
		"--logfile", filepath.Join(dir, logFile),
	}
}

// Addr is host:port of the server.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Dir is the server's working directory.
func (s *Server) Dir() string { return s.dir }

// Restart starts the server again on the same port after Stop or Kill; it
// waits until the server answers PING.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("redistest: redis-server on %d did not come up: %v\n%s", s.port, err, s.Log())
	}
}

// start runs the process and waits until it answers PING; on failure the
// process is gone when it returns.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("server on %d already running", s.port)
	}
	cmd := exec.Command(s.bin, s.argv...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // joined by whoever stops the process
	if err := waitUp(s.Addr(), exited, 10*time.Second); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return err
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// waitUp polls addr with PING until it answers PONG, the process exits, or
// timeout passes.
func waitUp(addr string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		reply, err := Do(addr, "PING")
		if err == nil && reply == "+PONG" {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited")
		case <-ctx.Done():
			return fmt.Errorf("no PONG from %s: last error %v", addr, err)
		case <-tick.C:
		}
	}
}

// Running reports whether the process was started and not stopped or killed
// since.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Log returns the server's log file (empty when it cannot be read), for
// failure messages.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, logFile))
	return string(b)
}

// Stop terminates the server and waits for it to exit. It is idempotent.
func (s *Server) Stop() { s.signal(false) }

// Kill sends SIGKILL and waits for the process to exit.
func (s *Server) Kill() { s.signal(true) }

func (s *Server) signal(kill bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if kill {
		_ = s.cmd.Process.Kill()
	} else {
		_ = s.cmd.Process.Signal(os.Interrupt)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-s.exited:
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd, s.exited = nil, nil
}

// Do sends one command in RESP and returns the first reply line, for tests
// that must poke a server without a client library (CONFIG SET, DEBUG ...).
func (s *Server) Do(args ...string) (string, error) {
	return Do(s.Addr(), args...)
}

// Do sends one command to addr and returns its first reply line.
func Do(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return "", fmt.Errorf("redis: %s", line[1:])
	}
	return line, nil
}

// WaitPing polls addr with PING until it answers PONG or timeout passes.
func WaitPing(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		reply, err := Do(addr, "PING")
		if err == nil && reply == "+PONG" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no PONG from %s: last error %v", addr, err)
		case <-tick.C:
		}
	}
}
