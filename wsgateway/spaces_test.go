package wsgateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// fakeSpaces is an in-memory chat service: members per site and space;
// Send delivers through the gateway at once, as the pipeline would.
type fakeSpaces struct {
	g      *Gateway // set after New
	mu     sync.Mutex
	member map[string]map[string]bool // site|space -> principals
	direct map[string]bool            // site|space -> direct
	n      int
	typing []string
}

func newFakeSpaces() *fakeSpaces {
	return &fakeSpaces{member: make(map[string]map[string]bool), direct: make(map[string]bool)}
}

func (f *fakeSpaces) add(site, id string, direct bool, principals ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := site + "|" + id
	if f.member[k] == nil {
		f.member[k] = make(map[string]bool)
	}
	for _, p := range principals {
		f.member[k][p] = true
	}
	f.direct[k] = direct
}

func (f *fakeSpaces) remove(site, id, principal string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.member[site+"|"+id], principal)
}

func (f *fakeSpaces) MemberOf(_ context.Context, host, principal string, _ int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for k, m := range f.member {
		if site, id, _ := strings.Cut(k, "|"); site == host && m[principal] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (f *fakeSpaces) IsMember(_ context.Context, host, id, principal string) (bool, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.member[host+"|"+id][principal], false, nil
}

func (f *fakeSpaces) Send(_ context.Context, c space.Caller, id string, s protocol.Send, o space.SendOptions) (protocol.SpaceMessage, error) {
	f.mu.Lock()
	ok, direct := f.member[c.Host+"|"+id][c.Principal], f.direct[c.Host+"|"+id]
	f.n++
	mid := fmt.Sprintf("msg-%03d", f.n)
	f.mu.Unlock()
	if !ok {
		return protocol.SpaceMessage{}, space.ErrNotFound
	}
	if s.Kind != protocol.KindChat || s.Body == "" {
		return protocol.SpaceMessage{}, fmt.Errorf("%w: body is required", space.ErrInvalid)
	}
	field, _ := json.Marshal(protocol.SpaceField{ID: id, Direct: direct, Send: s})
	m := &message.Message{
		Host: c.Host, Action: "notify", Category: protocol.SpaceCategory, Title: c.Title, Body: s.Body,
		Source: &message.Source{ID: c.Principal, Title: c.Title}, Timestamp: "2026-12-01T06:00:00.000000+00:00",
		ID: mid, Target: &message.Target{Principals: []string{protocol.SpacePrincipal(id)}},
		Extra: map[string]json.RawMessage{"space": field},
	}
	o.OnID(mid)
	f.g.Deliver(m, m.PushJSON())
	return protocol.NewSpaceMessage(protocol.ActionMessage, protocol.SpaceField{ID: id, Send: s}, mid,
		protocol.Sender{ID: c.Principal, Title: c.Title}, m.Timestamp), nil
}

func (f *fakeSpaces) Typing(_ context.Context, c space.Caller, id string) error {
	f.mu.Lock()
	f.typing = append(f.typing, c.Principal)
	f.mu.Unlock()
	f.g.SpaceTyping(c.Host, id, c.Principal)
	return nil
}

func (f *fakeSpaces) React(context.Context, space.Caller, string, string, bool) (protocol.Reaction, error) {
	return protocol.Reaction{Count: 3}, nil
}
func (f *fakeSpaces) Edit(context.Context, space.Caller, string, string) error {
	return space.ErrForbidden
}
func (f *fakeSpaces) DeleteMessage(context.Context, space.Caller, string) error {
	return space.ErrUnavailable
}
func (f *fakeSpaces) Read(context.Context, space.Caller, string, string) error { return nil }

// spaceEnv is a gateway with the fake chat service.
func spaceEnv(t *testing.T, cfg Config) (*testEnv, *fakeSpaces) {
	f := newFakeSpaces()
	cfg.Spaces = f
	e := newEnv(t, envOptions{allowed: []string{siteA, siteB}, cfg: cfg})
	f.g = e.g
	return e, f
}

// connectToken dials as sub with ?token= (not PyAMS's client).
func (e *testEnv) connectToken(t *testing.T, sub string) *websocket.Conn {
	t.Helper()
	before := e.g.Stats().Accepted
	c, _, err := e.dial(t, dialOptions{query: "host=" + siteA + "&token=" + mint(t, sub, time.Hour)})
	if err != nil {
		t.Fatalf("dial %s: %v", sub, err)
	}
	poll.Until(t, "connection admitted", func() bool { return e.g.Stats().Accepted > before })
	return c
}

// command sends cmd on c and returns the answer (the next frame).
func command(t *testing.T, c *websocket.Conn, cmd string) map[string]any {
	t.Helper()
	writeText(t, c, cmd)
	return frameOf(t, readText(t, c))
}

func frameOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("frame %q: %v", s, err)
	}
	return m
}

func wantAnswer(t *testing.T, got map[string]any, action, rid, code string) {
	t.Helper()
	if got["action"] != action || got["rid"] != rid || (code != "" && got["code"] != code) {
		t.Fatalf("answer %v, want action %s rid %s code %q", got, action, rid, code)
	}
}

// marker delivers a notification to sub and expects it as the next frame
// of each of cs: nothing else was queued before it.
func marker(t *testing.T, e *testEnv, sub string, cs ...*websocket.Conn) {
	t.Helper()
	m := newMessage(siteA, "users:marker", "marker for "+sub, sub)
	m.ID = "marker-" + sub + fmt.Sprint(time.Now().UnixNano())
	e.g.Deliver(m, m.PushJSON())
	for _, c := range cs {
		expectFrame(t, c, m.PushJSON())
	}
}

// TestSpaceSendAndDelivery: the members who subscribed get the message
// event with the sender from the token; the sending connection gets only
// the ok, the sender's other tab gets the message; a member who did not
// subscribe gets the activity event; a non-member can neither subscribe
// nor see anything.
func TestSpaceSendAndDelivery(t *testing.T) {
	e, f := spaceEnv(t, Config{})
	f.add(strings.ToLower(siteA), "s1", false, "alice", "bob")
	a1, a2 := e.connectToken(t, "alice"), e.connectToken(t, "alice")
	b1, b2 := e.connectToken(t, "bob"), e.connectToken(t, "bob")
	carol := e.connectToken(t, "carol")

	for i, c := range []*websocket.Conn{a1, a2, b1} {
		wantAnswer(t, command(t, c, fmt.Sprintf(`{"action":"subscribe","rid":"s%d","space":"s1"}`, i)), "ok", fmt.Sprintf("s%d", i), "")
	}
	wantAnswer(t, command(t, carol, `{"action":"subscribe","rid":"c","space":"s1"}`), "error", "c", protocol.CodeNotFound)

	// The frame's claim of a sender is ignored: the token decides.
	ok := command(t, a1, `{"action":"send","rid":"m1","space":"s1","kind":"chat","body":"<b>hi</b>","sender":{"id":"mallory"}}`)
	wantAnswer(t, ok, "ok", "m1", "")
	id := ok["id"].(string)
	for _, c := range []*websocket.Conn{a2, b1} {
		got := frameOf(t, readText(t, c))
		sender, _ := got["sender"].(map[string]any)
		if got["action"] != "message" || got["id"] != id || got["body"] != "<b>hi</b>" || sender["id"] != "alice" || got["space"] != "s1" {
			t.Fatalf("message event %v", got)
		}
	}
	act := frameOf(t, readText(t, b2))
	if act["action"] != "activity" || act["id"] != id || act["sender"] != "alice" {
		t.Fatalf("activity event %v", act)
	}
	// Nothing else reached the sender's connection, alice's other tab or carol.
	marker(t, e, "alice", a1, a2)
	marker(t, e, "carol", carol)

	// Typing reaches the other subscribed members only.
	wantAnswer(t, command(t, b1, `{"action":"typing","rid":"t","space":"s1"}`), "ok", "t", "")
	for _, c := range []*websocket.Conn{a1, a2} {
		if got := frameOf(t, readText(t, c)); got["action"] != "typing" || got["principal"] != "bob" {
			t.Fatalf("typing event %v", got)
		}
	}
	marker(t, e, "bob", b1, b2)
}

// TestSpaceMembershipLive: a member removed (the event every gateway gets)
// stops receiving at once, even with a subscription; one added receives
// without reconnecting.
func TestSpaceMembershipLive(t *testing.T) {
	e, f := spaceEnv(t, Config{})
	site := strings.ToLower(siteA)
	f.add(site, "s1", false, "alice", "bob")
	a, b, c := e.connectToken(t, "alice"), e.connectToken(t, "bob"), e.connectToken(t, "carol")
	wantAnswer(t, command(t, b, `{"action":"subscribe","rid":"1","space":"s1"}`), "ok", "1", "")

	f.remove(site, "s1", "bob")
	e.g.SpaceMember(site, "s1", "bob", false, false)
	if got := frameOf(t, readText(t, b)); got["action"] != "member" || got["joined"] != false || got["principal"] != "bob" {
		t.Fatalf("member event %v", got)
	}
	f.add(site, "s1", false, "carol")
	e.g.SpaceMember(site, "s1", "carol", true, false)

	wantAnswer(t, command(t, a, `{"action":"send","rid":"2","space":"s1","kind":"chat","body":"after"}`), "ok", "2", "")
	if got := frameOf(t, readText(t, c)); got["action"] != "activity" {
		t.Fatalf("carol, added live: %v, want the activity event", got)
	}
	marker(t, e, "bob", b) // bob got nothing
	// bob can no longer subscribe.
	wantAnswer(t, command(t, b, `{"action":"subscribe","rid":"3","space":"s1"}`), "error", "3", protocol.CodeNotFound)
}

// TestSpaceDirectNotification: in a direct space, the other member's PyAMS
// connection (which never subscribes) gets the message as a notification.
func TestSpaceDirectNotification(t *testing.T) {
	e, f := spaceEnv(t, Config{})
	f.add(strings.ToLower(siteA), "d1", true, "alice", "bob")
	a := e.connectToken(t, "alice")
	pyams := e.connect(t, siteA, "bob")
	wantAnswer(t, command(t, a, `{"action":"send","rid":"1","space":"d1","kind":"chat","body":"psst"}`), "ok", "1", "")
	got := frameOf(t, readText(t, pyams))
	if got["action"] != "notify" || got["message"] != "psst" || got["category"] != protocol.SpaceCategory {
		t.Fatalf("PyAMS connection got %v, want the notification", got)
	}
}

// TestSpaceCommandErrors: malformed and refused commands get an error
// answer with their rid (when readable) and the connection stays open.
func TestSpaceCommandErrors(t *testing.T) {
	e, f := spaceEnv(t, Config{})
	f.add(strings.ToLower(siteA), "s1", false, "alice")
	a := e.connectToken(t, "alice")
	for _, tc := range []struct{ cmd, rid, code string }{
		{`{"rid":"x1","action":"send",`, "", protocol.CodeInvalid},
		{`{"action":"send","space":"s1"}`, "", protocol.CodeInvalid},
		{`{"action":"fly","rid":"x2"}`, "x2", protocol.CodeInvalid},
		{`{"action":"send","rid":"x3","space":"s1","kind":"chat"}`, "x3", protocol.CodeInvalid},
		{`{"action":"send","rid":"x4","space":"nope","kind":"chat","body":"b"}`, "x4", protocol.CodeNotFound},
		{`{"action":"edit","rid":"x5","message":"m","body":"b"}`, "x5", protocol.CodeForbidden},
		{`{"action":"delete","rid":"x6","message":"m"}`, "x6", protocol.CodeUnavailable},
		{`{"action":"subscribe","rid":"x7","space":"../etc"}`, "x7", protocol.CodeNotFound},
	} {
		got := command(t, a, tc.cmd)
		if got["action"] != "error" || got["code"] != tc.code || (tc.rid != "" && got["rid"] != tc.rid) {
			t.Errorf("%s: answer %v, want error %s rid %q", tc.cmd, got, tc.code, tc.rid)
		}
		if tc.code == protocol.CodeUnavailable && got["message"] != "the service is unavailable, try again" {
			t.Errorf("unavailable leaks %q", got["message"])
		}
	}
	got := command(t, a, `{"action":"react","rid":"r","message":"m","emoji":"+1"}`)
	if got["action"] != "ok" || got["count"] != float64(3) {
		t.Fatalf("react answer %v", got)
	}
	writeText(t, a, protocol.Ping)
	if s := readText(t, a); s != protocol.Pong {
		t.Fatalf("after errors: %q, want PONG", s)
	}
	if s := e.g.Stats(); s.Commands != 9 || s.CommandErrors != 8 {
		t.Fatalf("stats commands %d errors %d, want 9 and 8", s.Commands, s.CommandErrors)
	}
}

// TestSpaceTypingLimited: a connection may send typingBurst typing events
// at once; the next is refused until the bucket refills.
func TestSpaceTypingLimited(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, f := spaceEnv(t, Config{Now: clock})
	f.add(strings.ToLower(siteA), "s1", false, "alice")
	a := e.connectToken(t, "alice")
	for i := range typingBurst {
		wantAnswer(t, command(t, a, fmt.Sprintf(`{"action":"typing","rid":"%d","space":"s1"}`, i)), "ok", fmt.Sprint(i), "")
	}
	wantAnswer(t, command(t, a, `{"action":"typing","rid":"x","space":"s1"}`), "error", "x", protocol.CodeRateLimited)
	mu.Lock()
	now = now.Add(typingEvery)
	mu.Unlock()
	wantAnswer(t, command(t, a, `{"action":"typing","rid":"y","space":"s1"}`), "ok", "y", "")
	if len(f.typing) != typingBurst+1 {
		t.Fatalf("service saw %d typing events, want %d", len(f.typing), typingBurst+1)
	}
}

// TestSpacesResync: SpacesResync makes each connection's spaces what the
// service says, keeping subscriptions to spaces still held.
func TestSpacesResync(t *testing.T) {
	e, f := spaceEnv(t, Config{})
	site := strings.ToLower(siteA)
	f.add(site, "s1", false, "alice", "bob")
	f.add(site, "s2", false, "alice", "bob")
	a, b := e.connectToken(t, "alice"), e.connectToken(t, "bob")
	wantAnswer(t, command(t, b, `{"action":"subscribe","rid":"1","space":"s1"}`), "ok", "1", "")
	wantAnswer(t, command(t, b, `{"action":"subscribe","rid":"2","space":"s2"}`), "ok", "2", "")
	f.remove(site, "s2", "bob") // an event bob's gateway never got
	e.g.SpacesResync()
	for _, sp := range []string{"s2", "s1"} {
		wantAnswer(t, command(t, a, `{"action":"send","rid":"x","space":"`+sp+`","kind":"chat","body":"b"}`), "ok", "x", "")
	}
	if got := frameOf(t, readText(t, b)); got["space"] != "s1" || got["action"] != "message" {
		t.Fatalf("bob got %v, want the s1 message only", got)
	}
	marker(t, e, "bob", b)
}

// TestCommandsLimited: a connection may send commandBurst commands other
// than send and typing at once; the next is refused until the bucket
// refills.
func TestCommandsLimited(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e, f := spaceEnv(t, Config{Now: clock})
	f.add(strings.ToLower(siteA), "s1", false, "alice")
	a := e.connectToken(t, "alice")
	for i := range commandBurst {
		wantAnswer(t, command(t, a, fmt.Sprintf(`{"action":"react","rid":"%d","message":"m","emoji":"x"}`, i)), "ok", fmt.Sprint(i), "")
	}
	wantAnswer(t, command(t, a, `{"action":"react","rid":"x","message":"m","emoji":"x"}`), "error", "x", protocol.CodeRateLimited)
	wantAnswer(t, command(t, a, `{"action":"typing","rid":"t","space":"s1"}`), "ok", "t", "") // its own bucket
	mu.Lock()
	now = now.Add(commandEvery)
	mu.Unlock()
	wantAnswer(t, command(t, a, `{"action":"subscribe","rid":"y","space":"s1"}`), "ok", "y", "")
}
