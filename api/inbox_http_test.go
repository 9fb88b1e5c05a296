package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// TestNotificationsFromInbox: with Config.Inbox, GET
// /api/chat/notifications keeps PyAMS's shape and its since/limit paging
// but reads the caller's own inbox, never the site's list.
func TestNotificationsFromInbox(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, st inboxStore, put func(testing.TB, *message.Message)) {
		byID := seedInbox(t, put)
		f := newFixture(t, func(c *Config) { c.Inbox, c.History = st, &fakeHistory{err: errBackend} })
		cases := []struct {
			query     string
			want      []string
			gap, more bool
		}{
			{"", []string{"I6", "I5", "I2", "I1"}, false, false},
			{"?limit=2", []string{"I6", "I5"}, false, true},
			{"?since=I1&limit=2", []string{"I5", "I2"}, false, true}, // the oldest newer ones, newest first
			{"?since=I5&limit=2", []string{"I6"}, false, false},
			{"?since=I6", []string{}, false, false},
			{"?since=GONE&limit=3", []string{"I6", "I5", "I2"}, true, true},
			{"?since=I4", []string{"I6", "I5", "I2", "I1"}, true, false}, // invisible: as unknown
			{"?limit=1000", []string{"I6", "I5", "I2", "I1"}, false, false},
		}
		for _, c := range cases {
			b := getNotifications(t, f, c.query, jdoeToken(t)...)
			if got := b.ids(t); !slices.Equal(got, c.want) || b.Gap != c.gap || b.More != c.more {
				t.Errorf("%s: ids %v gap %v more %v, want %v %v %v", c.query, got, b.Gap, b.More, c.want, c.gap, c.more)
			}
			for _, raw := range b.Notifications {
				var m struct{ ID string }
				decodeJSON(t, raw, &m)
				if want := byID[m.ID].PushJSON(); string(raw) != string(want) {
					t.Fatalf("item\n got %s\nwant %s", raw, want)
				}
			}
			if b.Timestamp != message.FormatTimestamp(fixedNow()) {
				t.Fatalf("timestamp %q", b.Timestamp)
			}
		}
	})
}

// TestNotificationsInboxLimitClamped: a limit beyond history.MaxPage gets
// a full page and more=true.
func TestNotificationsInboxLimitClamped(t *testing.T) {
	t.Parallel()
	st := newMemInbox()
	for i := range history.MaxPage + 1 {
		st.store(inboxNote(fmt.Sprintf("N%03d", i), "users:boss", "c", jdoe))
	}
	f := newFixture(t, func(c *Config) { c.Inbox = st })
	b := getNotifications(t, f, "?limit=1000", jdoeToken(t)...)
	if len(b.Notifications) != history.MaxPage || !b.More {
		t.Fatalf("%d notifications, more %v; want %d and more", len(b.Notifications), b.More, history.MaxPage)
	}
	if b = getNotifications(t, f, "", jdoeToken(t)...); len(b.Notifications) != history.DefaultPage || !b.More {
		t.Fatalf("no limit: %d notifications, more %v; want %d and more", len(b.Notifications), b.More, history.DefaultPage)
	}
}

func TestInboxRequestsRefused(t *testing.T) {
	t.Parallel()
	st := newMemInbox()
	st.store(inboxNote("I1", "users:boss", "c", jdoe))
	f := newFixture(t, func(c *Config) { c.Inbox = st; c.MaxInboxIDs = 3 })
	long := strings.Repeat("a", MaxCategoryBytes+1)
	cases := []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"limit 0", "GET", PathInbox + "?limit=0", "", 400, errBadLimit.message},
		{"limit beyond", "GET", PathInbox + "?limit=201", "", 400, errBadLimit.message},
		{"both cursors", "GET", PathInbox + "?before=I1&after=I1", "", 400, errBadCursor.message},
		{"long cursor", "GET", PathInbox + "?before=" + strings.Repeat("A", 65), "", 400, errBadCursor.message},
		{"cursor with space", "GET", PathInbox + "?after=a+b", "", 400, errBadCursor.message},
		{"unread", "GET", PathInbox + "?unread=maybe", "", 400, errBadUnread.message},
		{"empty category", "GET", PathInbox + "?category=", "", 400, errBadCategory.message},
		{"long category", "GET", PathInbox + "?category=" + long, "", 400, errBadCategory.message},
		{"read nothing", "POST", PathInboxRead, `{}`, 400, errBadReadRequest.message},
		{"read all false", "POST", PathInboxRead, `{"all":false}`, 400, errBadReadRequest.message},
		{"read both", "POST", PathInboxRead, `{"all":true,"ids":["I1"]}`, 400, errBadReadRequest.message},
		{"read all string", "POST", PathInboxRead, `{"all":"yes"}`, 400, errBadReadRequest.message},
		{"read no ids", "POST", PathInboxRead, `{"ids":[]}`, 400, `field "ids" must be a list of 1 to 3 ids`},
		{"read too many", "POST", PathInboxRead, `{"ids":["a","b","c","d"]}`, 400, `field "ids" must be a list of 1 to 3 ids`},
		{"read bad id", "POST", PathInboxRead, `{"ids":[""]}`, 400, `field "ids" must be a list of 1 to 3 ids`},
		{"read ids type", "POST", PathInboxRead, `{"ids":"I1"}`, 400, `field "ids" must be a list of 1 to 3 ids`},
		{"read unknown field", "POST", PathInboxRead, `{"ids":["I1"],"zz":1}`, 400, `unknown field "zz"`},
		{"read not json", "POST", PathInboxRead, `{`, 400, errMalformedBody.message},
		{"read too large", "POST", PathInboxRead, `{"ids":["` + strings.Repeat("a", MaxInboxBodyBytes) + `"]}`, 413, errBodyTooLarge.message},
		{"unread all", "POST", PathInboxUnread, `{"all":true}`, 400, `unknown field "all"`},
		{"unread none", "POST", PathInboxUnread, `{}`, 400, `field "ids" must be a list of 1 to 3 ids`},
		{"seen none", "POST", PathInboxSeen, `{}`, 400, errBadUntil.message},
		{"seen number", "POST", PathInboxSeen, `{"until":3}`, 400, errBadUntil.message},
		{"prefs none", "PUT", PathInboxPreferences, `{}`, 400, errBadMuted.message},
		{"prefs star", "PUT", PathInboxPreferences, `{"muted":["*"]}`, 400, errBadMuted.message},
		{"prefs inner star", "PUT", PathInboxPreferences, `{"muted":["a.*.b"]}`, 400, errBadMuted.message},
		{"prefs empty", "PUT", PathInboxPreferences, `{"muted":[""]}`, 400, errBadMuted.message},
		{"prefs control", "PUT", PathInboxPreferences, `{"muted":["a\u0000"]}`, 400, errBadMuted.message},
		{"prefs too many", "PUT", PathInboxPreferences, `{"muted":[` + strings.Repeat(`"a",`, MaxMutedCategories) + `"b"]}`, 400, errBadMuted.message},
		{"count wrong method", "POST", PathInboxCount, ``, 405, errMethodNotAllowed.message},
		{"unknown route", "GET", PathInbox + "/nothing", "", 404, errNotFound.message},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, c.method, c.path, c.body, jdoeToken(t)...).wantStatus(t, c.status)
			var got errorBody
			decodeJSON(t, r.body, &got)
			if got.Status != "error" || got.Message != c.message {
				t.Fatalf("body %s, want message %q", r.body, c.message)
			}
		})
	}
	// Nothing above changed anything.
	if got := counts(t, f, http.MethodGet, PathInboxCount, ""); got != (history.Counts{Unread: 1, Unseen: 1}) {
		t.Fatalf("counts %+v", got)
	}
}

// TestInboxAuthAndLimits: every inbox route wants a user JWT valid for
// the site and spends the principal's REST bucket.
func TestInboxAuthAndLimits(t *testing.T) {
	t.Parallel()
	routes := []struct{ method, path, body string }{
		{"GET", PathInbox, ""},
		{"GET", PathInboxCount, ""},
		{"POST", PathInboxRead, `{"all":true}`},
		{"POST", PathInboxUnread, `{"ids":["I1"]}`},
		{"POST", PathInboxSeen, `{"until":"I1"}`},
		{"GET", PathInboxPreferences, ""},
		{"PUT", PathInboxPreferences, `{"muted":[]}`},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			t.Parallel()
			st := newMemInbox()
			st.store(inboxNote("I1", "users:boss", "c", message.Authenticated))
			f := newFixture(t, func(c *Config) { c.Inbox, c.RESTRate, c.RESTBurst = st, 1e-9, 2 })
			f.do(t, rt.method, rt.path, rt.body).wantError(t, http.StatusUnauthorized, errAuthRequired.message)
			f.do(t, rt.method, rt.path, rt.body, bearer("not-a-jwt")...).wantError(t, http.StatusUnauthorized, errAuthRequired.message)
			f.do(t, rt.method, rt.path, rt.body, bearer(publisherToken)...).wantError(t, http.StatusUnauthorized, errAuthRequired.message)
			f.do(t, rt.method, rt.path, rt.body, jdoeToken(t)...).wantStatus(t, http.StatusOK)
			// Another token of the same principal shares its bucket.
			f.do(t, rt.method, rt.path, rt.body, bearer(mint(t, jdoe, "other token"))...).wantStatus(t, http.StatusOK)
			r := f.do(t, rt.method, rt.path, rt.body, jdoeToken(t)...)
			r.wantError(t, http.StatusTooManyRequests, errRateLimited.message)
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			f.do(t, rt.method, rt.path, rt.body, bearer(mint(t, "users:other", ""))...).wantStatus(t, http.StatusOK)
		})
	}
}

// failingInbox fails every call with err.
type failingInbox struct{ err error }

func (f failingInbox) Page(context.Context, history.Reader, history.PageOptions) (history.Page, error) {
	return history.Page{}, f.err
}
func (f failingInbox) Count(context.Context, history.Reader) (history.Counts, error) {
	return history.Counts{}, f.err
}
func (f failingInbox) MarkRead(context.Context, history.Reader, []string) (history.Counts, error) {
	return history.Counts{}, f.err
}
func (f failingInbox) MarkAllRead(context.Context, history.Reader) (history.Counts, error) {
	return history.Counts{}, f.err
}
func (f failingInbox) MarkUnread(context.Context, history.Reader, []string) (history.Counts, error) {
	return history.Counts{}, f.err
}
func (f failingInbox) MarkSeen(context.Context, history.Reader, string) (history.Counts, error) {
	return history.Counts{}, f.err
}
func (f failingInbox) Prefs(context.Context, string, string) (history.Prefs, error) {
	return history.Prefs{}, f.err
}
func (f failingInbox) SetPrefs(context.Context, string, string, history.Prefs) error { return f.err }
func (f failingInbox) Update(context.Context, string, string, func(*message.Message) error) (*message.Message, error) {
	return nil, f.err
}
func (f failingInbox) RetractUnless(context.Context, string, string, string) (*message.Message, error) {
	return nil, f.err
}

// TestInboxStoreFailure: a store that fails is 503 and its detail stays in
// the logs.
func TestInboxStoreFailure(t *testing.T) {
	t.Parallel()
	st := failingInbox{err: fmt.Errorf("history: page: %w", errBackend)}
	f := newFixture(t, func(c *Config) { c.Inbox, c.Editor = st, st })
	requests := []struct {
		method, path, body string
		auth               []string
	}{
		{"GET", PathInbox, "", jdoeToken(t)},
		{"GET", PathInboxCount, "", jdoeToken(t)},
		{"POST", PathInboxRead, `{"ids":["I1"]}`, jdoeToken(t)},
		{"POST", PathInboxRead, `{"all":true}`, jdoeToken(t)},
		{"POST", PathInboxUnread, `{"ids":["I1"]}`, jdoeToken(t)},
		{"POST", PathInboxSeen, `{"until":"I1"}`, jdoeToken(t)},
		{"GET", PathInboxPreferences, "", jdoeToken(t)},
		{"PUT", PathInboxPreferences, `{"muted":[]}`, jdoeToken(t)},
		{"GET", PathNotifications, "", jdoeToken(t)},
		{"PATCH", PathMessages + "/I1", `{"title":"t"}`, publisher()},
		{"DELETE", PathMessages + "/I1", "", publisher()},
	}
	for _, q := range requests {
		f.do(t, q.method, q.path, q.body, q.auth...).wantError(t, http.StatusServiceUnavailable, errUnavailable.message)
	}
	if logs := f.logs.String(); strings.Count(logs, "secret-detail") != len(requests) {
		t.Fatalf("failures not all logged: %s", logs)
	}
}

// TestInboxAnnounceFailure: the change is made and answered; the failure
// is logged.
func TestInboxAnnounceFailure(t *testing.T) {
	t.Parallel()
	st := newMemInbox()
	st.store(inboxNote("I1", "users:boss", "c", jdoe))
	ev := &recordingEvents{err: fmt.Errorf("pubsub: publish: %w", errBackend)}
	f := inboxFixture(t, st, ev)
	if got := counts(t, f, http.MethodPost, PathInboxRead, `{"ids":["I1"]}`); got != (history.Counts{}) {
		t.Fatalf("counts %+v", got)
	}
	f.do(t, http.MethodPut, PathInboxPreferences, `{"muted":["c"]}`, jdoeToken(t)...).wantStatus(t, http.StatusOK)
	logs := f.logs.String()
	if !strings.Contains(logs, "api: inbox counts not announced") || !strings.Contains(logs, "api: inbox preferences not announced") ||
		!strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "secret-detail") {
		t.Fatalf("announce failures not logged: %s", logs)
	}
	if _, n := ev.lastCounts(); n != 2 {
		t.Fatalf("%d counts announced, want 2 (read, then prefs)", n)
	}
}

// TestInboxSiteBoundToken: a token bound to site A reads A's inbox, not
// B's.
func TestInboxSiteBoundToken(t *testing.T) {
	t.Parallel()
	st := newMemInbox()
	st.store(inboxNote("I1", "users:boss", "c", jdoe))
	f := newFixture(t, func(c *Config) {
		v, err := auth.NewVerifier(auth.Config{Secret: []byte(testSecret), SiteClaim: "sites"})
		if err != nil {
			t.Fatal(err)
		}
		c.Auth, c.Inbox = v, st
	})
	tok, err := auth.MintForSites([]byte(testSecret), jdoe, "", nil, []string{siteA}, "sites", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, http.MethodGet, PathInboxCount, "", bearer(tok)...).wantStatus(t, http.StatusOK)
	f.do(t, http.MethodPost, PathInboxRead+"?host="+url.QueryEscape(siteB), `{"all":true}`, bearer(tok)...).
		wantError(t, http.StatusUnauthorized, errAuthRequired.message)
	r := f.do(t, http.MethodGet, PathInboxCount, "", bearer(tok)...).wantStatus(t, http.StatusOK)
	if string(r.body) != `{"unread":1,"unseen":1}`+"\n" {
		t.Fatalf("counts %s: site B's request changed site A's state", r.body)
	}
}

// TestInboxNotMounted: without Config.Inbox and Config.Editor the routes
// do not exist, and /api/chat/notifications reads History.
func TestInboxNotMounted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withHistory(map[string][]*message.Message{siteA: {note("A1", siteA, "users:boss", jdoe)}}))
	for _, p := range []string{PathInbox, PathInboxCount, PathInboxPreferences} {
		f.do(t, http.MethodGet, p, "", jdoeToken(t)...).wantError(t, http.StatusNotFound, errNotFound.message)
	}
	f.do(t, http.MethodDelete, PathMessages+"/A1", "", publisher()...).wantError(t, http.StatusNotFound, errNotFound.message)
	if got := getNotifications(t, f, "", jdoeToken(t)...).ids(t); !slices.Equal(got, []string{"A1"}) {
		t.Fatalf("notifications %v", got)
	}
}

func TestInboxPreflight(t *testing.T) {
	t.Parallel()
	st := newMemInbox()
	f := inboxFixture(t, st, nil)
	for _, p := range []string{PathInbox, PathInboxCount, PathInboxRead, PathInboxUnread, PathInboxSeen, PathInboxPreferences, PathMessages + "/I1"} {
		r := f.do(t, http.MethodOptions, p, "", "Origin", siteB, "Access-Control-Request-Method", "PUT").wantStatus(t, http.StatusNoContent)
		if r.header.Get("Access-Control-Allow-Origin") != siteB || !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "PUT") {
			t.Fatalf("%s preflight headers %v", p, r.header)
		}
	}
	f.do(t, http.MethodOptions, PathInbox, "", "Origin", siteEvil).wantError(t, http.StatusForbidden, errOriginForbidden.message)
	r := f.do(t, http.MethodGet, PathInboxCount+"?host="+url.QueryEscape(siteA), "", append(jdoeToken(t), "Origin", siteB)...).wantStatus(t, http.StatusOK)
	if r.header.Get("Access-Control-Allow-Origin") != siteB {
		t.Fatalf("CORS headers %v", r.header)
	}
}
