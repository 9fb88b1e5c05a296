package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

func TestShutdownClosesEveryConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{ShutdownSpread: 50 * time.Millisecond}})
	const n = 5
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = e.connect(t, siteA, fmt.Sprintf("users:%d", i))
	}
	if got := e.g.Count(); got != n {
		t.Fatalf("Count = %d, want %d", got, n)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { expectClose(t, c, protocol.CloseGoingAway, protocol.ReasonShutdown) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := e.g.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	if got := e.g.Count(); got != 0 {
		t.Errorf("Count after Shutdown = %d, want 0", got)
	}
	if got := e.g.Stats().Disconnects[DisconnectShutdown]; got != n {
		t.Errorf("shutdown disconnects = %d, want %d", got, n)
	}
	// Idempotent.
	if err := e.g.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestShutdownForced: a client that never reads never answers the close
// handshake; when Shutdown's context ends, the socket is cut and Shutdown
// reports the context's error.
func TestShutdownForced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{PingInterval: -1}})
	e.connect(t, siteA, "users:deaf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.g.Shutdown(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	if got := e.g.Count(); got != 0 {
		t.Errorf("Count after forced Shutdown = %d, want 0", got)
	}
}

func TestNewStartsNoGoroutineAndShutdownWithoutConns(t *testing.T) {
	t.Parallel()
	g, err := New(Config{Auth: nopAuth{}, Sites: mustPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
