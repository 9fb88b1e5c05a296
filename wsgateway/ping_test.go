package wsgateway

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// TestServerPingsKeepLiveClient: a client that reads answers the pings and
// stays connected.
func TestServerPingsKeepLiveClient(t *testing.T) {
	t.Parallel()
	// Each pong must arrive within PingInterval; 10ms proved too tight for
	// a loaded -race run (a late pong drops the client, and the test with it).
	e := newEnv(t, envOptions{cfg: Config{PingInterval: 100 * time.Millisecond}})
	var pings atomic.Int64
	c, _, err := e.dial(t, dialOptions{
		query:        "host=" + siteA,
		subprotocols: []string{protocol.SubProtocol, mint(t, "users:alice", time.Hour)},
		onPing:       func() { pings.Add(1) },
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	// Read in the background: the client answers pings only while reading.
	got := make(chan string, 1)
	go func() {
		defer close(got)
		_, data, err := c.Read(context.Background())
		if err == nil {
			got <- string(data)
		}
	}()
	poll.Until(t, "condition", func() bool { return pings.Load() >= 3 })
	if n := e.g.Count(); n != 1 {
		t.Fatalf("Count = %d, want 1", n)
	}
	m := newMessage(siteA, "users:bob", "after pings", "users:alice")
	e.g.Deliver(m, m.PushJSON())
	if s := <-got; s != string(m.PushJSON()) {
		t.Errorf("got %q, want the message", s)
	}
}

// TestServerPingDropsDeadPeer: a client that never reads never answers a
// ping, so the gateway drops it.
func TestServerPingDropsDeadPeer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{PingInterval: 10 * time.Millisecond}})
	e.connect(t, siteA, "users:dead")
	poll.Until(t, "condition", func() bool { return e.g.Count() == 0 })
	if got := e.g.Stats().Disconnects[DisconnectPing]; got != 1 {
		t.Errorf("ping disconnects = %d, want 1", got)
	}
}

// TestPeriodicEndsOnFalse: a call that reports false arms no next call.
func TestPeriodicEndsOnFalse(t *testing.T) {
	calls := make(chan int, 3)
	n := 0
	p := startPeriodic(time.Millisecond, func() bool {
		n++
		calls <- n
		return n < 3
	})
	for want := 1; want <= 3; want++ {
		if got := <-calls; got != want {
			t.Fatalf("call %d, want %d", got, want)
		}
	}
	p.running.Wait() // the third call has returned
	p.mu.Lock()
	rearmed := p.t.Stop()
	p.mu.Unlock()
	if rearmed {
		t.Fatal("a call that reported false armed another")
	}
	p.stop()
}

// TestPeriodicStop: after stop returns, no call is in progress and none is
// armed.
func TestPeriodicStop(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var done atomic.Bool
	p := startPeriodic(time.Millisecond, func() bool {
		select {
		case entered <- struct{}{}:
			<-release
			done.Store(true)
		default: // later calls: nothing to do
		}
		return true
	})
	<-entered
	stopped := make(chan struct{})
	go func() { p.stop(); close(stopped) }()
	close(release)
	<-stopped
	if !done.Load() {
		t.Fatal("stop returned before the call in progress ended")
	}
	p.mu.Lock()
	armed := p.t.Stop()
	p.mu.Unlock()
	if armed {
		t.Fatal("a call is armed after stop")
	}
	// Disabled (PingInterval negative): nothing to start, nothing to stop.
	off := startPeriodic(-1, func() bool { t.Error("a disabled periodic called f"); return false })
	if off != nil {
		t.Fatal("startPeriodic(-1) started something")
	}
	off.stop()
}
