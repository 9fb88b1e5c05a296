package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// newNamedClient is newClient with a CLIENT SETNAME, so that a test can find
// (and kill) the client's connections in CLIENT LIST.
func newNamedClient(t testing.TB, addr, name string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr:               addr,
		ClientName:         name,
		MaxRetries:         1,
		MinRetryBackoff:    time.Millisecond,
		MaxRetryBackoff:    5 * time.Millisecond,
		DialTimeout:        time.Second,
		DialerRetries:      1,
		DialerRetryTimeout: time.Millisecond,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// killSubscriptions kills, with CLIENT KILL ID, the pubsub connections of
// the clients named name, and returns how many it killed.
func killSubscriptions(t testing.TB, admin *redis.Client, name string) int {
	t.Helper()
	ctx := context.Background()
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatalf("CLIENT LIST: %v", err)
	}
	killed := 0
	for line := range strings.Lines(list) {
		fields := map[string]string{}
		for f := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["name"] != name || fields["sub"] == "0" || fields["sub"] == "" {
			continue
		}
		if err := admin.ClientKillByFilter(ctx, "ID", fields["id"]).Err(); err != nil {
			t.Fatalf("CLIENT KILL ID %s: %v", fields["id"], err)
		}
		killed++
	}
	return killed
}

// numSub returns how many connections are subscribed to channel.
func numSub(t testing.TB, rdb *redis.Client, channel string) int64 {
	t.Helper()
	n, err := rdb.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %v", err)
	}
	return n[channel]
}

func newPublisher(t testing.TB, rdb redis.UniversalClient, h pubsub.PublisherHistory, channel string) *pubsub.Publisher {
	t.Helper()
	p, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Channel: channel})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	return p
}

// publishTitled publishes, through p, one message per title for host.
func publishTitled(t testing.TB, p *pubsub.Publisher, host string, titles ...string) {
	t.Helper()
	for _, title := range titles {
		m := newMessage(title)
		m.Host, m.Channel = host, ""
		if err := p.Publish(context.Background(), m); err != nil {
			t.Fatalf("Publish %q: %v", title, err)
		}
	}
}

func checkTitles(t testing.TB, who string, sink *recordingSink, want ...string) {
	t.Helper()
	if got := sink.titles(); !slices.Equal(got, want) {
		t.Errorf("%s delivered %q, want %q", who, got, want)
	}
}

// sitesSink is a recordingSink that reports live connections on sites.
type sitesSink struct {
	recordingSink
	sites []string
}

func (s *sitesSink) Sites() []string { return s.sites }

var _ pubsub.SiteLister = (*sitesSink)(nil)

// gapSetup is a gateway A whose Redis connection goes through a proxy, and
// a publisher and an admin client that talk to Redis directly.
type gapSetup struct {
	proxy   *stallProxy
	direct  *redis.Client // publisher and admin
	channel string
	key     string
	pub     *pubsub.Publisher
	a       *pubsub.Subscriber
}

const gatewayA = "gateway-a"

func newGapSetup(t *testing.T, sink pubsub.Sink, hcfg history.Config) *gapSetup {
	t.Helper()
	_, srv := realRedis(t)
	g := &gapSetup{proxy: newStallProxy(t, srv.Addr()), direct: newClient(t, srv.Addr()),
		channel: keyPrefix(t) + ":chan", key: keyPrefix(t)}
	hcfg.Key = g.key
	g.pub = newPublisher(t, g.direct, newHistory(t, g.direct, hcfg), g.channel)
	viaProxy := newNamedClient(t, g.proxy.Addr(), gatewayA)
	g.a = newSubscriber(t, viaProxy, newHistory(t, viaProxy, hcfg), sink, pubsub.SubscriberConfig{Channel: g.channel})
	run(t, g.a)
	poll.Until(t, "A subscribed", g.a.Ready)
	return g
}

// cut kills A's subscription from the Redis side while the proxy holds its
// reconnection, and waits until Redis no longer counts it.
func (g *gapSetup) cut(t *testing.T, others int64) {
	t.Helper()
	g.proxy.Stall()
	if n := killSubscriptions(t, g.direct, gatewayA); n != 1 {
		t.Fatalf("killed %d subscriptions of A, want 1", n)
	}
	poll.Until(t, "A unsubscribed", func() bool { return numSub(t, g.direct, g.channel) == others })
}

// reconnect lets A resubscribe and waits for its gap fill.
func (g *gapSetup) reconnect(t *testing.T, fills uint64) {
	t.Helper()
	g.proxy.Unstall()
	poll.Until(t, "A's gap fill", func() bool { return g.a.Ready() && g.a.Stats().GapFills == fills })
}

func TestGapFillAfterKill(t *testing.T) {
	t.Parallel()
	sinkA := &recordingSink{}
	g := newGapSetup(t, sinkA, history.Config{})
	// B is another gateway, connected directly: it never loses the stream.
	sinkB := &recordingSink{}
	b := newSubscriber(t, g.direct, newHistory(t, g.direct, history.Config{Key: g.key}), sinkB,
		pubsub.SubscriberConfig{Channel: g.channel})
	stopB := run(t, b)
	poll.Until(t, "B subscribed", b.Ready)

	publishTitled(t, g.pub, testHost, "before")
	poll.Until(t, "before", func() bool { return len(sinkA.deliveries()) == 1 && len(sinkB.deliveries()) == 1 })

	g.cut(t, 1)
	gap := []string{"g0", "g1", "g2", "g3", "g4"}
	publishTitled(t, g.pub, testHost, gap...)
	poll.Until(t, "B to get the gap live", func() bool { return len(sinkB.deliveries()) == 6 })
	if n := len(sinkA.deliveries()); n != 1 {
		t.Fatalf("A delivered %d messages while cut off, want 1", n)
	}

	g.reconnect(t, 1)
	publishTitled(t, g.pub, testHost, "l0", "l1")
	poll.Until(t, "A's deliveries", func() bool { return len(sinkA.deliveries()) >= 8 })
	checkTitles(t, "A", sinkA, "before", "g0", "g1", "g2", "g3", "g4", "l0", "l1")
	st := g.a.Stats()
	if st.GapFilled != 5 || st.Reconnects != 1 || st.Delivered != 8 || st.Received != 3 {
		t.Errorf("A's stats = %+v, want 5 filled of 8 delivered, 3 received, 1 reconnect", st)
	}
	if st.PublishToDelivery.Count != st.Delivered-st.GapFilled {
		t.Errorf("PublishToDelivery.Count = %d, want the %d live deliveries (gap fills are not timed)",
			st.PublishToDelivery.Count, st.Delivered-st.GapFilled)
	}

	// Filled messages are not written to the history again. A bare PUBLISH,
	// which only the gateways store (and B is gone), marks the end of A's
	// history queue: once it is written, everything queued before it was
	// counted.
	poll.Until(t, "B's deliveries", func() bool { return len(sinkB.deliveries()) == 8 })
	stopB()
	publish(t, g.direct, g.channel, bare("sync", g.channel))
	poll.Until(t, "the sync message stored", func() bool { return g.a.Stats().HistoryWritten == 1 })
	if st := g.a.Stats(); st.HistoryDuplicates != 3 {
		t.Errorf("A's history duplicates = %d, want 3 (before, l0, l1: the filled ones are not appended)",
			st.HistoryDuplicates)
	}
	checkTitles(t, "B", sinkB, "before", "g0", "g1", "g2", "g3", "g4", "l0", "l1")
}

func TestGapFillAfterRestart(t *testing.T) {
	t.Parallel()
	_, srv := realRedis(t)
	proxy := newStallProxy(t, srv.Addr())
	channel := keyPrefix(t) + ":chan"
	sink := &recordingSink{}
	viaProxy := newClient(t, proxy.Addr())
	a := newSubscriber(t, viaProxy, newHistory(t, viaProxy, history.Config{}), sink,
		pubsub.SubscriberConfig{Channel: channel, HealthCheckInterval: 100 * time.Millisecond})
	run(t, a)
	poll.Until(t, "subscription", a.Ready)
	before := newClient(t, srv.Addr())
	publishTitled(t, newPublisher(t, before, newHistory(t, before, history.Config{}), channel), testHost, "before")
	poll.Until(t, "before", func() bool { return len(sink.deliveries()) == 1 })

	srv.Stop()
	poll.Until(t, "not ready while Redis is stopped", func() bool { return !a.Ready() })
	proxy.Stall() // A cannot resubscribe before the test publishes
	srv.Restart()
	// The restarted server is empty: A's last id is not in the history, so
	// the fill selects by time.
	after := newClient(t, srv.Addr())
	pub := newPublisher(t, after, newHistory(t, after, history.Config{}), channel)
	publishTitled(t, pub, testHost, "g0", "g1", "g2")
	proxy.Unstall()
	poll.Until(t, "gap fill", func() bool { return a.Ready() && a.Stats().GapFills >= 1 })
	publishTitled(t, pub, testHost, "l0")
	poll.Until(t, "deliveries", func() bool { return len(sink.deliveries()) >= 5 })
	checkTitles(t, "A", sink, "before", "g0", "g1", "g2", "l0")
	if st := a.Stats(); st.GapFilled != 3 {
		t.Errorf("GapFilled = %d, want 3", st.GapFilled)
	}
}

func TestGapFillTrimmedHistory(t *testing.T) {
	t.Parallel()
	sink := &recordingSink{}
	g := newGapSetup(t, sink, history.Config{Length: 3})
	publishTitled(t, g.pub, testHost, "before")
	poll.Until(t, "before", func() bool { return len(sink.deliveries()) == 1 })

	g.cut(t, 0)
	// "before", A's last id, is trimmed away with g0 and g1: the fill
	// falls back to ids younger than the loss, and can only deliver what
	// the history still keeps.
	publishTitled(t, g.pub, testHost, "g0", "g1", "g2", "g3", "g4")
	g.reconnect(t, 1)
	publishTitled(t, g.pub, testHost, "l0")
	poll.Until(t, "deliveries", func() bool { return len(sink.deliveries()) >= 5 })
	checkTitles(t, "A", sink, "before", "g2", "g3", "g4", "l0")
	if st := g.a.Stats(); st.GapFilled != 3 {
		t.Errorf("GapFilled = %d, want 3", st.GapFilled)
	}
}

// Redis closes a subscriber whose output buffer exceeds
// client-output-buffer-limit pubsub: the message that overflowed it is lost
// on the wire, and comes back through the gap fill.
func TestGapFillAfterOutputBufferLimit(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	channel := keyPrefix(t) + ":chan"
	h := newHistory(t, rdb, history.Config{})
	sink := &recordingSink{}
	a := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{Channel: channel})
	run(t, a)
	poll.Until(t, "subscription", a.Ready)
	pub := newPublisher(t, newClient(t, srv.Addr()), h, channel)
	publishTitled(t, pub, testHost, "before")
	poll.Until(t, "before", func() bool { return len(sink.deliveries()) == 1 })

	// Redis sends the first 16 KiB of a reply from a fixed buffer; the rest
	// is what the limit counts.
	if _, err := srv.Do("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1kb 1kb 0"); err != nil {
		t.Fatalf("CONFIG SET: %v", err)
	}
	big := newMessage("big")
	big.Channel, big.Body = "", strings.Repeat("x", 40<<10)
	if err := pub.Publish(context.Background(), big); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	poll.Until(t, "resubscribed and filled", func() bool { return a.Ready() && a.Stats().GapFills == 1 })
	publishTitled(t, pub, testHost, "after")
	poll.Until(t, "after", func() bool { return len(sink.deliveries()) >= 3 })
	checkTitles(t, "A", sink, "before", "big", "after")
	if st := a.Stats(); st.Reconnects != 1 || st.GapFilled != 1 || st.Received != 2 {
		t.Errorf("stats = %+v, want 1 reconnect, the big message filled, 2 received", st)
	}
}

// A site A never dispatched anything for is filled only when the sink says
// it has live connections there; messages older than the loss (minus the
// margin) are not.
func TestGapFillSinkSites(t *testing.T) {
	t.Parallel()
	const quiet = "https://quiet.example.com"
	tests := []struct {
		name  string
		sites []string
		want  []string
	}{
		{"live connections on the site", []string{quiet}, []string{"g0", "l0"}},
		{"no live connection on the site", nil, []string{"l0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sink := &sitesSink{sites: tt.sites}
			g := newGapSetup(t, sink, history.Config{})
			// Stored an hour ago, never published: older than the loss.
			h := newHistory(t, g.direct, history.Config{Key: g.key})
			var ids message.IDGen
			old := newMessage("old")
			old.Host, old.Channel, old.ID = quiet, g.channel, ids.New(time.Now().Add(-time.Hour))
			if _, err := h.Append(context.Background(), quiet, old.ID, old.AppendJSON(nil, true)); err != nil {
				t.Fatalf("Append: %v", err)
			}

			g.cut(t, 0)
			publishTitled(t, g.pub, quiet, "g0")
			g.reconnect(t, 1)
			publishTitled(t, g.pub, quiet, "l0")
			poll.Until(t, "the live message", func() bool {
				return slices.Contains(sink.titles(), "l0")
			})
			checkTitles(t, "A", &sink.recordingSink, tt.want...)
		})
	}
}

// Redis cuts every subscriber off (CLIENT KILL TYPE pubsub, as when
// client-output-buffer-limit pubsub is exceeded) again and again while a
// backend publishes: every message is delivered once, in order.
func TestGapFillUnderRepeatedKills(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	channel := keyPrefix(t) + ":chan"
	h := newHistory(t, rdb, history.Config{Length: 1000})
	sink := &recordingSink{}
	a := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{Channel: channel})
	run(t, a)
	poll.Until(t, "subscription", a.Ready)
	pub := newPublisher(t, newClient(t, srv.Addr()), h, channel)

	// The publisher stays at most window messages ahead of A's deliveries:
	// a gap fill can only deliver what the history (1000 entries) still
	// holds when the dispatcher reaches it.
	const window = 100
	stop := make(chan struct{})
	var (
		wg        sync.WaitGroup
		published []string
		pubErr    error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			for uint64(len(published)) >= a.Stats().Delivered+window {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
			select {
			case <-stop:
				return
			default:
			}
			m := newMessage(fmt.Sprintf("m%04d", i))
			m.Channel = ""
			if pubErr = pub.Publish(context.Background(), m); pubErr != nil {
				return
			}
			published = append(published, m.Title)
		}
	}()
	const kills = 5
	for k := range kills {
		poll.Until(t, "messages flowing", func() bool { return a.Stats().Delivered > uint64(20*(k+1)) })
		if _, err := srv.Do("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
			t.Fatalf("CLIENT KILL: %v", err)
		}
		// Each fill runs before the next kill (fills requested while one is
		// queued merge into it).
		poll.Until(t, "resubscribed and filled", func() bool {
			st := a.Stats()
			return a.Ready() && st.Reconnects == uint64(k+1) && st.GapFills == uint64(k+1)
		})
	}
	close(stop)
	wg.Wait()
	if pubErr != nil {
		t.Fatalf("Publish: %v", pubErr)
	}
	poll.Until(t, "every message delivered", func() bool { return len(sink.deliveries()) >= len(published) })
	checkTitles(t, "A", sink, published...)
	t.Logf("%d messages, %d by gap fill, %d duplicates skipped",
		len(published), a.Stats().GapFilled, a.Stats().Duplicates)
}

func TestSubscriberSkipsDuplicates(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			sink := &recordingSink{}
			s := newSubscriber(t, rdb, newHistory(t, rdb, history.Config{}), sink, pubsub.SubscriberConfig{})
			channel := keyPrefix(t) + ":chan"
			run(t, s)
			poll.Until(t, "subscription", s.Ready)

			withID := newMessage("with id")
			withID.Channel, withID.ID = channel, "01JHX7Z5Q2ZB7Y8W9V0T1S2R3Q"
			changed := withID.Clone() // same id, other bytes: still the same message
			changed.Title = "with id, edited"
			for _, p := range []string{
				bare("bare", channel), bare("bare", channel),
				string(withID.AppendJSON(nil, true)), string(changed.AppendJSON(nil, true)),
				bare("last", channel),
			} {
				publish(t, rdb, channel, p)
			}
			poll.Until(t, "the last message", func() bool { return s.Stats().Received == 5 && s.Stats().Delivered == 3 })
			checkTitles(t, "the subscriber", sink, "bare", "with id", "last")
			st := s.Stats()
			if st.Duplicates != 2 {
				t.Errorf("Duplicates = %d, want 2", st.Duplicates)
			}
			poll.Until(t, "history writes", func() bool { return s.Stats().HistoryWritten == 3 })
		})
	}
}

// RecentIDs bounds the memory of dispatched ids: an id forgotten is
// delivered again.
func TestSubscriberRecentIDsBound(t *testing.T) {
	t.Parallel()
	rdb, _ := backends[0].New(t)
	sink := &recordingSink{}
	s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{RecentIDs: 2})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	for _, title := range []string{"a", "b", "a", "c", "a"} {
		publish(t, rdb, channel, bare(title, channel))
	}
	poll.Until(t, "every payload", func() bool { return s.Stats().Received == 5 })
	poll.Until(t, "deliveries", func() bool { return s.Stats().Delivered+s.Stats().Duplicates == 5 })
	// a b [a: dup] c (forgets a) a
	checkTitles(t, "the subscriber", sink, "a", "b", "c", "a")
}
