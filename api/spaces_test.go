package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// spaceRoute is one spaces route: a valid request, its success status, and
// the call the router must make.
type spaceRoute struct {
	name, method, path, body string
	status                   int
	call                     string // the fakeSpaces method
	args                     []any  // its arguments after the caller
	want                     any    // the answer's body (nil: none)
}

// spaceRoutesUnderTest covers every route of api/spaces.go.
func spaceRoutesUnderTest() []spaceRoute {
	f := &fakeSpaces{}
	sent := fakeMessage()
	sent.Reactions = nil
	send := protocol.Send{Kind: sent.Kind, Body: sent.Body, Title: sent.Title, Thread: sent.Thread, Attachments: sent.Attachments, Task: sent.Task}
	sendBody := `{"kind":"task","body":"ship it","title":"Release","thread":"M1","task":{"assignee":"users:bob","due":"2025-01-20T12:00:00Z","status":"open"},` +
		`"attachments":[{"id":"A1","name":"notes.pdf","size":1234,"type":"file","mime":"application/pdf","url":"https://files.example/notes.pdf","thumbnail":"https://files.example/notes.png"}]}`
	return []spaceRoute{
		{"create", "POST", "/api/spaces", `{"title":"Team","members":["users:bob"]}`, 201, "Create", []any{"Team", "group", []string{"users:bob"}}, f.space()},
		{"list", "GET", "/api/spaces", "", 200, "List", nil, map[string]any{"spaces": []space.Space{decodeAs[space.Space](spaceListJSON)}}},
		{"direct", "POST", "/api/spaces/direct/users%3Abob", "", 200, "Direct", []any{"users:bob"}, f.space()},
		{"get", "GET", "/api/spaces/S1", "", 200, "Get", []any{"S1"}, f.space()},
		{"rename", "PATCH", "/api/spaces/S1", `{"title":"New"}`, 200, "Rename", []any{"S1", "New"}, f.space()},
		{"delete", "DELETE", "/api/spaces/S1", "", 204, "Delete", []any{"S1"}, nil},
		{"members", "GET", "/api/spaces/S1/members", "", 200, "Members", []any{"S1"},
			map[string]any{"members": []space.Member{{Principal: "users:jdoe", Moderator: true}, {Principal: "users:bob"}}}},
		{"add member", "POST", "/api/spaces/S1/members", `{"principal":"users:carol","moderator":true}`, 201, "AddMember", []any{"S1", "users:carol", true},
			space.Member{Principal: "users:carol", Moderator: true}},
		{"remove member", "DELETE", "/api/spaces/S1/members/users%3Abob", "", 204, "RemoveMember", []any{"S1", "users:bob"}, nil},
		{"messages", "GET", "/api/spaces/S1/messages?before=M9&limit=5&thread=M1", "", 200, "Messages", []any{"S1", "M9", 5, "M1"},
			map[string]any{"messages": []protocol.SpaceMessage{fakeMessage()}, "next": "M1"}},
		{"send", "POST", "/api/spaces/S1/messages", sendBody, 201, "Send", []any{"S1", send}, nil}, // want: the caller is the sender
		{"guest", "POST", "/api/spaces/S1/guests", `{"name":"John Doe"}`, 201, "Guest", []any{"S1", "John Doe"}, decodeAs[space.Invitation](invitationJSON)},
	}
}

// withQuery adds q to path's query.
func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return path + "&" + q
	}
	return path + "?" + q
}

// spaceFixture is a router with a fakeSpaces behind it.
func spaceFixture(tb testing.TB, sp *fakeSpaces, opts ...func(*Config)) *fixture {
	tb.Helper()
	return newFixture(tb, append([]func(*Config){func(c *Config) { c.Spaces = sp }}, opts...)...)
}

// wantCall fails unless sp received exactly one call, of r, from caller.
func wantCall(tb testing.TB, sp *fakeSpaces, r spaceRoute, caller space.Caller) {
	tb.Helper()
	calls := sp.got()
	if len(calls) != 1 {
		tb.Fatalf("%s %s: %d calls %+v, want one to %s", r.method, r.path, len(calls), calls, r.call)
	}
	c := calls[0]
	if c.method != r.call || c.caller != caller || !reflect.DeepEqual(c.args, r.args) {
		tb.Fatalf("%s %s: call %s(%+v, %#v), want %s(%+v, %#v)", r.method, r.path, c.method, c.caller, c.args, r.call, caller, r.args)
	}
}

// TestSpaceRoutes: each route answers its status and the service's value
// unchanged, and calls the service once as the token's principal on the
// request's site.
func TestSpaceRoutes(t *testing.T) {
	t.Parallel()
	for _, r := range spaceRoutesUnderTest() {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			sp := &fakeSpaces{}
			f := spaceFixture(t, sp)
			res := f.do(t, r.method, r.path, r.body, append(jdoeToken(t), "Origin", siteB)...).wantStatus(t, r.status)
			caller := space.Caller{Host: siteB, Principal: jdoe, Title: "John"}
			wantCall(t, sp, r, caller)
			want := r.want
			if r.call == "Send" { // the answer is the stored message, without "action"
				m := fakeMessage()
				m.Space, m.ID, m.Reactions, m.Sender = "S1", "M3", nil, protocol.Sender{ID: jdoe, Title: "John"}
				want = m
				if strings.Contains(string(res.body), `"action"`) {
					t.Errorf("send answer %s has an action", res.body)
				}
			}
			if want == nil {
				if len(res.body) != 0 {
					t.Fatalf("body %q, want none", res.body)
				}
				return
			}
			if got := string(res.body); got != marshal(t, want) {
				t.Fatalf("body\n got %s\nwant %s", got, marshal(t, want))
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if res.header.Get("Access-Control-Allow-Origin") != siteB {
				t.Errorf("no CORS header for an allowed origin: %v", res.header)
			}
		})
	}
}

// TestSpaceDirectCreated: a direct space just created is 201, an existing
// one 200.
func TestSpaceDirectCreated(t *testing.T) {
	t.Parallel()
	f := spaceFixture(t, &fakeSpaces{created: true})
	f.do(t, "POST", "/api/spaces/direct/users%3Abob", "", jdoeToken(t)...).wantStatus(t, http.StatusCreated)
}

// TestSpaceActAs: a publisher token acts for the principal it names, with
// the title it names (default: the principal), on the request's site; a
// user's JWT may name itself.
func TestSpaceActAs(t *testing.T) {
	t.Parallel()
	pub := bearer(publisherToken)
	cases := []struct {
		name    string
		headers []string
		query   string
		caller  space.Caller
	}{
		{"publisher with title", append(pub, HeaderPrincipal, "bots:builder", HeaderTitle, "Build Bot"), "host=" + siteB,
			space.Caller{Host: siteB, Principal: "bots:builder", Title: "Build Bot"}},
		{"publisher without title", append(pub, HeaderPrincipal, "bots:builder"), "",
			space.Caller{Host: siteA, Principal: "bots:builder", Title: "bots:builder"}},
		{"publisher with a title too long", append(pub, HeaderPrincipal, "bots:builder", HeaderTitle, strings.Repeat("x", MaxPrincipalBytes+1)), "",
			space.Caller{Host: siteA, Principal: "bots:builder", Title: "bots:builder"}},
		{"user naming itself", append(jdoeToken(t), HeaderPrincipal, jdoe), "host=" + siteB,
			space.Caller{Host: siteB, Principal: jdoe, Title: "John"}},
	}
	for _, c := range cases {
		for _, r := range spaceRoutesUnderTest() {
			t.Run(c.name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				sp := &fakeSpaces{}
				f := spaceFixture(t, sp)
				path := r.path
				if c.query != "" {
					path = withQuery(path, c.query)
				}
				f.do(t, r.method, path, r.body, c.headers...).wantStatus(t, r.status)
				wantCall(t, sp, r, c.caller)
			})
		}
	}
}

// wantErrorField checks an error response with its field.
func (r response) wantErrorField(tb testing.TB, status int, msg, field string) {
	tb.Helper()
	r.wantStatus(tb, status)
	var got errorBody
	decodeJSON(tb, r.body, &got)
	if want := (errorBody{Status: "error", Message: msg, Field: field}); got != want {
		tb.Fatalf("body %s, want %+v", r.body, want)
	}
}

// TestSpaceAuthRefused: every route refuses a missing or bad token, a
// publisher token that names no principal, a user's JWT naming another
// principal and a refused origin, before the service is asked.
func TestSpaceAuthRefused(t *testing.T) {
	t.Parallel()
	user, pub := jdoeToken(t), bearer(publisherToken)
	cases := []struct {
		name    string
		headers []string
		check   func(testing.TB, response)
	}{
		{"no token", nil, func(tb testing.TB, r response) {
			r.wantError(tb, 401, errAuthRequired.message)
			if r.header.Get("WWW-Authenticate") != "Bearer" {
				tb.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		}},
		{"bad token", bearer("not-a-jwt"), func(tb testing.TB, r response) { r.wantError(tb, 401, errAuthRequired.message) }},
		{"publisher without principal", pub, func(tb testing.TB, r response) {
			r.wantErrorField(tb, 400, errNoActAs.message, HeaderPrincipal)
		}},
		{"publisher with a principal too long", append(pub, HeaderPrincipal, strings.Repeat("x", MaxPrincipalBytes+1)), func(tb testing.TB, r response) {
			r.wantErrorField(tb, 400, errNoActAs.message, HeaderPrincipal)
		}},
		{"user naming another", append(user, HeaderPrincipal, "users:bob"), func(tb testing.TB, r response) {
			r.wantError(tb, 403, errActAs.message)
		}},
		{"refused origin", append(user, "Origin", siteEvil), func(tb testing.TB, r response) { r.wantError(tb, 403, errOriginForbidden.message) }},
	}
	for _, c := range cases {
		for _, r := range spaceRoutesUnderTest() {
			t.Run(c.name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				sp := &fakeSpaces{}
				f := spaceFixture(t, sp)
				c.check(t, f.do(t, r.method, r.path, r.body, c.headers...))
				sp.wantNoCall(t)
			})
		}
	}
}

// TestSpaceSenderFromToken: a body cannot name a sender, a space or any
// member the route does not know; the service is not asked.
func TestSpaceSenderFromToken(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, body, field string }{
		{"/api/spaces/S1/messages", `{"kind":"chat","body":"hi","sender":{"id":"users:boss","title":"Boss"}}`, "sender"},
		{"/api/spaces/S1/messages", `{"kind":"chat","body":"hi","space":"S2"}`, "space"},
		{"/api/spaces/S1/messages", `{"kind":"chat","body":"hi","action":"send","rid":"1"}`, "action"},
		{"/api/spaces", `{"title":"T","creator":"users:boss"}`, "creator"},
		{"/api/spaces/S1/members", `{"principal":"users:bob","by":"users:boss"}`, "by"},
		{"/api/spaces/S1/guests", `{"name":"G","principal":"guest:x"}`, "principal"},
	}
	for _, c := range cases {
		sp := &fakeSpaces{}
		f := spaceFixture(t, sp)
		f.do(t, "POST", c.path, c.body, jdoeToken(t)...).wantErrorField(t, 400, fmt.Sprintf("unknown field %q", c.field), c.field)
		sp.wantNoCall(t)
	}
}

// TestSpaceBodyRefused: every route with a body refuses unknown members,
// what is not a JSON object, members of the wrong type and a body over
// MaxSpaceBodyBytes, before the service is asked.
func TestSpaceBodyRefused(t *testing.T) {
	t.Parallel()
	tooLarge := `{"title":"` + strings.Repeat("x", MaxSpaceBodyBytes) + `"}`
	wrongType := map[string]string{
		"create": `{"members":"users:bob"}`, "rename": `{"title":1}`, "add member": `{"moderator":"yes"}`,
		"send": `{"kind":"chat","attachments":{}}`, "guest": `{"name":["a"]}`,
	}
	for _, r := range spaceRoutesUnderTest() {
		if r.body == "" {
			continue
		}
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			sp := &fakeSpaces{}
			f := spaceFixture(t, sp)
			user := jdoeToken(t)
			f.do(t, r.method, r.path, `{"zz":1}`, user...).wantErrorField(t, 400, `unknown field "zz"`, "zz")
			f.do(t, r.method, r.path, `[1]`, user...).wantError(t, 400, errMalformedBody.message)
			f.do(t, r.method, r.path, `{`, user...).wantError(t, 400, errMalformedBody.message)
			f.do(t, r.method, r.path, ``, user...).wantError(t, 400, errMalformedBody.message)
			f.do(t, r.method, r.path, wrongType[r.name], user...).wantError(t, 400, errMalformedBody.message)
			f.do(t, r.method, r.path, tooLarge, user...).wantError(t, 413, errBodyTooLarge.message)
			sp.wantNoCall(t)
		})
	}
}

// TestSpaceMessagesQueryRefused: limit, before and thread are checked
// before the service is asked; no limit is 0 (the service's default).
func TestSpaceMessagesQueryRefused(t *testing.T) {
	t.Parallel()
	sp := &fakeSpaces{}
	f := spaceFixture(t, sp)
	user := jdoeToken(t)
	for _, c := range []struct{ query, msg string }{
		{"limit=0", errBadLimit.message}, {"limit=201", errBadLimit.message}, {"limit=x", errBadLimit.message},
		{"before=a+b", errBadCursor.message}, {"thread=" + strings.Repeat("A", 65), errBadCursor.message},
	} {
		f.do(t, "GET", "/api/spaces/S1/messages?"+c.query, "", user...).wantError(t, 400, c.msg)
	}
	sp.wantNoCall(t)
	f.do(t, "GET", "/api/spaces/S1/messages", "", user...).wantStatus(t, 200)
	wantCall(t, sp, spaceRoute{method: "GET", path: "messages", call: "Messages", args: []any{"S1", "", 0, ""}}, space.Caller{Host: siteA, Principal: jdoe, Title: "John"})
}

// TestSpaceErrors: each error of the service maps to its status; nothing
// internal reaches the client.
func TestSpaceErrors(t *testing.T) {
	t.Parallel()
	invalid := fmt.Errorf("%w: title is longer than 200 bytes", space.ErrInvalid)
	cases := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"not found", fmt.Errorf("space S1 (%s): %w", secretDetail, space.ErrNotFound), 404, errSpaceNotFound.message},
		{"forbidden", fmt.Errorf("users:jdoe is not a moderator (%s): %w", secretDetail, space.ErrForbidden), 403, errSpaceDenied.message},
		{"invalid", invalid, 400, invalid.Error()},
		{"rate limited", fmt.Errorf("%s: %w", secretDetail, space.ErrRateLimited), 429, errRateLimited.message},
		{"not configured", fmt.Errorf("%s: %w", secretDetail, space.ErrNotConfigured), 501, errNoGuests.message},
		{"unavailable", fmt.Errorf("%s: %w", secretDetail, space.ErrUnavailable), 503, errUnavailable.message},
		{"unknown", errBackend, 503, errUnavailable.message},
	}
	for _, c := range cases {
		for _, r := range spaceRoutesUnderTest() {
			t.Run(c.name+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				f := spaceFixture(t, &fakeSpaces{errs: map[string]error{"": c.err}})
				res := f.do(t, r.method, r.path, r.body, jdoeToken(t)...)
				res.wantError(t, c.status, c.msg)
				if c.status == 429 && res.header.Get("Retry-After") != "1" {
					t.Errorf("Retry-After %q, want 1", res.header.Get("Retry-After"))
				}
				if strings.Contains(string(res.body), "secret-detail") {
					t.Errorf("internal detail sent: %s", res.body)
				}
			})
		}
	}
}

// TestSpaceNotFoundSaysNothing: a space that does not exist and one the
// caller is not a member of get the same answer, which names neither.
func TestSpaceNotFoundSaysNothing(t *testing.T) {
	t.Parallel()
	sp := &fakeSpaces{errs: map[string]error{
		"NOPE": fmt.Errorf("space: no space NOPE: %w", space.ErrNotFound),
		"S2":   fmt.Errorf("space: users:jdoe is not a member of S2: %w", space.ErrNotFound),
	}}
	f := spaceFixture(t, sp)
	for _, r := range spaceRoutesUnderTest() {
		if !strings.Contains(r.path, "/S1") {
			continue
		}
		unknown := f.do(t, r.method, strings.Replace(r.path, "/S1", "/NOPE", 1), r.body, jdoeToken(t)...)
		hidden := f.do(t, r.method, strings.Replace(r.path, "/S1", "/S2", 1), r.body, jdoeToken(t)...)
		unknown.wantError(t, 404, errSpaceNotFound.message)
		if hidden.status != unknown.status || string(hidden.body) != string(unknown.body) {
			t.Errorf("%s: non-member %d %s, unknown %d %s", r.name, hidden.status, hidden.body, unknown.status, unknown.body)
		}
		if b := string(hidden.body); strings.Contains(b, "S2") || strings.Contains(b, "member") {
			t.Errorf("%s: the 404 says something: %s", r.name, b)
		}
	}
}

// TestSpacePathEscaping: path parameters are unescaped exactly once,
// whether or not the request's path needed escaping.
func TestSpacePathEscaping(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, call, want string }{
		{"/api/spaces/direct/users%3Abob", "Direct", "users:bob"},
		{"/api/spaces/direct/users:bob", "Direct", "users:bob"},
		{"/api/spaces/direct/users%2Fbob", "Direct", "users/bob"},
		{"/api/spaces/direct/users%20bob", "Direct", "users bob"},
		{"/api/spaces/direct/users%2541", "Direct", "users%41"},
		{"/api/spaces/direct/50%25", "Direct", "50%"},
		{"/api/spaces/S1/members/users%3Abob%2541", "RemoveMember", "users:bob%41"},
		{"/api/spaces/S1/members/users%2541", "RemoveMember", "users%41"},
		{"/api/spaces/S%2541", "Get", "S%41"},
	}
	for _, c := range cases {
		sp := &fakeSpaces{}
		f := spaceFixture(t, sp)
		method := map[string]string{"Direct": "POST", "RemoveMember": "DELETE", "Get": "GET"}[c.call]
		res := f.do(t, method, c.path, "", jdoeToken(t)...)
		if res.status >= 300 {
			t.Fatalf("%s: status %d %s", c.path, res.status, res.body)
		}
		calls := sp.got()
		if len(calls) != 1 || calls[0].method != c.call {
			t.Fatalf("%s: calls %+v", c.path, calls)
		}
		if got := calls[0].args[len(calls[0].args)-1]; got != c.want {
			t.Errorf("%s: %s got %q, want %q", c.path, c.call, got, c.want)
		}
	}
}

// TestSpacePreflight: every spaces path answers a preflight from an
// allowed origin without a token, and refuses other origins.
func TestSpacePreflight(t *testing.T) {
	t.Parallel()
	sp := &fakeSpaces{}
	f := spaceFixture(t, sp)
	for _, r := range spaceRoutesUnderTest() {
		res := f.do(t, "OPTIONS", r.path, "", "Origin", siteA, "Access-Control-Request-Method", r.method).wantStatus(t, 204)
		if !strings.Contains(res.header.Get("Access-Control-Allow-Methods"), r.method) || res.header.Get("Access-Control-Allow-Origin") != siteA {
			t.Errorf("%s: preflight headers %v", r.path, res.header)
		}
		f.do(t, "OPTIONS", r.path, "", "Origin", siteEvil).wantError(t, 403, errOriginForbidden.message)
	}
	sp.wantNoCall(t)
}

// TestSpaceRateLimits: a user's requests spend its principal's REST
// bucket (every token of the principal alike); a publisher's spend its
// token's publish bucket, whoever it acts for.
func TestSpaceRateLimits(t *testing.T) {
	t.Parallel()
	f := spaceFixture(t, &fakeSpaces{}, withTwoPublishers(t), func(c *Config) {
		c.RESTRate, c.RESTBurst, c.PublishRate, c.PublishBurst = 1e-9, 1, 1e-9, 1
	})
	f.do(t, "GET", PathSpaces, "", jdoeToken(t)...).wantStatus(t, 200)
	f.do(t, "GET", PathSpaces, "", bearer(mint(t, jdoe, "Another token"))...).wantError(t, 429, errRateLimited.message)
	f.do(t, "GET", PathSpaces, "", bearer(mint(t, "users:bob", "Bob"))...).wantStatus(t, 200)

	pub := bearer(publisherToken)
	f.do(t, "GET", PathSpaces, "", append(pub, HeaderPrincipal, "bots:a")...).wantStatus(t, 200)
	f.do(t, "GET", PathSpaces, "", append(pub, HeaderPrincipal, "bots:b")...).wantError(t, 429, errRateLimited.message)
	f.do(t, "GET", PathSpaces, "", append(bearer(otherPublisherToken), HeaderPrincipal, "bots:a")...).wantStatus(t, 200)
	// A publisher acting for users:bob does not spend bob's bucket, nor
	// bob the publisher's.
	f.do(t, "GET", PathSpaces, "", bearer(mint(t, "users:carol", "Carol"))...).wantStatus(t, 200)
	f.do(t, "GET", PathSpaces, "", append(bearer(otherPublisherToken), HeaderPrincipal, "users:carol")...).wantError(t, 429, errRateLimited.message)
}
