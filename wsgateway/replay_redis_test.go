package wsgateway

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// TestReplayFromRedisHistory runs catch-up against the real history.Store
// (on miniredis): what the Publisher's history stores is what replay sends.
func TestReplayFromRedisHistory(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	hist, err := history.New(rdb, history.Config{Key: "wsgateway-test", Length: 3})
	if err != nil {
		t.Fatal(err)
	}
	var gen message.IDGen
	now := time.Now()
	var stored []*message.Message // oldest first
	for i, target := range []string{"users:alice", "users:bob", "users:alice", "users:alice"} {
		m := newMessage(siteA, "users:zed", "redis "+string(rune('0'+i)), target)
		m.ID = gen.New(now)
		if _, err := hist.Append(t.Context(), siteA, m.ID, m.AppendJSON(nil, true)); err != nil {
			t.Fatalf("Append: %v", err)
		}
		stored = append(stored, m)
	}
	e := newEnv(t, envOptions{cfg: Config{History: hist}})

	t.Run("since kept", func(t *testing.T) {
		c := e.connectWith(t, siteA, "since="+stored[2].ID, "users:alice")
		for _, want := range stored[3:] {
			if got := readText(t, c); got != string(want.PushJSON()) {
				t.Fatalf("got %s, want %s", got, want.PushJSON())
			}
		}
		assertLiveNext(t, e, c, "users:alice")
	})
	t.Run("since trimmed", func(t *testing.T) {
		// The list keeps 3: stored[0] was trimmed, so a gap, then alice's kept.
		c := e.connectWith(t, siteA, "since="+stored[0].ID, "users:alice")
		if got, want := readText(t, c), string(protocol.GapFrame(stored[0].ID)); got != want {
			t.Fatalf("got %s, want the gap frame %s", got, want)
		}
		for _, want := range stored[2:] {
			if got := readText(t, c); got != string(want.PushJSON()) {
				t.Fatalf("got %s, want %s", got, want.PushJSON())
			}
		}
		assertLiveNext(t, e, c, "users:alice")
	})
	t.Run("since kept but hidden", func(t *testing.T) {
		// bob's stored[1] is kept, but alice may not see it: as if unknown.
		c := e.connectWith(t, siteA, "since="+stored[1].ID, "users:alice")
		if got, want := readText(t, c), string(protocol.GapFrame(stored[1].ID)); got != want {
			t.Fatalf("got %s, want the gap frame %s", got, want)
		}
		for _, want := range stored[2:] {
			if got := readText(t, c); got != string(want.PushJSON()) {
				t.Fatalf("got %s, want %s", got, want.PushJSON())
			}
		}
		assertLiveNext(t, e, c, "users:alice")
	})
}

// assertLiveNext delivers a live message to sub and checks it is the next
// frame c reads.
func assertLiveNext(tb testing.TB, e *testEnv, c *websocket.Conn, sub string) {
	tb.Helper()
	live := newMessage(siteA, "users:zed", "live", sub)
	live.ID = "live-" + sub
	e.g.Deliver(live, live.PushJSON())
	if got := readText(tb, c); got != string(live.PushJSON()) {
		tb.Fatalf("got %s, want the live message", got)
	}
}
