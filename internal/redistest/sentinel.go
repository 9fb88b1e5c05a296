package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Sentinel timings: fast enough for tests, slow enough not to fail over on a
// loaded machine's hiccup.
const (
	sentinelMasterName    = "mymaster"
	sentinelCount         = 3
	sentinelQuorum        = 2
	sentinelDownAfter     = 1000 // ms without a valid reply before a sentinel flags the master down
	sentinelFailoverLimit = 3000 // ms; an election that fails is retried after twice this
	sentinelStartTimeout  = 30 * time.Second
)

// sentinelDebug are SENTINEL DEBUG timings (Redis 7) for tests: hello
// messages every 500ms instead of 2s, so that Sentinels find each other and
// learn of a failover sooner, and TILT mode (entered when the process was
// stalled for 2s, on a loaded machine) lasting 1s instead of 30s.
var sentinelDebug = []string{"SENTINEL", "DEBUG", "publish-period", "500", "tilt-period", "1000"}

// Sentinel is a master, one replica and three Sentinels monitoring them
// (quorum two), owned by a test. Its methods belong to the test's goroutine.
type Sentinel struct {
	// immutable after StartSentinel
	tb        testing.TB
	master    *Server // the master at start
	replica   *Server // the replica at start
	sentinels []*Server

	// owned by the test's goroutine
	killed string // address of the master KillMaster killed
}

// StartSentinel starts a master, a replica of it and three Sentinels, and
// waits until the replica is in sync and every Sentinel knows the master,
// the replica and the two other Sentinels, so that a failover can be
// authorised.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	s := &Sentinel{tb: tb}
	s.master = Start(tb)
	s.replica = Start(tb, "--replicaof", "127.0.0.1", strconv.Itoa(s.master.Port()))
	// Synced first, so that the Sentinels' first INFO of the master lists
	// the replica (the next comes 10s later).
	s.WaitReplicaSynced()
	for range sentinelCount {
		s.sentinels = append(s.sentinels, newServer(tb, func(dir string, port int) []string {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
sentinel resolve-hostnames no
sentinel monitor %s 127.0.0.1 %d %d
sentinel down-after-milliseconds %[4]s %[7]d
sentinel failover-timeout %[4]s %[8]d
sentinel parallel-syncs %[4]s 1
`, port, dir, filepath.Join(dir, logFile), sentinelMasterName, s.master.Port(), sentinelQuorum,
				sentinelDownAfter, sentinelFailoverLimit)
			// Sentinel rewrites its configuration file, so it must be its own.
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				tb.Fatalf("redistest: write sentinel config: %v", err)
			}
			return []string{conf, "--sentinel"}
		}))
	}
	for _, sn := range s.sentinels {
		if _, err := sn.Call(sentinelDebug...); err != nil {
			tb.Logf("redistest: %v (the Sentinels keep their default timings)", err)
		}
	}
	want := fmt.Sprintf("name=%s,status=ok,address=%s,slaves=1,sentinels=%d",
		sentinelMasterName, s.master.Addr(), sentinelCount)
	err := retryUntil(sentinelStartTimeout, func() error {
		for _, sn := range s.sentinels {
			info, err := Info(sn.Addr(), "sentinel")
			if err != nil {
				return err
			}
			if got := info["master0"]; got != want {
				return fmt.Errorf("sentinel %s: %q, want %q", sn.Addr(), got, want)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("redistest: sentinels not ready: %v\n%s", err, s.logs())
	}
	return s
}

// MasterName is the name the Sentinels monitor the master under.
func (s *Sentinel) MasterName() string { return sentinelMasterName }

// SentinelAddrs returns the Sentinels' addresses, for a failover client.
func (s *Sentinel) SentinelAddrs() []string {
	out := make([]string, len(s.sentinels))
	for i, sn := range s.sentinels {
		out[i] = sn.Addr()
	}
	return out
}

// Sentinels returns the Sentinel processes.
func (s *Sentinel) Sentinels() []*Server { return slices.Clone(s.sentinels) }

// Master returns the server that was the master at start.
func (s *Sentinel) Master() *Server { return s.master }

// Replica returns the server that was the replica at start.
func (s *Sentinel) Replica() *Server { return s.replica }

// MasterAddr returns the master's address according to the first Sentinel
// that answers; it fails the test when none does.
func (s *Sentinel) MasterAddr() string {
	s.tb.Helper()
	var err error
	for _, sn := range s.sentinels {
		var addr string
		if addr, err = sentinelMaster(sn); err == nil {
			return addr
		}
	}
	s.tb.Fatalf("redistest: no sentinel answers: %v", err)
	return ""
}

// sentinelMaster asks one Sentinel for the master's address.
func sentinelMaster(sn *Server) (string, error) {
	v, err := sn.Call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinelMasterName)
	if err != nil {
		return "", err
	}
	hp, _ := v.([]any)
	if len(hp) != 2 {
		return "", fmt.Errorf("sentinel %s: master address %v", sn.Addr(), v)
	}
	host, _ := hp[0].(string)
	port, _ := hp[1].(string)
	return net.JoinHostPort(host, port), nil
}

// server returns the data server (master or replica) at addr, or nil.
func (s *Sentinel) server(addr string) *Server {
	for _, srv := range []*Server{s.master, s.replica} {
		if srv.Addr() == addr {
			return srv
		}
	}
	return nil
}

// WaitReplicaSynced waits until whichever of the two data servers is a
// running replica has an up link and has received everything its master had
// written when the wait began, so that writes acknowledged before the call
// survive a failover. It fails the test after 30 seconds.
func (s *Sentinel) WaitReplicaSynced() {
	s.tb.Helper()
	var target int64 = -1
	err := retryUntil(sentinelStartTimeout, func() error {
		var master, replica *Server
		for _, srv := range []*Server{s.master, s.replica} {
			if !srv.Running() {
				continue
			}
			info, err := Info(srv.Addr(), "replication")
			if err != nil {
				return err
			}
			switch info["role"] {
			case "master":
				master = srv
			case "slave":
				replica = srv
			}
		}
		if master == nil || replica == nil {
			return errors.New("no running master and replica pair")
		}
		if target < 0 {
			off, err := masterOffset(master)
			if err != nil {
				return err
			}
			target = off
		}
		return replicaReached(replica, target)
	})
	if err != nil {
		s.tb.Fatalf("redistest: replica not in sync: %v", err)
	}
}

// KillMaster sends SIGKILL to the server the Sentinels currently report as
// master and waits for it to exit; WaitFailover then waits for its
// successor.
func (s *Sentinel) KillMaster() {
	s.tb.Helper()
	addr := s.MasterAddr()
	srv := s.server(addr)
	if srv == nil {
		s.tb.Fatalf("redistest: sentinels report unknown master %s", addr)
	}
	srv.Kill()
	s.killed = addr
}

// WaitFailover waits until every running Sentinel reports a master other
// than the one KillMaster killed, and that server says it is a master; it
// returns its address. It fails the test after timeout.
func (s *Sentinel) WaitFailover(timeout time.Duration) (newMasterAddr string) {
	s.tb.Helper()
	if s.killed == "" {
		s.tb.Fatalf("redistest: WaitFailover without KillMaster")
	}
	err := retryUntil(timeout, func() error {
		newMasterAddr = ""
		for _, sn := range s.sentinels {
			if !sn.Running() {
				continue
			}
			addr, err := sentinelMaster(sn)
			switch {
			case err != nil:
				return err
			case addr == s.killed:
				return fmt.Errorf("sentinel %s still reports %s", sn.Addr(), addr)
			case newMasterAddr != "" && addr != newMasterAddr:
				return fmt.Errorf("sentinels disagree: %s and %s", newMasterAddr, addr)
			}
			newMasterAddr = addr
		}
		info, err := Info(newMasterAddr, "replication")
		if err != nil {
			return err
		}
		if info["role"] != "master" {
			return fmt.Errorf("%s is still a %s", newMasterAddr, info["role"])
		}
		return nil
	})
	if err != nil {
		s.tb.Fatalf("redistest: no failover from %s: %v\n%s", s.killed, err, s.logs())
	}
	return newMasterAddr
}

// logs returns the tail of every Sentinel's log, for failure messages.
func (s *Sentinel) logs() string {
	var b strings.Builder
	for _, sn := range s.sentinels {
		fmt.Fprintf(&b, "--- sentinel %s\n%s\n", sn.Addr(), tail(sn.Log(), 2000))
	}
	return b.String()
}
