package redistest

import (
	"net"
	"testing"
)

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if _, err := s.Do("SET", "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Stop()
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("PING succeeded after Stop")
	}
	s.Restart()
	if got, err := s.Do("EXISTS", "k"); err != nil || got != ":0" {
		t.Fatalf("after restart EXISTS k = %q, %v; want :0 (not persistent)", got, err)
	}
}

func TestStartRetriesTakenPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	attempts := 0
	s := newServer(t, func(dir string, port int) []string {
		attempts++
		if attempts == 1 {
			port = taken // as if another process grabbed the free port first
		}
		return standardArgs(dir, port)
	})
	if attempts != 2 {
		t.Errorf("%d attempts, want 2", attempts)
	}
	if got, err := s.Do("PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
}
