package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// Tests of the chat and the inbox against the real stack (stack_test.go).

// next returns the next value from ch, failing t after 10 seconds.
func next[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received within 10s")
		var zero T
		return zero
	}
}

// until returns the first value from ch that satisfies ok, skipping the
// others.
func until[T any](t testing.TB, ch <-chan T, ok func(T) bool) T {
	t.Helper()
	for {
		if v := next(t, ch); ok(v) {
			return v
		}
	}
}

func ctxOf(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// user is a running client and what its listeners received.
type user struct {
	*client.Client
	msgs     chan *message.Message
	counts   chan client.Counts
	chat     chan protocol.SpaceMessage
	typing   chan protocol.Typing
	reaction chan protocol.Reaction
	retract  chan [2]string
	activity chan protocol.Activity
	member   chan protocol.Member
	connects chan string
	stop     func() // ends Run and waits for it
}

func (s *stack) user(t testing.TB, sub, title string, edit ...func(*client.Config)) *user {
	t.Helper()
	u := &user{
		msgs: make(chan *message.Message, 64), counts: make(chan client.Counts, 64),
		chat: make(chan protocol.SpaceMessage, 64), typing: make(chan protocol.Typing, 64),
		reaction: make(chan protocol.Reaction, 64), retract: make(chan [2]string, 64),
		activity: make(chan protocol.Activity, 64), member: make(chan protocol.Member, 64),
		connects: make(chan string, 64),
	}
	cfg := s.config(t, sub, title)
	cfg.OnMessage = func(m *message.Message, _ []byte) { u.msgs <- m }
	cfg.OnInbox = func(c client.Counts) { u.counts <- c }
	cfg.OnChat = func(m protocol.SpaceMessage) { u.chat <- m }
	cfg.OnTyping = func(e protocol.Typing) { u.typing <- e }
	cfg.OnReaction = func(e protocol.Reaction) { u.reaction <- e }
	cfg.OnRetract = func(space, id string) { u.retract <- [2]string{space, id} }
	cfg.OnActivity = func(e protocol.Activity) { u.activity <- e }
	cfg.OnMember = func(e protocol.Member) { u.member <- e }
	cfg.OnConnect = func(url string) { u.connects <- url }
	for _, f := range edit {
		f(&cfg)
	}
	u.Client, u.stop = s.run(t, cfg)
	<-u.connects // run waited for it
	return u
}

func TestNotificationsAndInboxCounts(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	bob := s.user(t, "users:bob", "Bob")
	if c := next(t, bob.counts); c != (client.Counts{}) {
		t.Fatalf("counts at connect %+v, want zero", c)
	}

	id := s.notify(t, "users:bob", "Review requested")
	if m := next(t, bob.msgs); m.ID != id || m.Title != "Review requested" {
		t.Fatalf("OnMessage got %s %q, want %s", m.ID, m.Title, id)
	}
	if c := next(t, bob.counts); c.Unread != 1 || c.Unseen != 1 {
		t.Fatalf("counts after a notification %+v, want 1 unread 1 unseen", c)
	}
	if bob.LastID() != id {
		t.Fatalf("LastID %q, want %q", bob.LastID(), id)
	}

	page, err := bob.Inbox(ctx, client.InboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Message.ID != id || page.Items[0].Read || page.Unread != 1 {
		t.Fatalf("inbox page %+v", page)
	}
	if _, ok := page.Items[0].Message.Extra["read"]; ok {
		t.Fatal(`"read" left among the message's extra keys`)
	}

	counts, err := bob.MarkRead(ctx, id)
	if err != nil || counts.Unread != 0 {
		t.Fatalf("MarkRead: %+v, %v", counts, err)
	}
	if c := next(t, bob.counts); c.Unread != 0 {
		t.Fatalf("OnInbox after MarkRead %+v, want 0 unread", c)
	}
	if counts, err = bob.MarkSeen(ctx, id); err != nil || counts.Unseen != 0 {
		t.Fatalf("MarkSeen: %+v, %v", counts, err)
	}
	if c, err := bob.Count(ctx); err != nil || c != (client.Counts{}) {
		t.Fatalf("Count: %+v, %v", c, err)
	}
	if c, err := bob.MarkUnread(ctx, id); err != nil || c.Unread != 1 {
		t.Fatalf("MarkUnread: %+v, %v", c, err)
	}
	if c, err := bob.MarkAllRead(ctx); err != nil || c.Unread != 0 {
		t.Fatalf("MarkAllRead: %+v, %v", c, err)
	}
	if _, err := bob.MarkRead(ctx); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("MarkRead without ids: %v, want ErrInvalid", err)
	}
	page, err = bob.Inbox(ctx, client.InboxOptions{UnreadOnly: true})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("unread page after MarkRead: %+v, %v", page, err)
	}

	prefs, err := bob.SetPreferences(ctx, client.Prefs{Muted: []string{"site.*"}})
	if err != nil || len(prefs.Muted) != 1 {
		t.Fatalf("SetPreferences: %+v, %v", prefs, err)
	}
	if prefs, err = bob.Preferences(ctx); err != nil || len(prefs.Muted) != 1 || prefs.Muted[0] != "site.*" {
		t.Fatalf("Preferences: %+v, %v", prefs, err)
	}
}

// chatPair is alice and bob, both running, and a space of theirs that both
// subscribed to; bob's subscription callback feeds bobSpace.
type chatPair struct {
	alice, bob *user
	space      client.Space
	bobSpace   chan protocol.SpaceMessage
}

func startChat(t *testing.T, s *stack) chatPair {
	t.Helper()
	ctx := ctxOf(t)
	p := chatPair{
		alice: s.user(t, "users:alice", "Alice"), bob: s.user(t, "users:bob", "Bob"),
		bobSpace: make(chan protocol.SpaceMessage, 64),
	}
	var err error
	if p.space, err = p.alice.CreateSpace(ctx, "Team", []string{"users:bob"}); err != nil {
		t.Fatalf("CreateSpace: %v", err)
	}
	if err := p.alice.Subscribe(ctx, p.space.ID, nil); err != nil {
		t.Fatalf("alice Subscribe: %v", err)
	}
	if err := p.bob.Subscribe(ctx, p.space.ID, func(m protocol.SpaceMessage) { p.bobSpace <- m }); err != nil {
		t.Fatalf("bob Subscribe: %v", err)
	}
	return p
}

func TestSubscribeReceivesAnotherUsersMessage(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	p := startChat(t, s)

	sent, err := p.alice.Send(ctx, p.space.ID, protocol.Send{Kind: protocol.KindChat, Body: "hello bob"})
	if err != nil || sent.ID == "" || sent.Timestamp == "" {
		t.Fatalf("Send: %+v, %v", sent, err)
	}
	m := next(t, p.bobSpace)
	want := protocol.Sender{ID: "users:alice", Title: "Alice"}
	if m.ID != sent.ID || m.Body != "hello bob" || m.Space != p.space.ID || m.Sender != want || m.Action != protocol.ActionMessage {
		t.Fatalf("bob's callback got %+v, want %s from %+v", m, sent.ID, want)
	}
	if g := next(t, p.bob.chat); g.ID != sent.ID {
		t.Fatalf("OnChat got %s, want %s", g.ID, sent.ID)
	}

	// A thread reply, a post and a task go through as sent.
	reply, err := p.bob.Send(ctx, p.space.ID, protocol.Send{Kind: protocol.KindTask, Title: "Ship it", Thread: sent.ID,
		Task:        &protocol.Task{Assignee: "users:alice", Status: protocol.TaskOpen},
		Attachments: []protocol.Attachment{{Name: "plan.pdf", URL: "https://files.example.com/plan.pdf"}}})
	if err != nil {
		t.Fatalf("Send task: %v", err)
	}
	g := until(t, p.alice.chat, func(m protocol.SpaceMessage) bool { return m.ID == reply.ID })
	if g.Thread != sent.ID || g.Task == nil || g.Task.Assignee != "users:alice" || len(g.Attachments) != 1 || g.Sender.ID != "users:bob" {
		t.Fatalf("alice got %+v", g)
	}
}

func TestResubscribeAfterReconnect(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	p := startChat(t, s)
	dials := p.bob.Stats().Dials

	s.cut() // every socket of both users drops
	next(t, p.bob.connects)
	next(t, p.alice.connects)
	if d := p.bob.Stats().Dials; d <= dials {
		t.Fatalf("bob dialled %d times, want more than %d", d, dials)
	}

	sent, err := p.alice.Send(ctx, p.space.ID, protocol.Send{Kind: protocol.KindChat, Body: "still there?"})
	if err != nil {
		t.Fatalf("Send after the reconnect: %v", err)
	}
	if m := next(t, p.bobSpace); m.ID != sent.ID || m.Body != "still there?" {
		t.Fatalf("after the reconnect bob got %+v, want %s", m, sent.ID)
	}
	select {
	case a := <-p.bob.activity:
		t.Fatalf("bob got activity %+v: the space was not resubscribed", a)
	default:
	}

	// Unsubscribed, bob gets the activity event instead.
	if err := p.bob.Unsubscribe(ctx, p.space.ID); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	sent, err = p.alice.Send(ctx, p.space.ID, protocol.Send{Kind: protocol.KindChat, Body: "bye"})
	if err != nil {
		t.Fatal(err)
	}
	if a := next(t, p.bob.activity); a.ID != sent.ID || a.Sender != "users:alice" {
		t.Fatalf("activity %+v, want %s", a, sent.ID)
	}
}

func TestTypingReactionsEditsAndRetractions(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	p := startChat(t, s)

	if err := p.alice.Typing(ctx, p.space.ID); err != nil {
		t.Fatalf("Typing: %v", err)
	}
	if e := next(t, p.bob.typing); e.Space != p.space.ID || e.Principal != "users:alice" {
		t.Fatalf("typing event %+v", e)
	}

	sent, err := p.bob.Send(ctx, p.space.ID, protocol.Send{Kind: protocol.KindChat, Body: "lunch?"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.alice.React(ctx, sent.ID, "👍", false)
	if err != nil || n != 1 {
		t.Fatalf("React: %d, %v", n, err)
	}
	if r := next(t, p.bob.reaction); r.Message != sent.ID || r.Emoji != "👍" || r.Principal != "users:alice" || r.Count != 1 {
		t.Fatalf("reaction event %+v", r)
	}

	if err := p.bob.Edit(ctx, sent.ID, "lunch at noon?"); err != nil {
		t.Fatalf("Edit: %v", err)
	}
	if m := until(t, p.alice.chat, func(m protocol.SpaceMessage) bool { return m.Action == protocol.ActionUpdate }); m.ID != sent.ID || m.Body != "lunch at noon?" {
		t.Fatalf("update event %+v", m)
	}
	if err := p.alice.Edit(ctx, sent.ID, "not mine"); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("Edit of another's message: %v, want ErrForbidden", err)
	}
	if err := p.alice.Read(ctx, p.space.ID, sent.ID); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if _, err := p.alice.AddMember(ctx, p.space.ID, "users:carol", false); err != nil {
		t.Fatal(err)
	}
	if e := next(t, p.bob.member); e.Space != p.space.ID || e.Principal != "users:carol" || !e.Joined {
		t.Fatalf("member event %+v", e)
	}
	if err := p.bob.Delete(ctx, sent.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if r := next(t, p.alice.retract); r != [2]string{p.space.ID, sent.ID} {
		t.Fatalf("retract %v, want %s %s", r, p.space.ID, sent.ID)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	bob := s.user(t, "users:bob", "Bob")

	_, err := bob.Send(ctx, "no-such-space", protocol.Send{Kind: protocol.KindChat, Body: "hi"})
	var ce *client.CommandError
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &ce) || ce.Code != protocol.CodeNotFound || ce.Action != protocol.ActionSend {
		t.Fatalf("Send to an unknown space: %v, want a not_found CommandError", err)
	}
	if err := bob.Subscribe(ctx, "no-such-space", nil); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Subscribe to an unknown space: %v, want ErrNotFound", err)
	}
	sp, err := bob.CreateSpace(ctx, "Solo", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.Send(ctx, sp.ID, protocol.Send{Kind: "shout", Body: "hi"})
	if !errors.Is(err, client.ErrInvalid) || errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Send of an unknown kind: %v, want ErrInvalid", err)
	}
	// The connection survives error answers.
	if _, err := bob.Send(ctx, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: "hi"}); err != nil {
		t.Fatalf("Send after errors: %v", err)
	}
	if st := bob.Stats(); st.CommandErrs != 3 || st.Connects != 1 {
		t.Fatalf("stats %+v, want 3 command errors on 1 connection", st)
	}
}

func TestREST(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	alice := s.user(t, "users:alice", "Alice")
	bob := s.user(t, "users:bob", "Bob")

	sp, err := alice.CreateSpace(ctx, "Team", []string{"users:bob"})
	if err != nil || sp.ID == "" || sp.Title != "Team" || sp.Kind != "group" {
		t.Fatalf("CreateSpace: %+v, %v", sp, err)
	}
	got, err := bob.Space(ctx, sp.ID)
	if err != nil || len(got.Members) != 2 {
		t.Fatalf("Space: %+v, %v", got, err)
	}
	var ids []string
	for _, body := range []string{"one", "two", "three"} {
		m, err := alice.Post(ctx, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: body})
		if err != nil || m.Sender.ID != "users:alice" {
			t.Fatalf("Post: %+v, %v", m, err)
		}
		ids = append(ids, m.ID)
	}
	page, err := bob.Messages(ctx, sp.ID, client.MessagesOptions{Limit: 2})
	if err != nil || len(page.Messages) != 2 || page.Messages[0].ID != ids[2] || page.Messages[1].ID != ids[1] || page.Next == "" {
		t.Fatalf("Messages page 1: %+v, %v", page, err)
	}
	page, err = bob.Messages(ctx, sp.ID, client.MessagesOptions{Limit: 2, Before: page.Next})
	if err != nil || len(page.Messages) != 1 || page.Messages[0].Body != "one" {
		t.Fatalf("Messages page 2: %+v, %v", page, err)
	}
	list, err := bob.Spaces(ctx)
	if err != nil || len(list) != 1 || list[0].ID != sp.ID || list[0].Unread != 3 {
		t.Fatalf("Spaces: %+v, %v", list, err)
	}

	d1, err := alice.Direct(ctx, "users:bob")
	if err != nil || d1.Kind != "direct" {
		t.Fatalf("Direct: %+v, %v", d1, err)
	}
	if d2, err := bob.Direct(ctx, "users:alice"); err != nil || d2.ID != d1.ID {
		t.Fatalf("Direct from the other side: %+v, %v, want %s", d2, err, d1.ID)
	}

	if m, err := alice.AddMember(ctx, sp.ID, "users:carol", false); err != nil || m.Principal != "users:carol" {
		t.Fatalf("AddMember: %+v, %v", m, err)
	}
	if _, err := bob.AddMember(ctx, sp.ID, "users:dave", false); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("AddMember by a non-moderator: %v, want ErrForbidden", err)
	}
	if err := alice.RemoveMember(ctx, sp.ID, "users:bob"); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	_, err = bob.Space(ctx, sp.ID)
	var ae *client.APIError
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &ae) || ae.Status != 404 || ae.Message == "" {
		t.Fatalf("Space after removal: %v, want a 404 APIError", err)
	}
}

func TestCommandWaitsForAConnection(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	c, err := client.New(s.config(t, "users:bob", "Bob")) // never run
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Typing(ctx, "any"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Typing without a connection: %v, want the context's deadline", err)
	}
}

func TestDeviceAcksResumeAfterTheLastMessageHandled(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	device := func(cfg *client.Config) { cfg.Device = "phone-1" }
	phone := s.user(t, "users:bob", "Bob", device)
	first := s.notify(t, "users:bob", "first")
	if m := next(t, phone.msgs); m.ID != first {
		t.Fatalf("got %s, want %s", m.ID, first)
	}
	reader := history.Reader{Host: stackSite, User: "users:bob", Principals: []string{"users:bob"}}
	poll.Until(t, "the ack stored", func() bool {
		id, err := s.hist.DeviceCursor(context.Background(), reader, "phone-1")
		return err == nil && id == first
	})
	if phone.Stats().Acks == 0 {
		t.Fatal("no ack counted")
	}
	phone.stop()

	// The same device, without Since, resumes after the last ack.
	second := s.notify(t, "users:bob", "second")
	again := s.user(t, "users:bob", "Bob", device)
	if m := next(t, again.msgs); m.ID != second {
		t.Fatalf("after the restart the device got %s first, want %s (the one after its ack)", m.ID, second)
	}
}

// A bot answers in its subscription callback: a listener may wait for a
// command's answer.
func TestListenerMayCallCommands(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	ctx := ctxOf(t)
	p := startChat(t, s)
	echoed := make(chan error, 1)
	if err := p.bob.Subscribe(ctx, p.space.ID, func(m protocol.SpaceMessage) {
		_, err := p.bob.Send(ctx, m.Space, protocol.Send{Kind: protocol.KindChat, Body: "echo: " + m.Body, Thread: m.ID})
		echoed <- err
	}); err != nil {
		t.Fatal(err)
	}
	sent, err := p.alice.Send(ctx, p.space.ID, protocol.Send{Kind: protocol.KindChat, Body: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	if err := next(t, echoed); err != nil {
		t.Fatalf("Send from the callback: %v", err)
	}
	if m := until(t, p.alice.chat, func(m protocol.SpaceMessage) bool { return m.Thread == sent.ID }); m.Body != "echo: ping" {
		t.Fatalf("alice got %+v", m)
	}
}

// A REST call refused with 401 asks for a fresh token once; REST needs no
// running connection.
func TestRESTRefreshesARefusedToken(t *testing.T) {
	t.Parallel()
	s := startStack(t)
	good := s.token(t, "users:bob", "Bob")
	refreshed := 0
	cfg := s.config(t, "users:bob", "Bob")
	cfg.Token = func(ctx context.Context) (string, error) {
		if client.Refresh(ctx) {
			refreshed++
			return good, nil
		}
		return "expired-token", nil
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Count(ctxOf(t)); err != nil || n != (client.Counts{}) || refreshed != 1 {
		t.Fatalf("Count: %+v, %v after %d refreshes, want zero counts after 1", n, err, refreshed)
	}
	cfg.Token = func(context.Context) (string, error) { return "expired-token", nil }
	c, _ = client.New(cfg)
	var ae *client.APIError
	if _, err := c.Count(ctxOf(t)); !errors.As(err, &ae) || ae.Status != 401 || !errors.Is(err, client.ErrTokenRefused) {
		t.Fatalf("Count with a bad token: %v, want a 401 APIError", err)
	}
}
