package wsgateway

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// BenchmarkReplayStorm is a reconnect storm: each op, stormConns clients
// connect at once with ?since= and each reads the stormBehind messages it
// missed from a stormEntries-entry site history kept by the real
// history.Store (on miniredis). An op ends when every client has caught up
// and every server-side connection has ended. It measures the whole path
// (handshakes, history reads, replay writes, client reads).
func BenchmarkReplayStorm(b *testing.B) {
	const (
		stormConns   = 200
		stormEntries = 1000
		stormBehind  = 10 // messages each client missed
	)
	mr := miniredis.RunT(b)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), PoolSize: 2 * stormConns})
	b.Cleanup(func() { _ = rdb.Close() })
	hist, err := history.New(rdb, history.Config{Key: "wsgateway-bench", Length: stormEntries})
	if err != nil {
		b.Fatal(err)
	}
	var gen message.IDGen
	now := time.Now()
	stored := make([]*message.Message, 0, stormEntries) // oldest first
	for i := range stormEntries {
		m := newMessage(siteA, "users:zed", fmt.Sprintf("storm %d", i), "users:alice")
		m.ID = gen.New(now)
		if _, err := hist.Append(b.Context(), siteA, m.ID, m.AppendJSON(nil, true)); err != nil {
			b.Fatalf("Append: %v", err)
		}
		stored = append(stored, m)
	}
	since := stored[stormEntries-1-stormBehind].ID
	want := make([]string, 0, stormBehind)
	for _, m := range stored[stormEntries-stormBehind:] {
		want = append(want, string(m.PushJSON()))
	}

	e := newEnv(b, envOptions{cfg: Config{
		History:                    hist,
		ReplayTimeout:              time.Minute, // a slow op must not turn into gaps
		PingInterval:               -1,
		ConnectRate:                -1,
		MaxConnectionsPerPrincipal: -1,
	}})
	url := e.wsURL("host=" + siteA + "&since=" + since)
	token := mint(b, "users:alice", time.Hour)
	opts := &websocket.DialOptions{
		HTTPClient:   e.srv.Client(),
		Subprotocols: []string{protocol.SubProtocol, token},
	}

	b.ReportAllocs()
	for b.Loop() {
		errs := make(chan error, stormConns)
		var wg sync.WaitGroup
		for range stormConns {
			wg.Go(func() { errs <- catchUpOnce(url, opts, want) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		poll.Until(b, "condition", func() bool { return e.g.Count() == 0 })
	}
	s := e.g.Stats()
	if s.Gaps != 0 || s.HistoryErrors != 0 {
		b.Fatalf("gaps %d, history errors %d", s.Gaps, s.HistoryErrors)
	}
	b.ReportMetric(float64(s.HistoryReads)/float64(b.N), "reads/op")
}

// catchUpOnce connects, checks that the first frames are want, and
// disconnects.
func catchUpOnce(url string, opts *websocket.DialOptions, want []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer func() { _ = c.CloseNow() }()
	for i, w := range want {
		_, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		if string(data) != w {
			return fmt.Errorf("frame %d = %s, want %s", i, data, w)
		}
	}
	return nil
}
