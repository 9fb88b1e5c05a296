package hatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// opTimeout bounds one publish or read; Redis answers in milliseconds or
// fails fast with the clients' short timeouts.
const opTimeout = 10 * time.Second

// traffic publishes messages the two ways producers do and remembers what
// every gateway must deliver and what each site's history must hold. It
// belongs to the test's goroutine.
type traffic struct {
	t   testing.TB
	rdb redis.UniversalClient // the producers' client
	pub *pubsub.Publisher
	n   int // makes every title, hence every bare payload, unique

	delivered []string            // ids every gateway must deliver exactly once
	stored    map[string][]string // ids each host's history must hold exactly once, in publish order
	labels    map[string]string   // what each id is, for failure messages
	bareIDs   map[string]bool     // the ids of bare PUBLISHes (the gateways store them)
}

func newTraffic(t testing.TB, rdb redis.UniversalClient) *traffic {
	t.Helper()
	hist, err := history.New(rdb, history.Config{})
	if err != nil {
		t.Fatalf("NewHistory: %v", err)
	}
	pub, err := pubsub.NewPublisher(rdb, hist, pubsub.PublisherConfig{})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	return &traffic{t: t, rdb: rdb, pub: pub, stored: map[string][]string{}, labels: map[string]string{},
		bareIDs: map[string]bool{}}
}

// message returns a new message for host as a backend hands it to the
// Publisher: no id, timestamp, channel or status.
func (tr *traffic) message(host string) *message.Message {
	tr.n++
	title := fmt.Sprintf("review %d", tr.n)
	return &message.Message{
		Host:     host,
		Action:   "notify",
		Category: "content.review",
		Title:    title,
		Body:     "Please review " + title,
		Source:   &message.Source{ID: "users:alice", Title: "Alice"},
		Target:   &message.Target{Principals: []string{"users:bob"}},
	}
}

// tryPublish publishes m with the Publisher and, when that succeeds,
// expects m delivered and stored.
func (tr *traffic) tryPublish(m *message.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := tr.pub.Publish(ctx, m); err != nil {
		return err
	}
	tr.expect(m.Host, m.ID, m.Title)
	return nil
}

// publish publishes a new message for host, failing the test on error.
func (tr *traffic) publish(host string) {
	tr.t.Helper()
	if err := tr.tryPublish(tr.message(host)); err != nil {
		tr.t.Fatalf("Publish for %s: %v", host, err)
	}
}

// bare PUBLISHes a new message for host as PyAMS does: json.dumps output
// (", " and ": " separators, nulls, no id). Every gateway derives the same
// id from the bytes. It fails the test when the PUBLISH fails.
func (tr *traffic) bare(host string) {
	tr.t.Helper()
	tr.n++
	title := fmt.Sprintf("bare %d", tr.n)
	ts := message.FormatTimestamp(time.Now())
	payload := fmt.Sprintf(`{"host": %s, "channel": %s, "action": "notify", "category": "content.review", `+
		`"status": "info", "title": %s, "message": %s, "image": null, `+
		`"source": {"id": "users:alice", "title": "Alice"}, "target": {"principals": ["users:bob"]}, `+
		`"url": null, "modal": false, "timestamp": %s}`,
		quote(host), quote(pubsub.DefaultChannel), quote(title), quote("Please review "+title), quote(ts))
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := tr.rdb.Publish(ctx, pubsub.DefaultChannel, payload).Err(); err != nil {
		tr.t.Fatalf("bare PUBLISH for %s: %v", host, err)
	}
	id := message.DeriveID(ts, []byte(payload))
	tr.bareIDs[id] = true
	tr.expect(host, id, title)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// round publishes, for every host, one message with the Publisher and one
// bare.
func (tr *traffic) round(hosts []string) {
	tr.t.Helper()
	for _, h := range hosts {
		tr.publish(h)
		tr.bare(h)
	}
}

func (tr *traffic) expect(host, id, title string) {
	tr.labels[id] = title + " for " + host
	tr.delivered = append(tr.delivered, id)
	tr.stored[host] = append(tr.stored[host], id)
}

// forget drops the history expectations of host: its data was lost with a
// non-persistent server.
func (tr *traffic) forget(host string) { delete(tr.stored, host) }

// waitDelivered waits until every gateway has delivered every expected
// message, then checks that each delivered each exactly once and nothing
// else.
func (tr *traffic) waitDelivered(gws ...*gateway) {
	tr.t.Helper()
	for _, g := range gws {
		poll.Until(tr.t, g.name+" to deliver every message", func() bool { return g.sink.has(tr.delivered) })
	}
	want := map[string]int{}
	for _, id := range tr.delivered {
		want[id]++
	}
	for _, g := range gws {
		got := g.sink.counts()
		for id, n := range got {
			if n != want[id] {
				tr.t.Errorf("%s delivered %s (%s) %d times, want %d", g.name, id, tr.labels[id], n, want[id])
			}
		}
		if len(got) != len(want) {
			tr.t.Errorf("%s delivered %d distinct messages, want %d", g.name, len(got), len(want))
		}
		if tr.t.Failed() {
			tr.t.Logf("%s: %+v", g.name, g.sub.Stats())
		}
	}
}

// waitStored waits until, read through rdb, the history list of every host
// (every host with expectations when hosts is empty) holds every expected
// id (a gateway whose write of a bare PUBLISH failed delivers it and stores
// it later), then checks that it
// holds exactly those, each once, and in publish order among the bare
// PUBLISHes (each gateway stores a site's messages in the order it read
// them) and among the Publisher's (stored before they are published). The
// two kinds interleave as the gateways' writes and the Publisher's race.
func (tr *traffic) waitStored(rdb redis.UniversalClient, hosts ...string) {
	tr.t.Helper()
	if len(hosts) == 0 {
		hosts = slices.Sorted(maps.Keys(tr.stored))
	}
	var lastErr error
	complete := func() bool {
		for _, host := range hosts {
			got, err := historyIDs(rdb, listKey(host))
			if err != nil {
				lastErr = err
				return false
			}
			for _, id := range tr.stored[host] {
				if !slices.Contains(got, id) {
					return false
				}
			}
		}
		return true
	}
	if !holdsWithin(complete) {
		tr.t.Logf("last error: %v", lastErr)
	}
	for _, host := range hosts {
		got, err := historyIDs(rdb, listKey(host))
		if err != nil {
			tr.t.Fatalf("history of %s: %v", host, err)
		}
		want := tr.stored[host]
		if !sameMultiset(got, want) {
			tr.t.Errorf("history of %s holds %v, want each of %v once", host, got, want)
			continue
		}
		slices.Reverse(got) // oldest first, as want
		for _, bare := range []bool{true, false} {
			isKind := func(id string) bool { return tr.bareIDs[id] != bare }
			g := slices.DeleteFunc(slices.Clone(got), isKind)
			w := slices.DeleteFunc(slices.Clone(want), isKind)
			if !slices.Equal(g, w) {
				tr.t.Errorf("history of %s holds the %s in the order %v, want publish order %v",
					host, kindName(bare), tr.titles(g), tr.titles(w))
			}
		}
	}
}

func kindName(bare bool) string {
	if bare {
		return "bare PUBLISHes"
	}
	return "Publisher's messages"
}

// titles returns the labels of ids, for failure messages.
func (tr *traffic) titles(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = tr.labels[id]
	}
	return out
}

// listKey is the history list of host, PyAMS's key.
func listKey(host string) string { return history.DefaultKey + "::" + host }

// seenKey is the key that remembers a stored id; see pubsub's History.
func seenKey(host, id string) string { return "{" + listKey(host) + "}:seen:" + id }

// historyIDs reads a history list with LRANGE and returns the id of each
// entry, newest first (derived for entries without one).
func historyIDs(rdb redis.UniversalClient, key string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	raw, err := rdb.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("LRANGE %s: %w", key, err)
	}
	return entryIDs(raw)
}

// entryIDs decodes history entries and returns their ids.
func entryIDs(raw []string) ([]string, error) {
	ids := make([]string, 0, len(raw))
	for _, s := range raw {
		m, err := message.Decode([]byte(s), 0)
		if err != nil {
			return nil, fmt.Errorf("history entry %.80q: %w", s, err)
		}
		if m.ID == "" {
			m.ID = message.DeriveID(m.Timestamp, []byte(s))
		}
		ids = append(ids, m.ID)
	}
	return ids, nil
}

func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// wantUnavailable fails t unless err matches sentinel
// (pubsub.ErrUnavailable or history.ErrUnavailable).
func wantUnavailable(t testing.TB, what string, sentinel, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s succeeded with no master reachable, want %v", what, sentinel)
	case !errors.Is(err, sentinel):
		t.Errorf("%s: %v, want an error matching %v", what, err, sentinel)
	}
}

// hostName is the site of host number i.
func hostName(i int) string { return fmt.Sprintf("https://site%d.example.com", i) }
