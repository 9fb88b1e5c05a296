package pubsub_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// inboxSink records deliveries, updates, retracts, inbox counts and
// preferences.
type inboxSink struct {
	recordingSink

	imu      sync.Mutex
	updates  []delivery
	retracts []*message.Message
	counts   []string // "host user unread unseen"
	prefs    []string // "host user muted,..."
}

func (s *inboxSink) DeliverUpdate(m *message.Message, push []byte) {
	s.imu.Lock()
	defer s.imu.Unlock()
	s.updates = append(s.updates, delivery{m, push})
}

func (s *inboxSink) DeliverRetract(m *message.Message) {
	s.imu.Lock()
	defer s.imu.Unlock()
	s.retracts = append(s.retracts, m)
}

func (s *inboxSink) InboxChanged(host, user string, c history.Counts) {
	s.imu.Lock()
	defer s.imu.Unlock()
	s.counts = append(s.counts, fmt.Sprintf("%s %s %d %d", host, user, c.Unread, c.Unseen))
}

func (s *inboxSink) PrefsChanged(host, user string, p history.Prefs) {
	s.imu.Lock()
	defer s.imu.Unlock()
	s.prefs = append(s.prefs, fmt.Sprintf("%s %s %s", host, user, strings.Join(p.Muted, ",")))
}

// changes returns copies of what the sink recorded besides deliveries.
func (s *inboxSink) changes() (updates []delivery, retracts []*message.Message, counts, prefs []string) {
	s.imu.Lock()
	defer s.imu.Unlock()
	return slices.Clone(s.updates), slices.Clone(s.retracts), slices.Clone(s.counts), slices.Clone(s.prefs)
}

var (
	_ pubsub.ChangeSink = (*inboxSink)(nil)
	_ pubsub.InboxSink  = (*inboxSink)(nil)
)

// inboxNames are a test's intake, delivery channel and history key, and
// the length of PyAMS's list.
type inboxNames struct {
	channel, delivery, key string
	length                 int
}

func newInboxNames(t testing.TB) inboxNames {
	p := keyPrefix(t)
	return inboxNames{channel: p + ":chan", delivery: p + ":delivery", key: p}
}

// history returns a Store with the inbox on, publishing deliveries on
// n.delivery.
func (n inboxNames) history(t testing.TB, rdb redis.UniversalClient) *history.Store {
	t.Helper()
	return newHistory(t, rdb, history.Config{Key: n.key, DeliveryChannel: n.delivery, Length: n.length})
}

// gateway runs a subscriber with the inbox on, on its own history, and
// waits until it is subscribed.
func (n inboxNames) gateway(t testing.TB, rdb redis.UniversalClient, sink pubsub.Sink) *pubsub.Subscriber {
	t.Helper()
	s := newSubscriber(t, rdb, n.history(t, rdb), sink,
		pubsub.SubscriberConfig{Channel: n.channel, DeliveryChannel: n.delivery})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	return s
}

// publisher returns a Publisher with the inbox on.
func (n inboxNames) publisher(t testing.TB, rdb redis.UniversalClient, h pubsub.PublisherHistory) *pubsub.Publisher {
	t.Helper()
	p, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Channel: n.channel, DeliveryChannel: n.delivery})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	return p
}

func deliveredIDs(s *recordingSink) []string {
	var out []string
	for _, d := range s.deliveries() {
		out = append(out, d.m.ID)
	}
	return out
}

// siteOrder returns the ids of host's messages in the site's seq order.
func siteOrder(t testing.TB, h *history.Store, host string) []string {
	t.Helper()
	var out []string
	for _, m := range siteMessages(t, h, host) {
		out = append(out, m.ID)
	}
	return out
}

// siteMessages returns host's stored messages, decoded, in the site's seq
// order.
func siteMessages(t testing.TB, h *history.Store, host string) []*message.Message {
	t.Helper()
	var out []*message.Message
	var seq int64
	for {
		page, err := h.SiteSince(context.Background(), host, seq, history.MaxReplay)
		if err != nil {
			t.Fatalf("SiteSince: %v", err)
		}
		if len(page) == 0 {
			return out
		}
		for _, d := range page {
			m, err := message.Decode(d.Stored, -1)
			if err != nil {
				t.Fatalf("stored form of seq %d: %v", d.Seq, err)
			}
			out = append(out, m)
			seq = d.Seq
		}
	}
}

// Bare PUBLISHes (stored by the gateways) and API publishes (stored by the
// Publisher) on one site, concurrently: two gateways deliver every message
// once, in the same order, which is the site's seq order and PyAMS's list
// order; the intake is stored exactly once however many gateways read it.
func TestInboxOneOrderMixedTraffic(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	n := newInboxNames(t)
	const each = 60 // bare and API messages each
	n.length = 2 * each
	sinkA, sinkB := &inboxSink{}, &inboxSink{}
	a := n.gateway(t, newClient(t, srv.Addr()), sinkA)
	b := n.gateway(t, newClient(t, srv.Addr()), sinkB)
	h := n.history(t, rdb)
	pub := n.publisher(t, rdb, h)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // bare PUBLISHes, several per round trip
		defer wg.Done()
		for i := 0; i < each; i += 4 {
			_, err := rdb.Pipelined(context.Background(), func(p redis.Pipeliner) error {
				for j := i; j < min(i+4, each); j++ {
					p.Publish(context.Background(), n.channel, bare(fmt.Sprintf("bare %d", j), n.channel))
				}
				return nil
			})
			if err != nil {
				t.Errorf("PUBLISH: %v", err)
				return
			}
		}
	}()
	go func() { // API publishes
		defer wg.Done()
		for i := range each {
			m := newMessage(fmt.Sprintf("api %d", i))
			m.Channel = ""
			if err := pub.Publish(context.Background(), m); err != nil {
				t.Errorf("Publish: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	poll.Until(t, "every message on both gateways", func() bool {
		return len(sinkA.deliveries()) >= 2*each && len(sinkB.deliveries()) >= 2*each
	})

	idsA, idsB := deliveredIDs(&sinkA.recordingSink), deliveredIDs(&sinkB.recordingSink)
	if !slices.Equal(idsA, idsB) {
		t.Fatalf("the gateways delivered in different orders:\nA %q\nB %q", idsA, idsB)
	}
	if uniq := len(slices.Compact(slices.Sorted(slices.Values(idsA)))); uniq != 2*each || len(idsA) != 2*each {
		t.Fatalf("A delivered %d messages, %d distinct; want %d once each", len(idsA), uniq, 2*each)
	}
	if order := siteOrder(t, h, testHost); !slices.Equal(idsA, order) {
		t.Errorf("delivery order is not the site's seq order:\ndelivered %q\nseq order %q", idsA, order)
	}
	list, err := h.List(context.Background(), testHost)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	pyams := ids(list)
	slices.Reverse(pyams) // newest first
	if !slices.Equal(idsA, pyams) {
		t.Errorf("delivery order is not PyAMS's list order:\ndelivered %q\nlist      %q", idsA, pyams)
	}
	for _, d := range sinkA.deliveries() {
		if strings.Contains(string(d.push), `"target"`) {
			t.Fatalf("push form with a target: %s", d.push)
		}
	}

	// Each gateway prepared every bare message itself, so it delivers them
	// as prepared (the store that won published the same stored form),
	// and decodes the API messages: either way what it delivers is the
	// site's stored form.
	stored := make(map[string][]byte) // id -> push form of the stored form
	for _, m := range siteMessages(t, h, testHost) {
		stored[m.ID] = m.PushJSON()
	}
	for name, sink := range map[string]*inboxSink{"A": sinkA, "B": sinkB} {
		for _, d := range sink.deliveries() {
			if want := stored[d.m.ID]; !bytes.Equal(d.push, want) || !bytes.Equal(d.m.PushJSON(), want) {
				t.Errorf("%s delivered %s as %s, its stored form is %s", name, d.m.ID, d.push, want)
			}
		}
	}

	// The counters settle after the sink has the messages: the losing
	// store's reply may still be on its way, and a delivery is counted as
	// reused once the sink has it.
	var sa, sb pubsub.SubscriberStats
	poll.Until(t, "the stores' replies counted", func() bool {
		sa, sb = a.Stats(), b.Stats()
		return sa.HistoryWritten+sa.HistoryDuplicates+sb.HistoryWritten+sb.HistoryDuplicates == 2*each &&
			sa.DeliveriesReused+sb.DeliveriesReused >= 2*each
	})
	for name, st := range map[string]pubsub.SubscriberStats{"A": sa, "B": sb} {
		if st.Received != each || st.Deliveries != 2*each || st.Delivered != 2*each || st.Duplicates != 0 {
			t.Errorf("%s's stats = %+v, want %d received on the intake (the API publishes nothing there), "+
				"%d deliveries, each delivered once", name, st, each, 2*each)
		}
		if st.DeliveriesReused != each {
			t.Errorf("%s delivered %d messages as it prepared them, want the %d bare ones", name, st.DeliveriesReused, each)
		}
	}
	if w, d := sa.HistoryWritten+sb.HistoryWritten, sa.HistoryDuplicates+sb.HistoryDuplicates; w != each || d != each {
		t.Errorf("the gateways stored %d and found %d stored, want each bare message stored once (%d) "+
			"and found stored by the other gateway once (%d)", w, d, each, each)
	}
}

// An intake message within MaxMessageSize whose stored form is not (the id
// it gets adds to it) is dropped as too large, as the Publisher refuses
// it: stored, no gateway would deliver it (a delivery is decoded within
// the limit), nor a history read return it.
func TestInboxStoredFormOverSizeDropped(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	payload := bare(strings.Repeat("b", 500), n.channel)
	sink := &inboxSink{}
	h := n.history(t, rdb)
	s := newSubscriber(t, rdb, h, sink,
		pubsub.SubscriberConfig{Channel: n.channel, DeliveryChannel: n.delivery, MaxMessageSize: len(payload) + 8})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	publish(t, rdb, n.channel, payload)
	publish(t, rdb, n.channel, bare("s", n.channel)) // a sentinel that fits, stored form included
	// reused is counted just after the sink has the message
	poll.Until(t, "the sentinel delivered as prepared", func() bool { return s.Stats().DeliveriesReused == 1 })
	checkTitles(t, "the gateway", &sink.recordingSink, "s")
	if st := s.Stats(); st.Dropped[pubsub.DropTooLarge] != 1 || st.HistoryWritten != 1 || st.Delivered != 1 {
		t.Errorf("stats = %+v, want the large one dropped as too large, the sentinel stored and delivered", st)
	}
	if got := siteOrder(t, h, testHost); len(got) != 1 {
		t.Errorf("the site stored %d messages, want the sentinel alone", len(got))
	}
}

// The intake is stored and never delivered from the intake channel: only
// what arrives on the delivery channel reaches the sink.
func TestInboxIntakeNotDelivered(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	// The history publishes its deliveries elsewhere: the gateway stores
	// what it reads on the intake and never hears of it again.
	h := newHistory(t, rdb, history.Config{Key: n.key, DeliveryChannel: n.delivery + ":elsewhere"})
	sink := &inboxSink{}
	s := newSubscriber(t, rdb, h, sink, pubsub.SubscriberConfig{Channel: n.channel, DeliveryChannel: n.delivery})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)

	publish(t, rdb, n.channel, bare("intake", n.channel))
	poll.Until(t, "the intake stored", func() bool { return s.Stats().HistoryWritten == 1 })
	sentinel := newMessage("sentinel")
	sentinel.ID = message.DeriveID(sentinel.Timestamp, []byte("sentinel"))
	publish(t, rdb, n.delivery, history.Delivery{Kind: history.DeliveryMessage, Seq: 7, Stored: sentinel.StoredJSON()}.String())
	poll.Until(t, "the sentinel delivered", func() bool { return s.Stats().Delivered == 1 })
	checkTitles(t, "the gateway", &sink.recordingSink, "sentinel")
	if r := s.Stats().DeliveriesReused; r != 0 {
		t.Errorf("DeliveriesReused = %d for a delivery the gateway never prepared, want 0", r)
	}
	if list, err := h.List(context.Background(), testHost); err != nil || len(list) != 1 || list[0].Title != "intake" {
		t.Errorf("List = %v, %v; want the intake message stored", list, err)
	}
}

// A gateway that lost its subscription fills the gap from the site's seq
// once it resubscribes: every message stored meanwhile (bare, stored by the
// other gateway, and API), once, in the site's order, before what follows.
func TestInboxGapFill(t *testing.T) {
	t.Parallel()
	_, srv := realRedis(t)
	n := newInboxNames(t)
	proxy := newStallProxy(t, srv.Addr())
	direct := newClient(t, srv.Addr())
	sinkA, sinkB := &inboxSink{}, &inboxSink{}
	a := n.gateway(t, newNamedClient(t, proxy.Addr(), gatewayA), sinkA)
	n.gateway(t, newClient(t, srv.Addr()), sinkB)
	h := n.history(t, direct)
	pub := n.publisher(t, direct, h)

	publishTitled(t, pub, testHost, "before")
	poll.Until(t, "before", func() bool { return len(sinkA.deliveries()) == 1 && len(sinkB.deliveries()) == 1 })

	proxy.Stall()
	if k := killSubscriptions(t, direct, gatewayA); k != 1 {
		t.Fatalf("killed %d subscriptions of A, want 1", k)
	}
	poll.Until(t, "A unsubscribed", func() bool { return numSub(t, direct, n.delivery) == 1 })
	publishTitled(t, pub, testHost, "g0")
	publish(t, direct, n.channel, bare("g1", n.channel))
	publishTitled(t, pub, testHost, "g2")
	publish(t, direct, n.channel, bare("g3", n.channel))
	poll.Until(t, "B to get the gap live", func() bool { return len(sinkB.deliveries()) == 5 })

	proxy.Unstall()
	poll.Until(t, "A's gap fill", func() bool { return a.Ready() && a.Stats().GapFills == 1 })
	publishTitled(t, pub, testHost, "l0")
	poll.Until(t, "A's deliveries", func() bool { return len(sinkA.deliveries()) >= 6 })
	// A bare PUBLISH is stored when a gateway reads it: the site's order,
	// not the order of the calls above, is the one to follow.
	titles := sinkA.titles()
	if slices.Sort(titles[1:5]); !slices.Equal(titles, []string{"before", "g0", "g1", "g2", "g3", "l0"}) {
		t.Errorf("A delivered %q, want before, the gap, l0", sinkA.titles())
	}
	order := siteOrder(t, h, testHost)
	if got := deliveredIDs(&sinkA.recordingSink); !slices.Equal(got, order) {
		t.Errorf("A delivered %q, want the site's order %q", got, order)
	}
	if st := a.Stats(); st.GapFilled != 4 || st.Delivered != 6 || st.Reconnects != 1 {
		t.Errorf("A's stats = %+v, want 4 filled of 6 delivered, 1 reconnect", st)
	}
	poll.Until(t, "B's deliveries", func() bool { return len(sinkB.deliveries()) == 6 })
	if got := deliveredIDs(&sinkB.recordingSink); !slices.Equal(got, order) {
		t.Errorf("B delivered %q, want the site's order %q", got, order)
	}
}

// Updates and retracts of stored messages reach a ChangeSink with their
// push form; a sink that is not one ignores them.
func TestInboxChanges(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	sink, plain := &inboxSink{}, &recordingSink{}
	s := n.gateway(t, rdb, sink)
	other := n.gateway(t, rdb, plain)
	h := n.history(t, rdb)
	pub := n.publisher(t, rdb, h)
	m := newMessage("first")
	m.Channel = ""
	if err := pub.Publish(context.Background(), m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	poll.Until(t, "the message", func() bool { return len(sink.deliveries()) == 1 })

	ctx := context.Background()
	if _, err := h.Update(ctx, testHost, m.ID, func(m *message.Message) error { m.Title = "second"; return nil }); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if _, err := h.Retract(ctx, testHost, m.ID); err != nil {
		t.Fatalf("Retract: %v", err)
	}
	poll.Until(t, "the retract", func() bool { return s.Stats().Retracted == 1 })
	updates, retracts, _, _ := sink.changes()
	if len(updates) != 1 || updates[0].m.ID != m.ID || updates[0].m.Title != "second" ||
		!strings.Contains(string(updates[0].push), `"second"`) || strings.Contains(string(updates[0].push), `"target"`) {
		t.Errorf("updates = %+v, want %s titled second, push form without target", updates, m.ID)
	}
	if len(retracts) != 1 || retracts[0].ID != m.ID {
		t.Errorf("retracts = %+v, want %s", retracts, m.ID)
	}
	if st := s.Stats(); st.Updated != 1 || st.Delivered != 1 || st.Deliveries != 3 {
		t.Errorf("stats = %+v, want 3 deliveries: 1 message, 1 update, 1 retract", st)
	}
	poll.Until(t, "the other gateway to read them", func() bool { return other.Stats().Deliveries == 3 })
	if st := other.Stats(); st.Delivered != 1 || st.Updated != 0 || st.Retracted != 0 {
		t.Errorf("a plain sink's stats = %+v, want the changes ignored", st)
	}
}

// Malformed payloads of the delivery channel are counted and dropped.
func TestInboxMalformedDeliveries(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	sink := &inboxSink{}
	s := n.gateway(t, rdb, sink)
	noID := newMessage("no id")
	bad := []string{
		"",
		"garbage",
		"m",
		"m 12",
		"q 1 {}",
		"m 0 " + string(noID.StoredJSON()),
		"m x " + string(noID.StoredJSON()),
		"m 1 not json",
		"m 1 " + string(noID.StoredJSON()), // no id
		"m 1 " + `{"id":"x","host":"` + strings.Repeat("h", message.DefaultMaxSize) + `"}`,
	}
	for _, p := range bad {
		publish(t, rdb, n.delivery, p)
	}
	good := newMessage("good")
	good.ID = message.DeriveID(good.Timestamp, []byte("good"))
	publish(t, rdb, n.delivery, history.Delivery{Kind: history.DeliveryMessage, Seq: 1, Stored: good.StoredJSON()}.String())
	poll.Until(t, "the good delivery", func() bool { return s.Stats().Delivered == 1 })
	checkTitles(t, "the gateway", &sink.recordingSink, "good")
	if st := s.Stats(); st.Dropped[pubsub.DropDeliveryMalformed] != uint64(len(bad)) || st.Deliveries != uint64(len(bad)+1) {
		t.Errorf("stats = %+v, want %d malformed deliveries dropped", st, len(bad))
	}
	if !s.Ready() {
		t.Error("not ready after malformed deliveries")
	}
}

// Inbox and prefs control messages, published by the Announcer, reach an
// InboxSink; malformed ones are counted and dropped, and the Announcer
// refuses to publish them.
func TestInboxControl(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	n := newInboxNames(t)
	control := keyPrefix(t) + ":control"
	sink := &inboxSink{}
	s := newSubscriber(t, rdb, n.history(t, rdb), sink,
		pubsub.SubscriberConfig{Channel: n.channel, DeliveryChannel: n.delivery, ControlChannel: control})
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	an, err := pubsub.NewAnnouncer(rdb, pubsub.AnnouncerConfig{ControlChannel: control})
	if err != nil {
		t.Fatalf("NewAnnouncer: %v", err)
	}
	ctx := context.Background()

	long := strings.Repeat("x", 300)
	many := make([]string, pubsub.MaxMuted+1)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	refused := []func() error{
		func() error { return an.Counts(ctx, "", "bob", history.Counts{}) },
		func() error { return an.Counts(ctx, testHost, "", history.Counts{}) },
		func() error { return an.Counts(ctx, testHost, long, history.Counts{}) },
		func() error { return an.Counts(ctx, testHost, "bob", history.Counts{Unread: -1}) },
		func() error { return an.Prefs(ctx, testHost, "bob", history.Prefs{Muted: many}) },
		func() error { return an.Prefs(ctx, testHost, "bob", history.Prefs{Muted: []string{""}}) },
		func() error { return an.Prefs(ctx, testHost, "bob", history.Prefs{Muted: []string{long}}) },
	}
	for i, f := range refused {
		if err := f(); !errors.Is(err, message.ErrInvalid) {
			t.Errorf("announcement %d: err = %v, want message.ErrInvalid", i, err)
		}
	}
	bad := []string{
		`{"action":"inbox","host":"` + testHost + `","unread":1,"unseen":1}`,
		`{"action":"inbox","host":"` + testHost + `","user":"bob","unread":-1,"unseen":0}`,
		`{"action":"inbox","host":"` + testHost + `","user":"bob","unread":"1"}`,
		`{"action":"inbox","user":"bob"}`,
		`{"action":"prefs","host":"` + testHost + `","user":"bob","muted":[""]}`,
		`{"action":"prefs","host":"` + testHost + `","user":"bob","muted":"content.review"}`,
		`{"action":"prefs","host":"` + testHost + `","user":"` + long + `","muted":[]}`,
		`{"action":"prefs","host":"` + strings.Repeat("h", 2000) + `","user":"bob"}`,
		`{"action":"prefs","host":"` + testHost + `","user":"bob","muted":["` + strings.Repeat(`x","`, 40000) + `"]}`,
	}
	for _, p := range bad {
		publish(t, rdb, control, p)
	}
	if err := an.Counts(ctx, testHost, "bob", history.Counts{Unread: 3, Unseen: 1}); err != nil {
		t.Fatalf("Counts: %v", err)
	}
	if err := an.Prefs(ctx, testHost, "bob", history.Prefs{Muted: []string{"content.review", "site.*"}}); err != nil {
		t.Fatalf("Prefs: %v", err)
	}
	if err := an.Prefs(ctx, testHost, "carol", history.Prefs{}); err != nil {
		t.Fatalf("Prefs: %v", err)
	}
	poll.Until(t, "the announcements", func() bool { return s.Stats().PrefsChanges == 2 })
	_, _, counts, prefs := sink.changes()
	if want := []string{testHost + " bob 3 1"}; !slices.Equal(counts, want) {
		t.Errorf("InboxChanged calls = %q, want %q", counts, want)
	}
	if want := []string{testHost + " bob content.review,site.*", testHost + " carol "}; !slices.Equal(prefs, want) {
		t.Errorf("PrefsChanged calls = %q, want %q", prefs, want)
	}
	if st := s.Stats(); st.ControlMalformed != uint64(len(bad)) || st.InboxChanges != 1 || st.Control != uint64(len(bad)+3) {
		t.Errorf("stats = %+v, want %d malformed control messages, 1 inbox change", st, len(bad))
	}
}

func TestInboxConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"})
	t.Cleanup(func() { _ = rdb.Close() })
	h := newHistory(t, rdb, history.Config{})
	for name, tc := range map[string]struct {
		h   pubsub.SubscriberHistory
		cfg pubsub.SubscriberConfig
	}{
		"no history":          {nil, pubsub.SubscriberConfig{DeliveryChannel: "d"}},
		"delivery is intake":  {h, pubsub.SubscriberConfig{Channel: "c", DeliveryChannel: "c"}},
		"delivery is control": {h, pubsub.SubscriberConfig{DeliveryChannel: pubsub.DefaultControlChannel}},
		"page over MaxReplay": {h, pubsub.SubscriberConfig{DeliveryChannel: "d", GapFillPage: history.MaxReplay + 1}},
	} {
		if _, err := pubsub.NewSubscriber(rdb, tc.h, &recordingSink{}, tc.cfg); err == nil {
			t.Errorf("%s: NewSubscriber accepted %+v", name, tc.cfg)
		}
	}
}
