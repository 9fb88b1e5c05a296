package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
)

// inboxStore is what the inbox tests need of a backend: the API's two
// interfaces, and a way to store a message as the pipeline does.
type inboxStore interface {
	Inbox
	Editor
}

// inboxBackend builds a fresh, empty store for one test.
type inboxBackend struct {
	name string
	new  func(t *testing.T) (st inboxStore, put func(testing.TB, *message.Message))
}

// inboxBackends are the stores every inbox test runs on: the in-memory
// one, and *history.Store on miniredis and on a real redis-server.
var inboxBackends = []inboxBackend{
	{"memory", func(*testing.T) (inboxStore, func(testing.TB, *message.Message)) {
		st := newMemInbox()
		return st, func(_ testing.TB, m *message.Message) { st.store(m) }
	}},
	{"miniredis", func(t *testing.T) (inboxStore, func(testing.TB, *message.Message)) {
		return redisInbox(t, miniredis.RunT(t).Addr())
	}},
	{"redis", func(t *testing.T) (inboxStore, func(testing.TB, *message.Message)) {
		return redisInbox(t, redistest.Start(t).Addr())
	}},
}

var (
	_ Inbox  = (*history.Store)(nil)
	_ Editor = (*history.Store)(nil)
)

// redisInbox returns a *history.Store with the inbox on, on the Redis at
// addr, and a put that stores a message as the pipeline does (the append
// script indexes it under each target principal).
func redisInbox(t *testing.T, addr string) (inboxStore, func(testing.TB, *message.Message)) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	h, err := history.New(rdb, history.Config{DeliveryChannel: history.DefaultDeliveryChannel})
	if err != nil {
		t.Fatal(err)
	}
	return h, func(tb testing.TB, m *message.Message) {
		tb.Helper()
		if _, err := h.AppendBatch(context.Background(), []history.Entry{history.EntryOf(m, m.StoredJSON())}); err != nil {
			tb.Fatalf("store %s: %v", m.ID, err)
		}
	}
}

// forEachBackend runs test once per backend, in parallel.
func forEachBackend(t *testing.T, test func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message))) {
	t.Helper()
	for _, b := range inboxBackends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st, put := b.new(t)
			test(t, st, put)
		})
	}
}

// recordingEvents records what is announced, failing with err when set.
type recordingEvents struct {
	err error // immutable after construction

	mu     sync.Mutex
	counts []announced // guarded by mu
	prefs  []announced // guarded by mu
}

type announced struct {
	host, user string
	counts     history.Counts
	muted      []string
}

func (e *recordingEvents) Counts(_ context.Context, host, user string, c history.Counts) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts = append(e.counts, announced{host: host, user: user, counts: c})
	return e.err
}

func (e *recordingEvents) Prefs(_ context.Context, host, user string, p history.Prefs) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prefs = append(e.prefs, announced{host: host, user: user, muted: p.Muted})
	return e.err
}

// lastCounts returns the last counts announced and how many were.
func (e *recordingEvents) lastCounts() (announced, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.counts) == 0 {
		return announced{}, 0
	}
	return e.counts[len(e.counts)-1], len(e.counts)
}

// The reader of these tests and the messages of its site.
const jdoe = "users:jdoe"

func jdoeToken(tb testing.TB) []string { return bearer(mint(tb, jdoe, "John", "group:editors")) }

// inboxNote is a stored message of siteA from sender to targets.
func inboxNote(id, sender, category string, targets ...string) *message.Message {
	m := note(id, siteA, sender, targets...)
	m.Category = category
	return m
}

// seedInbox stores, oldest first: I1 to jdoe, I2 a broadcast, I3 sent by
// jdoe (never listed to jdoe), I4 for someone else (never listed), I5 to
// jdoe's group with a target key "recipient", I6 to jdoe in another
// category. jdoe sees I6 I5 I2 I1, newest first.
func seedInbox(tb testing.TB, put func(testing.TB, *message.Message)) map[string]*message.Message {
	tb.Helper()
	i5 := inboxNote("I5", "users:boss", "content.review", "group:editors")
	i5.Extra = map[string]json.RawMessage{"recipient": json.RawMessage(`"group:editors"`), "extra": json.RawMessage(`{"a":1}`)}
	i5.Target.Keys = []string{"recipient"}
	msgs := []*message.Message{
		inboxNote("I1", "users:boss", "content.review", jdoe),
		inboxNote("I2", "users:boss", "site.news", message.Authenticated),
		inboxNote("I3", jdoe, "content.review", "group:editors"),
		inboxNote("I4", "users:boss", "content.review", "users:other"),
		i5,
		inboxNote("I6", "users:boss", "site.alert", jdoe),
	}
	byID := map[string]*message.Message{}
	for _, m := range msgs {
		put(tb, m)
		byID[m.ID] = m
	}
	return byID
}

// inboxBody is GET /api/inbox's answer, items kept raw.
type inboxBody struct {
	Notifications []json.RawMessage `json:"notifications"`
	Unread        int               `json:"unread"`
	Unseen        int               `json:"unseen"`
	Next          *string           `json:"next"`
	Gap           bool              `json:"gap"`
}

func (b inboxBody) ids(tb testing.TB) []string {
	tb.Helper()
	return notificationsBody{Notifications: b.Notifications}.ids(tb)
}

// reads maps each listed id to its "read".
func (b inboxBody) reads(tb testing.TB) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	for _, raw := range b.Notifications {
		var item struct {
			ID   string `json:"id"`
			Read bool   `json:"read"`
		}
		decodeJSON(tb, raw, &item)
		out[item.ID] = item.Read
	}
	return out
}

func getInbox(tb testing.TB, f *fixture, query string) inboxBody {
	tb.Helper()
	r := f.do(tb, http.MethodGet, PathInbox+query, "", jdoeToken(tb)...).wantStatus(tb, http.StatusOK)
	var b inboxBody
	decodeJSON(tb, r.body, &b)
	if b.Notifications == nil {
		tb.Fatalf("notifications must be a list: %s", r.body)
	}
	return b
}

// counts sends a request of jdoe's and decodes its counts answer.
func counts(tb testing.TB, f *fixture, method, path, body string) history.Counts {
	tb.Helper()
	r := f.do(tb, method, path, body, jdoeToken(tb)...).wantStatus(tb, http.StatusOK)
	var raw map[string]json.RawMessage
	decodeJSON(tb, r.body, &raw)
	if len(raw) != 2 {
		tb.Fatalf("counts answer %s, want unread and unseen only", r.body)
	}
	var c history.Counts
	decodeJSON(tb, r.body, &c)
	return c
}

func inboxFixture(tb testing.TB, st inboxStore, ev InboxEvents) *fixture {
	tb.Helper()
	return newFixture(tb, func(c *Config) { c.Inbox, c.Editor, c.InboxEvents = st, st, ev })
}

func TestInboxList(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		byID := seedInbox(t, put)
		f := inboxFixture(t, st, nil)
		b := getInbox(t, f, "")
		if got := b.ids(t); !slices.Equal(got, []string{"I6", "I5", "I2", "I1"}) {
			t.Fatalf("ids %v, want I6 I5 I2 I1 (newest first, never the reader's own nor others')", got)
		}
		if b.Unread != 4 || b.Unseen != 4 || b.Next != nil || b.Gap {
			t.Fatalf("unread %d unseen %d next %v gap %v", b.Unread, b.Unseen, b.Next, b.Gap)
		}
		for _, raw := range b.Notifications {
			var item map[string]json.RawMessage
			decodeJSON(t, raw, &item)
			for _, hidden := range []string{"target", "recipient"} {
				if _, ok := item[hidden]; ok {
					t.Fatalf("%s leaked: %s", hidden, raw)
				}
			}
			var id string
			decodeJSON(t, item["id"], &id)
			push := byID[id].PushJSON()
			want := append(push[:len(push)-1:len(push)-1], `,"read":false}`...)
			if !bytes.Equal(raw, want) {
				t.Fatalf("item\n got %s\nwant %s", raw, want)
			}
		}
	})
}

func TestInboxPaging(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		seedInbox(t, put)
		f := inboxFixture(t, st, nil)
		cases := []struct {
			query string
			want  []string
			next  string
			gap   bool
		}{
			{"?limit=2", []string{"I6", "I5"}, "I5", false},
			{"?limit=2&before=I5", []string{"I2", "I1"}, "", false},
			{"?before=I2", []string{"I1"}, "", false},
			{"?after=I2", []string{"I5", "I6"}, "", false}, // newer ones, oldest first
			{"?after=I1&limit=2", []string{"I2", "I5"}, "I5", false},
			{"?after=I5&limit=2", []string{"I6"}, "", false},
			{"?after=I6", []string{}, "", false},
			// An unknown cursor: the newest entries, oldest first, and a gap.
			{"?after=GONE", []string{"I1", "I2", "I5", "I6"}, "", true},
			{"?after=GONE&limit=2", []string{"I5", "I6"}, "", true},
			{"?after=I4", []string{"I1", "I2", "I5", "I6"}, "", true}, // invisible: as unknown
			{"?category=site.news", []string{"I2"}, "", false},
			{"?category=site.alert&unread=true", []string{"I6"}, "", false},
		}
		for _, c := range cases {
			b := getInbox(t, f, c.query)
			next := ""
			if b.Next != nil {
				next = *b.Next
			}
			if got := b.ids(t); !slices.Equal(got, c.want) || next != c.next || b.Gap != c.gap {
				t.Errorf("%s: ids %v next %q gap %v, want %v %q %v", c.query, got, next, b.Gap, c.want, c.next, c.gap)
			}
		}
	})
}

// TestInboxState walks read, unread, seen, read all and preferences, and
// checks the counts each answers, GET /api/inbox/count, the listed read
// flags and what is announced.
func TestInboxState(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		seedInbox(t, put)
		ev := &recordingEvents{}
		f := inboxFixture(t, st, ev)
		steps := []struct {
			name         string
			method, path string
			body         string
			want         history.Counts
			read         []string // listed as read afterwards
		}{
			{"seen up to I5", http.MethodPost, PathInboxSeen, `{"until":"I5"}`, history.Counts{Unread: 4, Unseen: 1}, nil},
			{"read two", http.MethodPost, PathInboxRead, `{"ids":["I1","I6","I1"]}`, history.Counts{Unread: 2, Unseen: 0}, []string{"I1", "I6"}},
			{"unread one", http.MethodPost, PathInboxUnread, `{"ids":["I6"]}`, history.Counts{Unread: 3, Unseen: 1}, []string{"I1"}},
			{"read all", http.MethodPost, PathInboxRead, `{"all":true}`, history.Counts{}, []string{"I1", "I2", "I5", "I6"}},
			{"unread two", http.MethodPost, PathInboxUnread, `{"ids":["I2","I6"]}`, history.Counts{Unread: 2, Unseen: 1}, []string{"I1", "I5"}},
		}
		for i, s := range steps {
			got := counts(t, f, s.method, s.path, s.body)
			if got != s.want {
				t.Fatalf("%s: counts %+v, want %+v", s.name, got, s.want)
			}
			if got := counts(t, f, http.MethodGet, PathInboxCount, ""); got != s.want {
				t.Fatalf("%s: GET count %+v, want %+v", s.name, got, s.want)
			}
			a, n := ev.lastCounts()
			if n != i+1 || a.host != siteA || a.user != jdoe || a.counts != s.want {
				t.Fatalf("%s: announced %+v (%d announcements), want %+v", s.name, a, n, s.want)
			}
			b := getInbox(t, f, "")
			for id, read := range b.reads(t) {
				if read != slices.Contains(s.read, id) {
					t.Fatalf("%s: %s read=%v, want the read ones to be %v", s.name, id, read, s.read)
				}
			}
			if b.Unread != s.want.Unread || b.Unseen != s.want.Unseen {
				t.Fatalf("%s: page counts %d/%d, want %+v", s.name, b.Unread, b.Unseen, s.want)
			}
		}
		if got := getInbox(t, f, "?unread=true").ids(t); !slices.Equal(got, []string{"I6", "I2"}) {
			t.Fatalf("unread only: %v, want I6 I2", got)
		}

		// Muting site.* leaves I6 and I2 listed but no longer counted.
		r := f.do(t, http.MethodPut, PathInboxPreferences, `{"muted":["site.*","content.other","site.*"]}`, jdoeToken(t)...).wantStatus(t, http.StatusOK)
		if want := `{"muted":["site.*","content.other"]}` + "\n"; string(r.body) != want {
			t.Fatalf("PUT preferences answered %s, want %s", r.body, want)
		}
		r = f.do(t, http.MethodGet, PathInboxPreferences, "", jdoeToken(t)...).wantStatus(t, http.StatusOK)
		if want := `{"muted":["site.*","content.other"]}` + "\n"; string(r.body) != want {
			t.Fatalf("GET preferences answered %s, want %s", r.body, want)
		}
		if got := counts(t, f, http.MethodGet, PathInboxCount, ""); got != (history.Counts{}) {
			t.Fatalf("counts with site.* muted: %+v, want none", got)
		}
		if got := getInbox(t, f, "").ids(t); !slices.Equal(got, []string{"I6", "I5", "I2", "I1"}) {
			t.Fatalf("muted entries must stay listed: %v", got)
		}
		ev.mu.Lock()
		prefs := slices.Clone(ev.prefs)
		ev.mu.Unlock()
		if len(prefs) != 1 || !slices.Equal(prefs[0].muted, []string{"site.*", "content.other"}) || prefs[0].user != jdoe || prefs[0].host != siteA {
			t.Fatalf("preferences announced %+v", prefs)
		}
		if a, _ := ev.lastCounts(); a.counts != (history.Counts{}) {
			t.Fatalf("counts announced after muting: %+v, want none", a.counts)
		}
	})
}

// TestInboxEmptyPreferences: a user who never set any has none, as a list.
func TestInboxEmptyPreferences(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, _ func(testing.TB, *message.Message)) {
		f := inboxFixture(t, st, nil)
		r := f.do(t, http.MethodGet, PathInboxPreferences, "", jdoeToken(t)...).wantStatus(t, http.StatusOK)
		if want := `{"muted":[]}` + "\n"; string(r.body) != want {
			t.Fatalf("answered %s, want %s", r.body, want)
		}
	})
}

// TestInboxUnknownAndInvisibleAlike: an id the reader may not see is
// answered exactly as one that does not exist.
func TestInboxUnknownAndInvisibleAlike(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		seedInbox(t, put)
		f := inboxFixture(t, st, nil)
		requests := []struct{ method, path, body string }{
			{http.MethodPost, PathInboxSeen, `{"until":"%s"}`},
			{http.MethodPost, PathInboxRead, `{"ids":["%s"]}`},
			{http.MethodPost, PathInboxUnread, `{"ids":["%s"]}`},
			{http.MethodGet, PathInbox + "?before=%s", ""},
			{http.MethodGet, PathInbox + "?after=%s", ""},
		}
		for _, q := range requests {
			var answers []response
			for _, id := range []string{"GONE", "I4"} { // unknown, someone else's
				path, body := strings.Replace(q.path, "%s", id, 1), strings.Replace(q.body, "%s", id, 1)
				answers = append(answers, f.do(t, q.method, path, body, jdoeToken(t)...))
			}
			for _, a := range answers[1:] {
				if a.status != answers[0].status || !bytes.Equal(a.body, answers[0].body) {
					t.Fatalf("%s %s: %d %s differs from the unknown id's %d %s", q.method, q.path, a.status, a.body, answers[0].status, answers[0].body)
				}
			}
			if a := answers[0]; a.status != http.StatusOK && a.status != http.StatusNotFound {
				t.Fatalf("%s %s: %d %s", q.method, q.path, a.status, a.body)
			}
		}
		if got := counts(t, f, http.MethodGet, PathInboxCount, ""); got != (history.Counts{Unread: 4, Unseen: 4}) {
			t.Fatalf("counts changed by ids the reader may not see: %+v", got)
		}
	})
}

// TestInboxOtherSite: read state and lists are per site.
func TestInboxOtherSite(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		seedInbox(t, put)
		f := inboxFixture(t, st, nil)
		r := f.do(t, http.MethodGet, PathInbox+"?host="+url.QueryEscape(siteB), "", jdoeToken(t)...).wantStatus(t, http.StatusOK)
		if want := `{"notifications":[],"unread":0,"unseen":0,"next":null,"gap":false}` + "\n"; string(r.body) != want {
			t.Fatalf("site B: %s, want %s", r.body, want)
		}
	})
}
