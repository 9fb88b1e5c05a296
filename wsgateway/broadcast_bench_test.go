package wsgateway

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
)

// BenchmarkBroadcastSockets measures the whole broadcast path over real
// sockets: each op is one Deliver to every one of conns clients connected
// through a real websocket handshake on loopback, and the clients reading
// it, one message per frame. Deliveries are paced in windows smaller than
// the queue so that no queue overflows: after each window the benchmark
// waits until every client has read everything delivered so far. It
// measures server and client CPU together (both run in this process);
// compare runs of it, not its absolute figures.
func BenchmarkBroadcastSockets(b *testing.B) {
	for _, conns := range []int{100, 1000} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			benchBroadcastSockets(b, conns)
		})
	}
}

func benchBroadcastSockets(b *testing.B, conns int) {
	const window = 64 // deliveries between waits; less than QueueSize
	e := newEnv(b, envOptions{cfg: Config{
		QueueSize:                  256,
		PingInterval:               -1,
		ConnectRate:                -1,
		MaxConnectionsPerPrincipal: -1,
	}})
	ctx, cancel := context.WithCancel(context.Background())
	var received atomic.Int64
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() })
	for i := range conns {
		c := e.connect(b, siteA, fmt.Sprintf("users:%d", i), message.Authenticated)
		wg.Go(func() { discardFrames(ctx, c, &received) })
	}
	m := newMessage(siteA, "users:zed", "broadcast", message.Authenticated)
	m.ID = "1"
	push := m.PushJSON()
	wait := func(n int) {
		want := int64(n) * int64(conns)
		poll.Until(b, "every client read every message", func() bool { return received.Load() >= want })
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(push)) * int64(conns))
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU(b)
	for i := range b.N {
		e.g.Deliver(m, push)
		if (i+1)%window == 0 {
			wait(i + 1)
		}
	}
	wait(b.N)
	b.StopTimer()
	deliveries := float64(b.N) * float64(conns)
	b.ReportMetric(deliveries/time.Since(start).Seconds(), "deliveries/s")
	// The process's CPU time is less sensitive than wall time to the other
	// load of a shared machine.
	b.ReportMetric(float64(processCPU(b)-cpu0)/deliveries, "cpu-ns/delivery")
	if s := e.g.Stats(); s.Dropped != 0 || s.Disconnects[DisconnectSlow] != 0 {
		b.Fatalf("dropped %d, slow disconnects %d", s.Dropped, s.Disconnects[DisconnectSlow])
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardFrames reads text messages from c until ctx ends, counting them.
func discardFrames(ctx context.Context, c *websocket.Conn, n *atomic.Int64) {
	buf := make([]byte, 4096)
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			return
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			return
		}
		n.Add(1)
	}
}
