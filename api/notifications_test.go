package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/message"
)

// note returns a stored message (with target) from sender to targets.
func note(id, host, sender string, targets ...string) *message.Message {
	return &message.Message{
		Host: host, Channel: "chat:main", Action: "notify", Category: "test",
		Status: "info", Title: "Title " + id, Body: "Body " + id,
		Source:    &message.Source{ID: sender, Title: sender},
		Target:    &message.Target{Principals: targets},
		Timestamp: "2025-01-18T17:20:54.123456+00:00",
		ID:        id,
	}
}

// notificationsBody is the decoded response, items kept raw.
type notificationsBody struct {
	Timestamp     string            `json:"timestamp"`
	Notifications []json.RawMessage `json:"notifications"`
	Gap           bool              `json:"gap"`
	More          bool              `json:"more"`
}

func (b notificationsBody) ids(tb testing.TB) []string {
	tb.Helper()
	ids := []string{}
	for _, raw := range b.Notifications {
		var m struct {
			ID string `json:"id"`
		}
		decodeJSON(tb, raw, &m)
		ids = append(ids, m.ID)
	}
	return ids
}

func getNotifications(tb testing.TB, f *fixture, query string, headers ...string) notificationsBody {
	tb.Helper()
	r := f.do(tb, http.MethodGet, PathNotifications+query, "", headers...).wantStatus(tb, http.StatusOK)
	var b notificationsBody
	decodeJSON(tb, r.body, &b)
	if b.Notifications == nil {
		tb.Fatalf("notifications must be a list, got %s", r.body)
	}
	return b
}

func TestNotificationsFiltering(t *testing.T) {
	t.Parallel()
	listA := []*message.Message{
		note("A7", siteA, "users:boss", message.Authenticated),      // broadcast: visible
		note("A6", siteA, "users:jdoe", "group:editors"),            // sent by the reader
		note("A5", siteA, "users:boss", "users:other"),              // not for the reader
		note("A4", siteA, "users:boss", "users:x", "group:editors"), // intersection
		note("A3", siteB, "users:boss", "group:editors"),            // another site in A's list
		note("A2", siteA, "users:boss"),                             // no target: nobody
		note("A1", siteA, "users:boss", "users:jdoe"),               // direct
	}
	listB := []*message.Message{
		note("B2", siteB, "users:boss", "users:jdoe"),
		note("B1", siteB, "users:boss", "group:other"),
	}
	f := newFixture(t, withHistory(map[string][]*message.Message{siteA: listA, siteB: listB}))
	tok := bearer(mint(t, "users:jdoe", "John", "group:editors"))
	byID := map[string]*message.Message{}
	for _, m := range slices.Concat(listA, listB) {
		byID[m.ID] = m
	}
	cases := []struct {
		name    string
		query   string
		headers []string
		want    []string
	}{
		{"origin A", "", []string{"Origin", siteA}, []string{"A7", "A4", "A1"}},
		{"origin B", "", []string{"Origin", siteB}, []string{"B2"}},
		{"host param B", "?host=" + url.QueryEscape(siteB), nil, []string{"B2"}},
		{"origin wins over host", "?host=" + url.QueryEscape(siteB), []string{"Origin", siteA}, []string{"A7", "A4", "A1"}},
		{"default site", "", nil, []string{"A7", "A4", "A1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := getNotifications(t, f, c.query, slices.Concat(tok, c.headers)...)
			if got := b.ids(t); !slices.Equal(got, c.want) {
				t.Fatalf("ids %v, want %v", got, c.want)
			}
			for _, raw := range b.Notifications {
				var item map[string]json.RawMessage
				decodeJSON(t, raw, &item)
				if _, ok := item["target"]; ok {
					t.Fatalf("target leaked: %s", raw)
				}
				var id string
				decodeJSON(t, item["id"], &id)
				if want := byID[id].PushJSON(); !bytes.Equal(raw, want) {
					t.Fatalf("item\n got %s\nwant %s", raw, want)
				}
			}
			if b.Timestamp != message.FormatTimestamp(fixedNow()) || b.Gap || b.More {
				t.Fatalf("timestamp %q gap %v more %v", b.Timestamp, b.Gap, b.More)
			}
		})
	}
}

func TestNotificationsNoSite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) {
		c.Sites = mustPolicy(t, []string{siteA}, "")
	})
	r := f.do(t, http.MethodGet, PathNotifications, "", bearer(mint(t, "users:jdoe", ""))...)
	r.wantError(t, http.StatusBadRequest, errNoSite.message)
}

// TestNotificationsSiteIsBounded: the site names a Redis key; a host
// parameter longer than any origin is refused before it reaches one.
func TestNotificationsSiteIsBounded(t *testing.T) {
	t.Parallel()
	h := &countingHistory{}
	f := newFixture(t, func(c *Config) { c.History = h })
	tok := bearer(mint(t, "users:jdoe", ""))
	longest := "https://" + strings.Repeat("a.", 126) + "b:65535" // a 253-byte DNS name
	getNotifications(t, f, "?host="+url.QueryEscape(longest), tok...)
	f.do(t, http.MethodGet, PathNotifications+"?host=https://"+strings.Repeat("a", 5000)+".example", "", tok...).
		wantError(t, http.StatusBadRequest, errBadSite.message)
	if got := h.hosts(); !slices.Equal(got, []string{longest}) {
		t.Fatalf("history read for %q, want only the longest valid site", got)
	}
}

func TestNotificationsWithoutHistory(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.History = nil })
	r := f.do(t, http.MethodGet, PathNotifications, "", bearer(mint(t, "users:jdoe", ""))...).wantStatus(t, http.StatusOK)
	want := `{"timestamp":"2025-01-18T17:21:00.000000+00:00","notifications":[],"gap":false,"more":false}` + "\n"
	if string(r.body) != want {
		t.Fatalf("body %s, want %s", r.body, want)
	}
}

func TestNotificationsHistoryFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.History = &fakeHistory{err: fmt.Errorf("pubsub: lrange: %w", errBackend)} })
	r := f.do(t, http.MethodGet, PathNotifications, "", bearer(mint(t, "users:jdoe", ""))...)
	r.wantError(t, http.StatusServiceUnavailable, "service unavailable")
	if !strings.Contains(f.logs.String(), "secret-detail") || !strings.Contains(f.logs.String(), "request_id=") {
		t.Fatalf("failure not logged with request id: %s", f.logs.String())
	}
}

// visibleList returns n messages visible to users:jdoe on site A, newest
// first, ids N<n-1> … N00, each followed by one that is not visible.
func visibleList(n int) []*message.Message {
	var list []*message.Message
	for i := n - 1; i >= 0; i-- {
		list = append(list,
			note(fmt.Sprintf("N%02d", i), siteA, "users:boss", "users:jdoe"),
			note(fmt.Sprintf("X%02d", i), siteA, "users:boss", "users:other"))
	}
	return list
}

func ids(from, to int) []string { // newest first: to … from
	var out []string
	for i := to; i >= from; i-- {
		out = append(out, fmt.Sprintf("N%02d", i))
	}
	return out
}

func TestNotificationsSinceAndLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withHistory(map[string][]*message.Message{siteA: visibleList(5)}))
	tok := bearer(mint(t, "users:jdoe", ""))
	cases := []struct {
		query     string
		want      []string
		gap, more bool
	}{
		{"", ids(0, 4), false, false},
		{"?since=N02", ids(3, 4), false, false},
		{"?since=X02", ids(0, 4), true, false}, // a hidden id is answered as an unknown one
		{"?since=N04", []string{}, false, false},
		{"?since=gone", ids(0, 4), true, false},
		{"?limit=3", ids(2, 4), false, true},
		{"?limit=5", ids(0, 4), false, false},
		{"?limit=1000", ids(0, 4), false, false},
		{"?since=N00&limit=2", ids(1, 2), false, true},
		{"?since=N00&limit=4", ids(1, 4), false, false},
		{"?since=gone&limit=2", ids(0, 1), true, true},
		{"?since=", ids(0, 4), false, false},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			b := getNotifications(t, f, c.query, tok...)
			if got := b.ids(t); !slices.Equal(got, c.want) || b.Gap != c.gap || b.More != c.more {
				t.Fatalf("ids %v gap %v more %v; want %v gap %v more %v", got, b.Gap, b.More, c.want, c.gap, c.more)
			}
		})
	}
}

// TestNotificationsHiddenSinceIsUnknown: a since naming a message the caller
// may not see (another principal's, the caller's own, or another site's in
// this site's list) gets exactly the answer an unknown id gets, so the
// answer does not confirm that the message exists.
func TestNotificationsHiddenSinceIsUnknown(t *testing.T) {
	t.Parallel()
	list := slices.Concat(
		[]*message.Message{note("S01", siteA, "users:jdoe", "users:other"), note("B01", siteB, "users:boss", "users:jdoe")},
		visibleList(5))
	f := newFixture(t, withHistory(map[string][]*message.Message{siteA: list}))
	tok := bearer(mint(t, "users:jdoe", ""))
	for _, limit := range []string{"", "&limit=2"} {
		unknown := f.do(t, http.MethodGet, PathNotifications+"?since=unknown-id"+limit, "", tok...).wantStatus(t, http.StatusOK)
		for _, hidden := range []string{"X00", "X03", "X04", "S01", "B01"} {
			r := f.do(t, http.MethodGet, PathNotifications+"?since="+hidden+limit, "", tok...).wantStatus(t, http.StatusOK)
			if !bytes.Equal(r.body, unknown.body) {
				t.Errorf("since=%s%s:\n got %s\nwant %s (as for an unknown id)", hidden, limit, r.body, unknown.body)
			}
		}
	}
}

func TestNotificationsPageForward(t *testing.T) {
	t.Parallel()
	// N00 is the cursor the client starts from; N01..N10 are to be collected.
	f := newFixture(t, withHistory(map[string][]*message.Message{siteA: visibleList(11)}))
	tok := bearer(mint(t, "users:jdoe", ""))
	since, seen := "N00", map[string]int{}
	var collected []string
	for calls := 1; ; calls++ {
		if calls > 10 {
			t.Fatal("paging does not end")
		}
		b := getNotifications(t, f, "?limit=3&since="+since, tok...)
		page := b.ids(t)
		if len(page) == 0 || len(page) > 3 || b.Gap {
			t.Fatalf("page %v gap %v", page, b.Gap)
		}
		if !slices.IsSortedFunc(page, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("page %v is not newest first", page)
		}
		for _, id := range page {
			seen[id]++
		}
		collected = append(collected, page...)
		since = page[0]
		if !b.More {
			break
		}
	}
	slices.Sort(collected)
	if want := slices.Sorted(slices.Values(ids(1, 10))); !slices.Equal(collected, want) {
		t.Fatalf("collected %v, want %v", collected, want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
}

func TestNotificationsBadQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := bearer(mint(t, "users:jdoe", ""))
	cases := []struct{ query, msg string }{
		{"?limit=0", errBadLimit.message},
		{"?limit=-1", errBadLimit.message},
		{"?limit=abc", errBadLimit.message},
		{"?limit=%2B3", errBadLimit.message},
		{"?limit=3%20", errBadLimit.message},
		{"?limit=1001", errBadLimit.message},
		{"?limit=99999999999999999999999", errBadLimit.message},
		{"?since=" + strings.Repeat("Z", message.MaxIDLength+1), errBadSince.message},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			f.do(t, http.MethodGet, PathNotifications+c.query, "", tok...).wantError(t, http.StatusBadRequest, c.msg)
		})
	}
}

func BenchmarkNotifications(b *testing.B) {
	list := visibleList(25) // 50 stored messages, 25 visible
	q := notificationsQuery{limit: 20}
	rcpt := message.Recipient{Host: siteA, Principal: "users:jdoe", Principals: []string{"users:jdoe"}}
	ts := message.FormatTimestamp(fixedNow())
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = selectNotifications(list, q, rcpt).appendJSON(buf[:0], ts)
	}
}
