package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/webhook"
)

// openAPICase is one request whose answer must be documented.
type openAPICase struct {
	name         string
	method, path string
	body         string
	headers      []string // name, value pairs
	status       int
	// request: the request itself must also be valid (success cases;
	// error cases send invalid requests on purpose).
	request bool
}

// checkOpenAPI sends c to f and validates the answer against the document.
func checkOpenAPI(t *testing.T, f *fixture, s *spec, c openAPICase) {
	t.Helper()
	req, err := http.NewRequest(c.method, f.srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.body == "" {
		req.Body = http.NoBody
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Add(c.headers[i], c.headers[i+1])
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != c.status {
		t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, res.StatusCode, c.status, body)
	}
	s.validate(t, req, c.body, res, body, c.request)
}

// TestOpenAPIResponses drives every route of the router through success
// and error paths and validates each answer against api/openapi.json.
// The cases run in order: they share the inbox they change.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	s := openAPISpec(t)
	st := newMemInbox()
	for _, m := range []*message.Message{
		inboxNote("I1", "users:boss", "content.review", jdoe),
		inboxNote("I2", "users:boss", "site.news", message.Authenticated),
		inboxNote("I3", "users:boss", "site.alert", jdoe),
	} {
		st.store(m)
	}
	f := newFixture(t, fullConfig, func(c *Config) {
		c.Inbox, c.Editor = st, st
		c.Warnings = []string{"several sites without a site claim"}
	})
	user, pub := jdoeToken(t), bearer(publisherToken)
	origin := []string{"Origin", siteA}
	with := joinHeaders
	tooLarge := `{"title":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	cases := []openAPICase{
		{name: "healthz", method: "GET", path: PathHealthz, status: 200, request: true},
		{name: "readyz with warnings", method: "GET", path: PathReadyz, status: 200, request: true},
		{name: "monitor", method: "GET", path: PathMonitor, status: 200, request: true},
		{name: "ping", method: "GET", path: PathPing, status: 200, request: true},
		{name: "ping POST", method: "POST", path: PathPing, status: 200},
		{name: "openapi", method: "GET", path: PathOpenAPI, status: 200, request: true},
		{name: "openapi cached", method: "GET", path: PathOpenAPI, headers: []string{"If-None-Match", openAPIETag}, status: 304, request: true},

		{name: "context", method: "GET", path: PathContext, headers: with(user, origin), status: 200, request: true},
		{name: "context without token", method: "GET", path: PathContext, status: 401},
		{name: "context with a bad token", method: "GET", path: PathContext, headers: bearer("not-a-jwt"), status: 401},
		{name: "context from a refused origin", method: "GET", path: PathContext, headers: with(user, []string{"Origin", siteEvil}), status: 403},

		{name: "notifications", method: "GET", path: PathNotifications + "?limit=2", headers: with(user, origin), status: 200, request: true},
		{name: "notifications since", method: "GET", path: PathNotifications + "?since=I1", headers: with(user, origin), status: 200, request: true},
		{name: "notifications bad limit", method: "GET", path: PathNotifications + "?limit=x", headers: with(user, origin), status: 400},

		{name: "publish", method: "POST", path: PathMessages, headers: with(pub, []string{"Idempotency-Key", "k-1"}), status: 202, request: true,
			body: `{"host":"` + siteA + `","action":"notify","category":"user.login","title":"User login","message":"jdoe logged in",` +
				`"source":{"id":"users:jdoe","title":"John Doe"},"target":{"principals":["users:boss"]}}`},
		{name: "publish invalid", method: "POST", path: PathMessages, headers: pub, status: 400,
			body: `{"host":"` + siteA + `","action":"notify","category":"c","message":"m","source":{"id":"s"}}`},
		{name: "publish bad key", method: "POST", path: PathMessages, headers: with(pub, []string{"Idempotency-Key", ""}), status: 400, body: `{}`},
		{name: "publish not JSON", method: "POST", path: PathMessages, headers: pub, status: 400, body: `[`},
		{name: "publish with a user JWT", method: "POST", path: PathMessages, headers: user, status: 403, body: `{}`},
		{name: "publish too large", method: "POST", path: PathMessages, headers: pub, status: 413, body: tooLarge},

		{name: "patch", method: "PATCH", path: "/api/chat/messages/I1?host=" + siteA, headers: pub, status: 200, request: true,
			body: `{"title":"Edited","url":null,"extra":{"a":1}}`},
		{name: "patch a fixed field", method: "PATCH", path: "/api/chat/messages/I1", headers: pub, status: 400, body: `{"category":"x"}`},
		{name: "patch unknown", method: "PATCH", path: "/api/chat/messages/NOPE", headers: pub, status: 404, body: `{"title":"x"}`},
		{name: "patch too large", method: "PATCH", path: "/api/chat/messages/I1", headers: pub, status: 413, body: tooLarge},
		{name: "delete unknown", method: "DELETE", path: "/api/chat/messages/NOPE?host=" + siteA, headers: pub, status: 404},

		{name: "disconnect", method: "POST", path: PathAdminDisconnect, headers: pub, body: `{"principal":"users:other"}`, status: 200, request: true},
		{name: "disconnect unknown member", method: "POST", path: PathAdminDisconnect, headers: pub, body: `{"principal":"p","x":1}`, status: 400},
		{name: "disconnect without token", method: "POST", path: PathAdminDisconnect, body: `{"principal":"p"}`, status: 401},

		{name: "inbox", method: "GET", path: PathInbox + "?limit=2", headers: with(user, origin), status: 200, request: true},
		{name: "inbox after", method: "GET", path: PathInbox + "?after=I1&unread=true", headers: with(user, origin), status: 200, request: true},
		{name: "inbox gap", method: "GET", path: PathInbox + "?after=GONE", headers: with(user, origin), status: 200, request: true},
		{name: "inbox both cursors", method: "GET", path: PathInbox + "?after=I1&before=I3", headers: with(user, origin), status: 400},
		{name: "inbox before unknown", method: "GET", path: PathInbox + "?before=GONE", headers: with(user, origin), status: 404},
		{name: "count", method: "GET", path: PathInboxCount, headers: with(user, origin), status: 200, request: true},
		{name: "read", method: "POST", path: PathInboxRead, headers: with(user, origin), body: `{"ids":["I1","GONE"]}`, status: 200, request: true},
		{name: "read all", method: "POST", path: PathInboxRead, headers: with(user, origin), body: `{"all":true}`, status: 200, request: true},
		{name: "read both", method: "POST", path: PathInboxRead, headers: with(user, origin), body: `{"all":true,"ids":["I1"]}`, status: 400},
		{name: "unread", method: "POST", path: PathInboxUnread, headers: with(user, origin), body: `{"ids":["I3"]}`, status: 200, request: true},
		{name: "unread empty", method: "POST", path: PathInboxUnread, headers: with(user, origin), body: `{"ids":[]}`, status: 400},
		{name: "seen", method: "POST", path: PathInboxSeen, headers: with(user, origin), body: `{"until":"I3"}`, status: 200, request: true},
		{name: "seen too large", method: "POST", path: PathInboxSeen, headers: with(user, origin), body: `{"until":"` + strings.Repeat("x", MaxInboxBodyBytes) + `"}`, status: 413},
		{name: "preferences", method: "GET", path: PathInboxPreferences, headers: with(user, origin), status: 200, request: true},
		{name: "put preferences", method: "PUT", path: PathInboxPreferences, headers: with(user, origin), body: `{"muted":["site.*","content.review","site.*"]}`, status: 200, request: true},
		{name: "put bad preferences", method: "PUT", path: PathInboxPreferences, headers: with(user, origin), body: `{"muted":["a*"]}`, status: 400},

		{name: "delete", method: "DELETE", path: "/api/chat/messages/I3?host=" + siteA, headers: pub, status: 200, request: true},
		{name: "preflight", method: "OPTIONS", path: PathInboxRead, headers: with(origin, []string{"Access-Control-Request-Method", "POST"}), status: 204, request: true},
		{name: "preflight from a refused origin", method: "OPTIONS", path: PathMessages, headers: []string{"Origin", siteEvil}, status: 403},
		{name: "websocket", method: "GET", path: PathWebSocket, status: 101},
	}
	cases = append(cases, spaceOpenAPICases(user, pub, origin)...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkOpenAPI(t, f, s, c) })
	}
	// The answers that hold a space.Space or a space.Invitation: validated
	// once those types have their JSON tags (not in the temporary stub of
	// package space; TestOpenAPISpaceSchemas checks their documented shape).
	for _, c := range spaceShapedOpenAPICases(user, pub, origin) {
		t.Run(c.name, func(t *testing.T) {
			if !spaceTypesTagged() {
				t.Skip("space.Space is not the real type yet (no JSON tags)")
			}
			checkOpenAPI(t, f, s, c)
		})
	}
}

// TestOpenAPIErrorResponses: the errors that need a configuration of
// their own (rate limits, a store down, not ready, an internal error) are
// documented, and so is the body of the 404 and 405 the document cannot
// attach to an operation.
func TestOpenAPIErrorResponses(t *testing.T) {
	t.Parallel()
	s := openAPISpec(t)
	user, pub := jdoeToken(t), bearer(publisherToken)
	origin := []string{"Origin", siteA}

	limited := newFixture(t, fullConfig, func(c *Config) { c.RESTRate, c.RESTBurst, c.PublishRate, c.PublishBurst = 1e-9, 1, 1e-9, 1 })
	for _, c := range []openAPICase{
		{method: "GET", path: PathInboxCount, headers: append(user, origin...), status: 200},
		{method: "GET", path: PathInboxCount, headers: append(user, origin...), status: 429},
		{method: "GET", path: PathContext, headers: append(user, origin...), status: 429},
		{method: "DELETE", path: "/api/chat/messages/NOPE", headers: pub, status: 404},
		{method: "PATCH", path: "/api/chat/messages/NOPE", headers: pub, body: `{"title":"x"}`, status: 429},
	} {
		checkOpenAPI(t, limited, s, c)
	}

	down := newFixture(t, func(c *Config) {
		c.History = &fakeHistory{err: errBackend}
		c.Ready = func(context.Context) error { return errBackend }
		c.Publisher = &recordingPublisher{err: errBackend}
	})
	for _, c := range []openAPICase{
		{method: "GET", path: PathNotifications, headers: append(user, origin...), status: 503},
		{method: "GET", path: PathReadyz, status: 503},
		{method: "POST", path: PathMessages, headers: pub, status: 503,
			body: `{"host":"` + siteA + `","action":"notify","category":"c","title":"t","message":"m","source":{"id":"s","title":"S"}}`},
	} {
		checkOpenAPI(t, down, s, c)
	}

	for _, c := range []struct {
		err    error
		cases  []openAPICase
		webErr error
	}{
		{err: space.ErrNotFound, cases: []openAPICase{
			{method: "GET", path: "/api/spaces/S1/members", headers: user, status: 404},
			{method: "DELETE", path: "/api/spaces/S1", headers: user, status: 404},
			{method: "POST", path: "/api/spaces/S1/messages", headers: user, body: `{"kind":"chat","body":"hi"}`, status: 404},
		}},
		{err: space.ErrForbidden, cases: []openAPICase{
			{method: "DELETE", path: "/api/spaces/S1/members/users%3Abob", headers: user, status: 403},
			{method: "POST", path: "/api/spaces/S1/members", headers: user, body: `{"principal":"users:bob"}`, status: 403},
		}},
		{err: space.ErrInvalid, cases: []openAPICase{
			{method: "POST", path: "/api/spaces/S1/messages", headers: user, body: `{"kind":"chat"}`, status: 400},
			{method: "POST", path: "/api/spaces", headers: user, body: `{"title":""}`, status: 400},
		}},
		{err: space.ErrRateLimited, cases: []openAPICase{
			{method: "POST", path: "/api/spaces/S1/messages", headers: user, body: `{"kind":"chat","body":"hi"}`, status: 429},
		}},
		{err: space.ErrNotConfigured, cases: []openAPICase{
			{method: "POST", path: "/api/spaces/S1/guests", headers: user, body: `{"name":"G"}`, status: 501},
		}},
		{err: errBackend, webErr: errBackend, cases: []openAPICase{
			{method: "GET", path: "/api/spaces", headers: user, status: 503},
			{method: "GET", path: "/api/spaces/S1/messages", headers: user, status: 503},
			{method: "POST", path: "/api/spaces/direct/users%3Abob", headers: user, status: 503},
			{method: "GET", path: PathWebhooks, headers: pub, status: 503},
		}},
		{webErr: webhook.ErrForbiddenAddress, cases: []openAPICase{
			{method: "POST", path: PathWebhooks, headers: pub, body: `{"url":"https://10.0.0.1/","spaces":"*","secret":"s"}`, status: 403},
		}},
		{webErr: webhook.ErrInvalid, cases: []openAPICase{
			{method: "POST", path: PathWebhooks, headers: pub, body: `{"url":"ftp://b.example/","spaces":"*","secret":"s"}`, status: 400},
		}},
	} {
		failing := newFixture(t, fullConfig, func(cfg *Config) {
			cfg.Spaces, cfg.Webhooks = &fakeSpaces{errs: map[string]error{"": c.err}}, &fakeWebhooks{err: c.webErr}
		})
		for _, oc := range c.cases {
			checkOpenAPI(t, failing, s, oc)
		}
	}
	checkOpenAPI(t, limited, s, openAPICase{method: "GET", path: "/api/spaces/S1/members", headers: user, status: 429})
	checkOpenAPI(t, limited, s, openAPICase{method: "GET", path: PathWebhooks, headers: pub, status: 429})

	broken := newFixture(t, func(c *Config) {
		c.WebSocket = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	})
	checkOpenAPI(t, broken, s, openAPICase{method: "GET", path: PathWebSocket, status: 500})

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"PUT", PathContext, http.StatusMethodNotAllowed},
		{"GET", "/api/nothing", http.StatusNotFound},
	} {
		r := broken.do(t, c.method, c.path, "").wantStatus(t, c.status)
		s.validateError(t, r.body)
	}
}
