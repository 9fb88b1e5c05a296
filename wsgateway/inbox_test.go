package wsgateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// inboxEnv is a gateway with Config.Inbox set to a real history.Store on
// miniredis, and the id generator of the test's messages.
type inboxEnv struct {
	*testEnv
	store *history.Store
	gen   message.IDGen
}

// newInboxEnv starts a gateway whose inbox is a real history.Store (inbox on,
// hcfg's retention) on miniredis; cfg.Inbox is set to it.
func newInboxEnv(t *testing.T, cfg Config, hcfg history.Config) *inboxEnv {
	t.Helper()
	return newInboxEnvOn(t, miniredis.RunT(t).Addr(), cfg, hcfg)
}

// redisBackends are the Redis servers of the tests that run on both: the
// fast one and the truth.
var redisBackends = []struct {
	name string
	addr func(t *testing.T) string
}{
	{"miniredis", func(t *testing.T) string { return miniredis.RunT(t).Addr() }},
	{"redis-server", func(t *testing.T) string { return redistest.Start(t).Addr() }},
}

// onBackends runs test, in parallel subtests, on a gateway with cfg whose
// inbox is a history.Store on each of redisBackends.
func onBackends(t *testing.T, cfg Config, test func(*testing.T, *inboxEnv)) {
	for _, b := range redisBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, newInboxEnvOn(t, b.addr(t), cfg, history.Config{}))
		})
	}
}

// newInboxEnvOn is newInboxEnv on the Redis at addr.
func newInboxEnvOn(t *testing.T, addr string, cfg Config, hcfg history.Config) *inboxEnv {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	hcfg.Key = "wsgateway-inbox"
	hcfg.DeliveryChannel = "delivery:" + strings.ReplaceAll(t.Name(), " ", "_")
	store, err := history.New(rdb, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Inbox = store
	return &inboxEnv{testEnv: newEnv(t, envOptions{cfg: cfg}), store: store}
}

// msg returns a new message of site A from source to targets, with an id
// newer than every earlier one of the test.
func (e *inboxEnv) msg(source, title, category string, targets ...string) *message.Message {
	m := newMessage(siteA, source, title, targets...)
	m.ID = e.gen.New(time.Now())
	m.Category = category
	return m
}

// stored stores ms in the inbox, as the intake does, without delivering them.
func (e *inboxEnv) stored(t *testing.T, ms ...*message.Message) {
	t.Helper()
	entries := make([]history.Entry, len(ms))
	for i, m := range ms {
		entries[i] = history.EntryOf(m, m.StoredJSON())
	}
	if _, err := e.store.AppendBatch(t.Context(), entries); err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
}

// publish stores m and delivers it, as the delivery pipeline does.
func (e *inboxEnv) publish(t *testing.T, m *message.Message) {
	t.Helper()
	e.stored(t, m)
	e.g.Deliver(m, m.PushJSON())
}

func reader(sub string, principals ...string) history.Reader {
	return history.Reader{Host: siteA, User: sub, Principals: principals}
}

// inboxOf returns the counts of an inbox frame, and whether s is one.
func inboxOf(s string) (history.Counts, bool) {
	var f struct {
		Action string `json:"action"`
		history.Counts
	}
	if json.Unmarshal([]byte(s), &f) != nil || f.Action != protocol.ActionInbox {
		return history.Counts{}, false
	}
	return f.Counts, true
}

// expectInbox reads the next frame of c, which must be the inbox frame with
// unread and unseen.
func expectInbox(tb testing.TB, c *websocket.Conn, unread, unseen int) {
	tb.Helper()
	if got, want := readText(tb, c), string(protocol.InboxFrame(unread, unseen)); got != want {
		tb.Fatalf("got %s, want %s", got, want)
	}
}

// expectFrame reads the next frame of c, which must be want.
func expectFrame(tb testing.TB, c *websocket.Conn, want []byte) {
	tb.Helper()
	if got := readText(tb, c); got != string(want) {
		tb.Fatalf("got %s, want %s", got, want)
	}
}

// expectNothingBefore delivers a marker message to sub and checks that it is
// the next frame of every connection of cs: nothing was sent to them before
// it. The marker is not stored, but counted live.
func (e *inboxEnv) expectNothingBefore(t *testing.T, sub string, cs ...*websocket.Conn) {
	t.Helper()
	marker := newMessage(siteA, "users:marker", "marker for "+sub, sub)
	marker.ID = "marker-" + e.gen.New(time.Now())
	e.g.Deliver(marker, marker.PushJSON())
	for _, c := range cs {
		expectFrame(t, c, marker.PushJSON())
	}
}

// TestInboxReplay: ?since= replays from the inbox, page by page, what the
// client may see, however many messages of others the site stored
// meanwhile (far beyond PyAMS's 50-entry list), then the counts, then live
// with no duplicate at the seam.
func TestInboxReplay(t *testing.T) {
	t.Parallel()
	onBackends(t, Config{InboxPage: 2}, testInboxReplay)
}

func testInboxReplay(t *testing.T, e *inboxEnv) {
	b0 := e.msg("users:zed", "b0", "test", "users:bob")
	e.stored(t, b0)
	var want []*message.Message
	for i := range 3 {
		m := e.msg("users:zed", fmt.Sprint("b", i+1), "test", "users:bob", "users:carol")
		e.stored(t, m)
		want = append(want, m)
		for j := range 40 { // others' traffic: bob's messages leave PyAMS's list
			e.stored(t, e.msg("users:zed", fmt.Sprint("noise ", i, j), "test", "users:carol"))
		}
	}
	e.stored(t, e.msg("users:bob", "sent by bob", "test", "users:bob", message.Authenticated)) // his own: never replayed
	last := want[len(want)-1]

	c := e.connectWith(t, siteA, "since="+b0.ID, "users:bob", "users:bob", message.Authenticated)
	e.g.Deliver(last, last.PushJSON()) // still on its way when bob connected: replayed, not sent twice
	for _, m := range want {
		expectFrame(t, c, m.PushJSON())
	}
	expectInbox(t, c, 4, 4) // b0..b3
	live := e.msg("users:zed", "live", "test", message.Authenticated)
	e.publish(t, live)
	expectFrame(t, c, live.PushJSON())
	expectInbox(t, c, 5, 5)
	if s := e.g.Stats(); s.Replayed != 3 || s.Gaps != 0 || s.SeamSkipped != 1 || s.InboxErrors != 0 {
		t.Errorf("replayed %d, gaps %d, seam skipped %d, inbox errors %d; want 3, 0, 1, 0", s.Replayed, s.Gaps, s.SeamSkipped, s.InboxErrors)
	}
}

// TestInboxReplayGap: a since no longer kept (beyond retention), unknown or
// malformed gets the gap frame; then what is kept.
func TestInboxReplayGap(t *testing.T) {
	t.Parallel()
	e := newInboxEnv(t, Config{}, history.Config{InboxLength: 3})
	var ms []*message.Message
	for i := range 6 {
		m := e.msg("users:zed", fmt.Sprint("m", i), "test", "users:bob")
		e.stored(t, m)
		ms = append(ms, m)
	}
	t.Run("trimmed", func(t *testing.T) {
		c := e.connectWith(t, siteA, "since="+ms[0].ID, "users:bob", "users:bob")
		expectFrame(t, c, protocol.GapFrame(ms[0].ID))
		for _, m := range ms[3:] { // the 3 kept
			expectFrame(t, c, m.PushJSON())
		}
		expectInbox(t, c, 3, 3)
	})
	t.Run("malformed", func(t *testing.T) {
		c := e.connectWith(t, siteA, "since=not%20an%20id", "users:bob", "users:bob")
		expectFrame(t, c, protocol.GapFrame(""))
		expectInbox(t, c, 3, 3)
	})
}

// TestInboxLiveCounts: every connection reads its user's counts when it
// starts; a delivered message is followed by the new counts; InboxChanged
// sets them on every connection of that user, and only of that user.
func TestInboxLiveCounts(t *testing.T) {
	t.Parallel()
	// A badge after every batch: the throttle has its own test.
	e := newInboxEnv(t, Config{BadgeInterval: -1}, history.Config{})
	old := e.msg("users:zed", "old", "test", "users:bob")
	e.stored(t, old)
	tab1 := e.connect(t, siteA, "users:bob", "users:bob")
	tab2 := e.connect(t, siteA, "users:bob", "users:bob")
	alice := e.connect(t, siteA, "users:alice", "users:alice")
	for _, c := range []*websocket.Conn{tab1, tab2} {
		expectInbox(t, c, 1, 1)
	}
	expectInbox(t, alice, 0, 0)

	m := e.msg("users:zed", "new", "test", "users:bob")
	e.publish(t, m)
	for _, c := range []*websocket.Conn{tab1, tab2} {
		expectFrame(t, c, m.PushJSON())
		expectInbox(t, c, 2, 2)
	}
	if _, err := e.store.MarkSeen(t.Context(), reader("users:bob", "users:bob"), m.ID); err != nil {
		t.Fatal(err)
	}
	e.g.InboxChanged("HTTPS://SITE-A.example", "users:bob", history.Counts{Unread: 2, Unseen: 0}) // hosts compare case-insensitively
	for _, c := range []*websocket.Conn{tab1, tab2} {
		expectInbox(t, c, 2, 0)
	}
	e.g.InboxChanged(siteB, "users:bob", history.Counts{Unread: 9}) // another site
	e.expectNothingBefore(t, "users:bob", tab1, tab2)
	e.expectNothingBefore(t, "users:alice", alice)
	// The marker was not stored but counted live: the next change corrects it.
	e.g.InboxChanged(siteA, "users:bob", history.Counts{Unread: 2, Unseen: 0})
	for _, c := range []*websocket.Conn{tab1, tab2} {
		expectInbox(t, c, 3, 1)
		expectInbox(t, c, 2, 0)
	}
}

// TestInboxPrefsLive: a muted category is neither pushed nor counted, from
// the preferences read at connect and from PrefsChanged on.
func TestInboxPrefsLive(t *testing.T) {
	t.Parallel()
	e := newInboxEnv(t, Config{}, history.Config{})
	if err := e.store.SetPrefs(t.Context(), siteA, "users:bob", history.Prefs{Muted: []string{"site.*"}}); err != nil {
		t.Fatal(err)
	}
	c := e.connect(t, siteA, "users:bob", "users:bob")
	expectInbox(t, c, 0, 0)
	e.publish(t, e.msg("users:zed", "muted", "site.news", "users:bob"))
	review := e.msg("users:zed", "review", "content.review", "users:bob")
	e.publish(t, review)
	expectFrame(t, c, review.PushJSON())
	expectInbox(t, c, 1, 1)

	e.g.PrefsChanged(siteA, "users:bob", history.Prefs{Muted: []string{"content.review"}})
	e.publish(t, e.msg("users:zed", "muted now", "content.review", "users:bob"))
	news := e.msg("users:zed", "news", "site.news", "users:bob")
	e.publish(t, news)
	expectFrame(t, c, news.PushJSON())
	expectInbox(t, c, 2, 2)
	if got := e.g.Stats().MutedByPrefs; got != 2 {
		t.Errorf("muted by prefs = %d, want 2", got)
	}
}

// TestInboxUpdateRetract: update and retract frames reach only the
// connections that may see the message; a retract recounts their badges.
func TestInboxUpdateRetract(t *testing.T) {
	t.Parallel()
	onBackends(t, Config{}, testInboxUpdateRetract)
}

func testInboxUpdateRetract(t *testing.T, e *inboxEnv) {
	m := e.msg("users:alice", "draft", "test", "users:bob")
	e.stored(t, m)
	bob := e.connect(t, siteA, "users:bob", "users:bob")
	carol := e.connect(t, siteA, "users:carol", "users:carol")
	alice := e.connect(t, siteA, "users:alice", "users:alice", "users:bob") // the sender, even if targeted
	expectInbox(t, bob, 1, 1)
	expectInbox(t, carol, 0, 0)
	expectInbox(t, alice, 0, 0)

	updated, err := e.store.Update(t.Context(), siteA, m.ID, func(m *message.Message) error { m.Title = "final"; return nil })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	e.g.DeliverUpdate(updated, updated.PushJSON())
	want, _ := protocol.UpdateFrame(updated.PushJSON())
	expectFrame(t, bob, want)
	if !strings.Contains(string(want), `"title":"final"`) {
		t.Errorf("update frame %s lacks the new title", want)
	}

	retracted, err := e.store.Retract(t.Context(), siteA, m.ID)
	if err != nil {
		t.Fatalf("Retract: %v", err)
	}
	e.g.DeliverRetract(retracted)
	expectFrame(t, bob, protocol.RetractFrame(m.ID))
	expectInbox(t, bob, 0, 0) // recounted
	for sub, c := range map[string]*websocket.Conn{"users:carol": carol, "users:alice": alice} {
		e.expectNothingBefore(t, sub, c)
	}
	if got := e.g.Stats().Recounts; got != 1 {
		t.Errorf("recounts = %d, want 1 (bob)", got)
	}
}

// TestInboxDeviceResume: a connection with ?device= acknowledges what it
// got; a reconnect of the same user and device without since resumes after
// the last acknowledged id. Acks are coalesced, the latest wins.
func TestInboxDeviceResume(t *testing.T) {
	t.Parallel()
	onBackends(t, Config{}, testInboxDeviceResume)
}

func testInboxDeviceResume(t *testing.T, e *inboxEnv) {
	bob := reader("users:bob", "users:bob")
	c := e.connectWith(t, siteA, "device=phone-1", "users:bob", "users:bob")
	expectInbox(t, c, 0, 0) // no cursor yet: no replay
	var ms []*message.Message
	for i := range 3 {
		m := e.msg("users:zed", fmt.Sprint("m", i), "test", "users:bob")
		e.publish(t, m)
		expectFrame(t, c, m.PushJSON())
		expectInbox(t, c, i+1, i+1)
		ms = append(ms, m)
	}
	writeText(t, c, string(protocol.AckFrame(ms[0].ID)))
	writeText(t, c, string(protocol.AckFrame(ms[1].ID)))
	poll.Until(t, "the ack stored", func() bool {
		id, err := e.store.DeviceCursor(t.Context(), bob, "phone-1")
		return err == nil && id == ms[1].ID
	})
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	late := e.msg("users:zed", "late", "test", "users:bob")
	e.stored(t, late)

	c2 := e.connectWith(t, siteA, "device=phone-1", "users:bob", "users:bob")
	expectFrame(t, c2, ms[2].PushJSON())
	expectFrame(t, c2, late.PushJSON())
	expectInbox(t, c2, 4, 4)
	other := e.connectWith(t, siteA, "device=laptop", "users:bob", "users:bob")
	expectInbox(t, other, 4, 4) // another device has no cursor: no replay
	if s := e.g.Stats(); s.Acks != 2 || s.Ignored != 0 {
		t.Errorf("acks %d, ignored %d; want 2, 0", s.Acks, s.Ignored)
	}
}

// TestInboxAckMalformed: only the exact ack frame of a connection with a
// device is an ack; anything else is ignored and counted.
func TestInboxAckMalformed(t *testing.T) {
	t.Parallel()
	e := newInboxEnv(t, Config{}, history.Config{})
	m := e.msg("users:zed", "m", "test", "users:bob")
	e.stored(t, m)
	c := e.connectWith(t, siteA, "device=d1", "users:bob", "users:bob")
	plain := e.connect(t, siteA, "users:bob", "users:bob")
	expectInbox(t, c, 1, 1)
	expectInbox(t, plain, 1, 1)
	bad := []string{
		`{"action":"ack","id":"bad id"}`,
		`{"action":"ack"}`,
		`{"action":"ack","id":"` + m.ID + `","x":1}`,
		`{"action":"ack","id":"` + strings.Repeat("a", message.MaxIDLength+1) + `"}`,
		`{"action":"ack","id":"` + m.ID + `"}` + strings.Repeat(" ", protocol.MaxAckFrameSize),
		`{"action":"read","id":"` + m.ID + `"}`,
	}
	for _, s := range bad {
		writeText(t, c, s)
	}
	writeText(t, plain, string(protocol.AckFrame(m.ID))) // no device: not an ack
	for _, ws := range []*websocket.Conn{c, plain} {
		writeText(t, ws, protocol.Ping)
		expectFrame(t, ws, protocol.PongFrame)
	}
	if s := e.g.Stats(); s.Ignored != uint64(len(bad))+1 || s.Acks != 0 {
		t.Errorf("ignored %d, acks %d; want %d, 0", s.Ignored, s.Acks, len(bad)+1)
	}
	if id, err := e.store.DeviceCursor(t.Context(), reader("users:bob", "users:bob"), "d1"); err != nil || id != "" {
		t.Errorf("device cursor = %q, %v; want none", id, err)
	}
}

// TestInboxDeviceInvalid: a malformed ?device= is refused before the upgrade.
func TestInboxDeviceInvalid(t *testing.T) {
	t.Parallel()
	e := newInboxEnv(t, Config{}, history.Config{})
	for _, d := range []string{"a%20b", strings.Repeat("d", MaxDeviceLength+1), "%7B%7D"} {
		_, resp, err := e.dial(t, dialOptions{
			query:        "host=" + siteA + "&device=" + d,
			subprotocols: []string{protocol.SubProtocol, mint(t, "users:bob", time.Hour, "users:bob")},
		})
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("device %q: err %v, resp %v; want 400", d, err, resp)
		}
	}
	if got := e.g.Stats().Rejected[RejectDevice]; got != 3 {
		t.Errorf("rejected device = %d, want 3", got)
	}
}

// TestInboxMutedConnection: a PyAMS connection muted at its token's expiry
// gets no inbox, update or retract frame, and no message; PING still works.
func TestInboxMutedConnection(t *testing.T) {
	t.Parallel()
	e := newInboxEnv(t, Config{}, history.Config{})
	m := e.msg("users:zed", "m", "test", "users:bob")
	e.stored(t, m)
	c := e.dialExpiring(t, auth.SourceSubprotocol, "users:bob", "users:bob")
	expectInbox(t, c, 1, 1)
	expectFrame(t, c, protocol.LogoutFrame)
	poll.Until(t, "the connection muted", func() bool { return e.g.Stats().Muted == 1 })
	e.g.InboxChanged(siteA, "users:bob", history.Counts{Unread: 5})
	e.g.PrefsChanged(siteA, "users:bob", history.Prefs{})
	e.g.DeliverUpdate(m, m.PushJSON())
	e.g.DeliverRetract(m)
	e.publish(t, e.msg("users:zed", "after", "test", "users:bob"))
	writeText(t, c, protocol.Ping)
	expectFrame(t, c, protocol.PongFrame)
	if s := e.g.Stats(); s.Delivered != 0 || s.Recounts != 0 {
		t.Errorf("delivered %d, recounts %d to a muted connection; want 0, 0", s.Delivered, s.Recounts)
	}
}

// TestInboxFailures: when the inbox cannot be read, the catch-up gets the
// gap frame, there is no inbox frame, and live messages still flow.
func TestInboxFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{cfg: Config{Inbox: failingInbox{}}})
	c := e.connectWith(t, siteA, "since=01KAKF8G0V7P3HZ2W9QX4T1B6C&device=d1", "users:bob", "users:bob")
	expectFrame(t, c, protocol.GapFrame("01KAKF8G0V7P3HZ2W9QX4T1B6C"))
	m := histMsg("01KAKF8G0V7P3HZ2W9QX4T1B6D", siteA, "users:zed", "users:bob")
	e.g.Deliver(m, m.PushJSON())
	expectFrame(t, c, m.PushJSON()) // no inbox frame: the counts are unknown
	e.g.InboxChanged(siteA, "users:bob", history.Counts{Unread: 1, Unseen: 1})
	expectInbox(t, c, 1, 1) // known now
	writeText(t, c, string(protocol.AckFrame(m.ID)))
	poll.Until(t, "every failure counted", func() bool { return e.g.Stats().InboxErrors == 4 }) // after, count, prefs, ack
}

// failingInbox fails every call.
type failingInbox struct{}

var errInboxDown = fmt.Errorf("inbox down: %w", context.DeadlineExceeded)

func (failingInbox) After(context.Context, history.Reader, string, int) ([]history.Item, bool, error) {
	return nil, false, errInboxDown
}
func (failingInbox) Count(context.Context, history.Reader) (history.Counts, error) {
	return history.Counts{}, errInboxDown
}
func (failingInbox) Prefs(context.Context, string, string) (history.Prefs, error) {
	return history.Prefs{}, errInboxDown
}
func (failingInbox) CountPrefs(context.Context, history.Reader) history.Opening {
	return history.Opening{CountsErr: errInboxDown, PrefsErr: errInboxDown}
}
func (failingInbox) Ack(context.Context, history.Reader, string, string) error { return errInboxDown }
func (failingInbox) DeviceCursor(context.Context, history.Reader, string) (string, error) {
	return "", errInboxDown
}
