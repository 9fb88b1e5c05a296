package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/pubsub"
)

// TestSubscriberHistoryFailingSite runs a gateway whose Redis user may not
// write one site's keys (NOPERM, retried like any unavailable shard): every
// message is delivered, the other site's are stored (before delivery)
// meanwhile, and once the user may, the failing site's messages are stored,
// once each and in publish order.
func TestSubscriberHistoryFailingSite(t *testing.T) {
	t.Parallel()
	admin, srv := realRedis(t)
	ctx := context.Background()
	key := keyPrefix(t)
	h := newHistory(t, admin, history.Config{Key: key})
	const ok, bad = "https://ok.example.com", "https://bad.example.com"
	okList := h.ListKey(ok)
	if _, err := srv.Do("ACL", "SETUSER", "gw", "on", ">secret", "&*", "+@all",
		"~"+okList, "~{"+okList+"}:seen:*"); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	gw := redis.NewClient(&redis.Options{
		Addr: srv.Addr(), Username: "gw", Password: "secret",
		MaxRetries: 1, MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
	})
	t.Cleanup(func() { _ = gw.Close() })

	sink := &recordingSink{}
	s := newSubscriber(t, gw, newHistory(t, gw, history.Config{Key: key}), sink, pubsub.SubscriberConfig{
		StoreTimeout: time.Minute, // only the failing site's writes fail (at once), however loaded the machine
	})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	want := map[string][]string{} // titles per site, in publish order
	for i := range 3 {
		for _, host := range []string{bad, ok} { // the failing site first
			m := newMessage(fmt.Sprintf("%s %d", host, i))
			m.Channel, m.Host = channel, host
			publish(t, admin, channel, string(m.AppendJSON(nil, true)))
			want[host] = append(want[host], m.Title)
		}
	}
	// titles returns the titles of host's history, oldest first.
	titles := func(host string) []string {
		list, err := h.List(ctx, host)
		if err != nil {
			t.Fatalf("List %s: %v", host, err)
		}
		var out []string
		for _, m := range slices.Backward(list) {
			out = append(out, m.Title)
		}
		return out
	}
	poll.Until(t, "the healthy site stored while the other fails", func() bool {
		return len(titles(ok)) == len(want[ok])
	})
	poll.Until(t, "the failing site's messages waiting", func() bool {
		return s.Stats().HistoryPending == uint64(len(want[bad]))
	})
	if got := titles(bad); len(got) != 0 {
		t.Fatalf("%s stored %v while its writes fail", bad, got)
	}

	if _, err := srv.Do("ACL", "SETUSER", "gw", "allkeys"); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	poll.Until(t, "the failing site stored once it may", func() bool { return len(titles(bad)) == len(want[bad]) })
	for _, host := range []string{ok, bad} {
		if got := titles(host); !slices.Equal(got, want[host]) {
			t.Errorf("history of %s = %v, want %v", host, got, want[host])
		}
	}
	poll.Until(t, "every message counted as written", func() bool {
		st := s.Stats()
		return st.HistoryWritten == 6 && st.HistoryPending == 0
	})
	st := s.Stats()
	if len(sink.deliveries()) != 6 || st.HistoryDuplicates != 0 || st.HistoryDeferred != uint64(len(want[bad])) {
		t.Errorf("stats = %+v, delivered %d; want 6 delivered, no duplicates, the failing site's deferred",
			st, len(sink.deliveries()))
	}
	for r, n := range st.Dropped {
		if n != 0 {
			t.Errorf("Dropped[%s] = %d, want no drops", r, n)
		}
	}
}
