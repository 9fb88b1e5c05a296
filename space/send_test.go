package space_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// deliveries subscribes to the env's delivery channel (confirmed) and
// returns a function that reads the next delivery.
func (e *env) deliveries(t *testing.T) func() (history.Delivery, *message.Message) {
	t.Helper()
	ps := e.rdb.Subscribe(ctx(t), e.names.delivery)
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.Receive(ctx(t)); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	ch := ps.Channel()
	return func() (history.Delivery, *message.Message) {
		t.Helper()
		select {
		case m := <-ch:
			d, err := history.ParseDelivery(m.Payload)
			if err != nil {
				t.Fatalf("ParseDelivery: %v", err)
			}
			msg, err := message.Decode(d.Stored, -1)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			return d, msg
		case <-time.After(15 * time.Second):
			t.Fatal("no delivery")
		}
		return history.Delivery{}, nil
	}
}

func TestSendPipeline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		var mu sync.Mutex
		var hooked []string
		e := newEnv(t, rdb, func(c *space.Config) {
			c.OnMessage = func(_ context.Context, h, sp, id string, ev []byte) {
				mu.Lock()
				defer mu.Unlock()
				hooked = append(hooked, h+" "+sp+" "+id+" "+string(ev))
			}
		})
		c := ctx(t)
		next := e.deliveries(t)
		sp := e.mustCreate(t, "Team", "bob")

		var onID string
		sent, err := e.svc.Send(c, alice, sp.ID, protocol.Send{Kind: protocol.KindPost, Title: "News", Body: "<b>hi</b>\nthere"},
			space.SendOptions{OnID: func(id string) {
				onID = id
				// Not published yet.
				p, err := e.hist.Page(c, history.Reader{Host: host, User: "bob", Principals: []string{protocol.SpacePrincipal(sp.ID)}}, history.PageOptions{})
				if err != nil || len(p.Items) != 0 {
					t.Errorf("OnID: the message is already stored (%d items, %v)", len(p.Items), err)
				}
			}})
		wantErr(t, "Send", err, nil)
		if onID == "" || onID != sent.ID {
			t.Fatalf("OnID saw %q, Send returned %q", onID, sent.ID)
		}
		want := protocol.SpaceMessage{
			Action: protocol.ActionMessage, Space: sp.ID, ID: sent.ID, Kind: protocol.KindPost, Title: "News",
			Body: "<b>hi</b>\nthere", Sender: protocol.Sender{ID: "alice", Title: "Alice"}, Timestamp: message.FormatTimestamp(e.clock.Now()),
		}
		if got, _ := json.Marshal(sent); string(got) != string(want.Frame()) {
			t.Fatalf("Send returned %s, want %s", got, want.Frame())
		}

		// The delivery: the pipeline's message, sender from the Caller.
		d, m := next()
		if d.Kind != history.DeliveryMessage || m.ID != sent.ID || m.Category != protocol.SpaceCategory || m.Action != "notify" ||
			m.Title != "News" || m.Body != "<b>hi</b>\nthere" || m.Source.ID != "alice" || m.Source.Title != "Alice" ||
			!slices.Equal(m.Principals(), []string{protocol.SpacePrincipal(sp.ID)}) {
			t.Fatalf("delivered %s", d.Stored)
		}
		f, err := protocol.ParseSpaceField(m.Extra["space"])
		if err != nil || f.ID != sp.ID || f.Direct || f.Kind != protocol.KindPost || f.Body != "<b>hi</b>\nthere" {
			t.Fatalf("space field %+v, %v", f, err)
		}
		// Stored under the space's index: bob's inbox has it.
		p, err := e.hist.Page(c, history.Reader{Host: host, User: "bob", Principals: []string{protocol.SpacePrincipal(sp.ID)}}, history.PageOptions{})
		if err != nil || len(p.Items) != 1 || p.Items[0].Message.ID != sent.ID {
			t.Fatalf("bob's inbox: %+v, %v", p, err)
		}
		mu.Lock()
		if len(hooked) != 1 || hooked[0] != host+" "+sp.ID+" "+sent.ID+" "+string(want.Frame()) {
			t.Fatalf("OnMessage calls %q", hooked)
		}
		mu.Unlock()

		// A chat message's notification title is the space's title.
		e.mustSend(t, bob, sp.ID, chat("yo"))
		if _, m := next(); m.Title != "Team" || m.Source.ID != "bob" {
			t.Fatalf("chat delivered with title %q from %q", m.Title, m.SourceID())
		}
		// A reply is also indexed under the thread.
		reply := e.mustSend(t, bob, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: "re", Thread: sent.ID})
		if _, m := next(); m.ID != reply.ID || !slices.Equal(m.Principals(),
			[]string{protocol.SpacePrincipal(sp.ID), protocol.ThreadPrincipal(sp.ID, sent.ID)}) {
			t.Fatalf("reply target %v", m.Principals())
		}
	})
}

func TestMessagesThreadsReactions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "bob", "carol")
		other := e.mustCreate(t, "Other", "bob")
		m1 := e.mustSend(t, alice, sp.ID, chat("one"))
		m2 := e.mustSend(t, bob, sp.ID, chat("two"))
		r1 := e.mustSend(t, carol, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: "reply 1", Thread: m1.ID})
		e.mustSend(t, alice, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: "reply 2", Thread: m1.ID})
		e.mustSend(t, alice, other.ID, chat("elsewhere"))

		msgs, next, err := e.svc.Messages(c, alice, sp.ID, "", 0, "")
		wantErr(t, "Messages", err, nil)
		equal(t, "space history (own messages included)", bodies(msgs), []string{"reply 2", "reply 1", "two", "one"})
		if next != "" {
			t.Fatalf("next %q on the only page", next)
		}
		msgs, next, err = e.svc.Messages(c, bob, sp.ID, "", 3, "")
		wantErr(t, "Messages limit 3", err, nil)
		equal(t, "first page", bodies(msgs), []string{"reply 2", "reply 1", "two"})
		msgs, _, err = e.svc.Messages(c, bob, sp.ID, next, 3, "")
		wantErr(t, "Messages page 2", err, nil)
		equal(t, "second page", bodies(msgs), []string{"one"})
		msgs, _, err = e.svc.Messages(c, bob, sp.ID, "", 0, m1.ID)
		wantErr(t, "Messages of a thread", err, nil)
		equal(t, "thread", bodies(msgs), []string{"reply 2", "reply 1"})
		if msgs[1].Thread != m1.ID || msgs[1].Sender.ID != "carol" {
			t.Fatalf("reply %+v", msgs[1])
		}

		// Threads: a top-level message of the same space.
		for what, thread := range map[string]string{"reply": r1.ID, "other space": other.ID, "unknown": "01NOSUCHMESSAGE0000000000A"} {
			_, err = e.svc.Send(c, alice, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: "x", Thread: thread}, space.SendOptions{})
			wantErr(t, "thread on "+what, err, space.ErrInvalid)
		}

		// Reactions: idempotent per principal and emoji.
		react := func(who space.Caller, id, emoji string, remove bool, want int) {
			t.Helper()
			r, err := e.svc.React(c, who, id, emoji, remove)
			wantErr(t, "React", err, nil)
			if r.Count != want || r.Space != sp.ID || r.Principal != who.Principal || r.Message != id {
				t.Fatalf("React(%s %s %v) = %+v, want count %d", who.Principal, emoji, remove, r, want)
			}
		}
		react(bob, m2.ID, "👍", false, 1)
		react(carol, m2.ID, "👍", false, 2)
		react(bob, m2.ID, "👍", false, 2)
		react(alice, m2.ID, ":tada:", false, 1)
		react(alice, m2.ID, "🙃", false, 1)
		react(alice, m2.ID, "🙃", true, 0)
		react(alice, m2.ID, "🙃", true, 0)
		_, err = e.svc.React(c, alice, m2.ID, "two words", false)
		wantErr(t, "React with a space", err, space.ErrInvalid)
		msgs, _, _ = e.svc.Messages(c, carol, sp.ID, m2.ID, 0, "")
		equal(t, "before m2", bodies(msgs), []string{"one"})
		msgs, _, _ = e.svc.Messages(c, carol, sp.ID, "", 0, "")
		got, _ := json.Marshal(msgs[2].Reactions)
		if msgs[2].ID != m2.ID || string(got) != `[{"emoji":"👍","count":2,"principals":["bob","carol"]},{"emoji":":tada:","count":1,"principals":["alice"]}]` {
			t.Fatalf("reactions of %s: %s", msgs[2].ID, got)
		}
		if len(msgs[0].Reactions) != 0 {
			t.Fatalf("reactions on a message without any: %+v", msgs[0].Reactions)
		}
	})
}

func TestEditDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "bob", "carol")
		next := e.deliveries(t)
		ma := e.mustSend(t, alice, sp.ID, chat("by alice"))
		mb := e.mustSend(t, bob, sp.ID, chat("by bob"))
		mc := e.mustSend(t, carol, sp.ID, chat("by carol"))
		task := e.mustSend(t, bob, sp.ID, protocol.Send{Kind: protocol.KindTask, Title: "Do it", Body: "soon", Task: &protocol.Task{Status: protocol.TaskOpen, Assignee: "carol"}})

		wantErr(t, "edit another's", e.svc.Edit(c, alice, mb.ID, "x"), space.ErrForbidden)
		wantErr(t, "edit empty chat", e.svc.Edit(c, bob, mb.ID, ""), space.ErrInvalid)
		for range 4 {
			next() // the messages
		}
		wantErr(t, "edit", e.svc.Edit(c, bob, mb.ID, "by bob, edited"), nil)
		if d, m := next(); d.Kind != history.DeliveryUpdate || m.ID != mb.ID || m.Body != "by bob, edited" || m.SourceID() != "bob" {
			t.Fatalf("edit delivered as %c %s", d.Kind, d.Stored)
		}
		wantErr(t, "edit a task to no body", e.svc.Edit(c, bob, task.ID, ""), nil)
		wantErr(t, "delete another's as a member", e.svc.DeleteMessage(c, bob, mc.ID), space.ErrForbidden)
		next() // the task's edit
		wantErr(t, "delete own", e.svc.DeleteMessage(c, carol, mc.ID), nil)
		if d, m := next(); d.Kind != history.DeliveryRetract || m.ID != mc.ID {
			t.Fatalf("delete delivered as %c %s", d.Kind, d.Stored)
		}
		wantErr(t, "delete twice", e.svc.DeleteMessage(c, carol, mc.ID), space.ErrNotFound)
		wantErr(t, "edit a deleted message", e.svc.Edit(c, carol, mc.ID, "x"), space.ErrNotFound)
		wantErr(t, "delete as a moderator", e.svc.DeleteMessage(c, alice, task.ID), nil)

		msgs, _, err := e.svc.Messages(c, carol, sp.ID, "", 0, "")
		wantErr(t, "Messages", err, nil)
		equal(t, "history after edits and deletes", bodies(msgs), []string{"by bob, edited", "by alice"})
		// The stored form changed too (the notification body).
		p, err := e.hist.Page(c, history.Reader{Host: host, User: "carol", Principals: []string{protocol.SpacePrincipal(sp.ID)}}, history.PageOptions{})
		if err != nil || len(p.Items) != 2 || p.Items[0].Message.Body != "by bob, edited" {
			t.Fatalf("stored after edit: %+v, %v", p.Items, err)
		}
		// The last message follows: the newest left after the deletes.
		list, _ := e.svc.List(c, carol)
		if len(list) != 1 || list[0].LastMessage == nil || list[0].LastMessage.ID != mb.ID || list[0].LastMessage.Body != "by bob, edited" {
			t.Fatalf("last message %+v", list[0].LastMessage)
		}
		_ = ma
	})
}

func TestUnread(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		a := e.mustCreate(t, "A", "bob")
		e.clock.Advance(time.Second)
		b := e.mustCreate(t, "B", "bob")
		e.clock.Advance(time.Second)
		unread := func(who space.Caller) map[string]int {
			t.Helper()
			list, err := e.svc.List(c, who)
			wantErr(t, "List", err, nil)
			out := map[string]int{}
			for _, s := range list {
				out[s.Title] = s.Unread
			}
			return out
		}
		order := func(who space.Caller) []string {
			list, _ := e.svc.List(c, who)
			var out []string
			for _, s := range list {
				out = append(out, s.Title)
			}
			return out
		}
		equal(t, "order by creation", order(bob), []string{"B", "A"})
		a1 := e.mustSend(t, alice, a.ID, chat("a1"))
		a2 := e.mustSend(t, alice, a.ID, chat("a2"))
		e.mustSend(t, alice, a.ID, chat("a3"))
		equal(t, "order by activity", order(bob), []string{"A", "B"})
		if u := unread(bob); u["A"] != 3 || u["B"] != 0 {
			t.Fatalf("bob's unread %v", u)
		}
		if u := unread(alice); u["A"] != 0 {
			t.Fatalf("alice's own messages unread: %v", u)
		}
		wantErr(t, "Read", e.svc.Read(c, bob, a.ID, a2.ID), nil)
		wantErr(t, "Read backwards", e.svc.Read(c, bob, a.ID, a1.ID), nil)
		if u := unread(bob); u["A"] != 1 {
			t.Fatalf("bob's unread after reading a2: %v", u)
		}
		wantErr(t, "Read a message of another space", e.svc.Read(c, bob, b.ID, a2.ID), space.ErrNotFound)
		// Bob answers: his own message reads everything before it.
		e.mustSend(t, bob, a.ID, chat("b1"))
		if u := unread(bob); u["A"] != 0 {
			t.Fatalf("bob's unread after sending: %v", u)
		}
		if u := unread(alice); u["A"] != 1 {
			t.Fatalf("alice's unread after bob's answer: %v", u)
		}
		// A member added later starts with nothing unread.
		_, err := e.svc.AddMember(c, alice, a.ID, "carol", false)
		wantErr(t, "AddMember", err, nil)
		if u := unread(carol); u["A"] != 0 {
			t.Fatalf("carol's unread on joining: %v", u)
		}
		list, _ := e.svc.List(c, carol)
		if list[0].LastMessage == nil || list[0].LastMessage.Body != "b1" || list[0].MembersCount != 3 || list[0].Members != nil {
			t.Fatalf("carol's list %+v", list[0])
		}
		var keys map[string]json.RawMessage
		raw, _ := json.Marshal(list[0])
		_ = json.Unmarshal(raw, &keys)
		for _, k := range []string{"id", "title", "kind", "created", "members_count", "unread", "last_message"} {
			if _, ok := keys[k]; !ok {
				t.Fatalf("list entry %s has no %q", raw, k)
			}
		}
		if _, ok := keys["members"]; ok || len(keys) != 7 {
			t.Fatalf("list entry %s", raw)
		}
	})
}

func TestLastMessagePreview(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, nil)
	sp := e.mustCreate(t, "Team", "bob")
	body := strings.Repeat("é", 600) // 1200 bytes
	e.mustSend(t, alice, sp.ID, protocol.Send{Kind: protocol.KindChat, Body: body,
		Attachments: []protocol.Attachment{{Name: "a", URL: "https://x.example/a"}}})
	list, err := e.svc.List(ctx(t), bob)
	wantErr(t, "List", err, nil)
	last := list[0].LastMessage
	if last == nil || last.Body != strings.Repeat("é", 512) || last.Attachments != nil || last.Action != "" {
		t.Fatalf("preview %+v", last)
	}
	msgs, _, _ := e.svc.Messages(ctx(t), bob, sp.ID, "", 0, "")
	if msgs[0].Body != body || len(msgs[0].Attachments) != 1 {
		t.Fatalf("the message itself was cut: %+v", msgs[0])
	}
}

func TestSendRate(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, func(c *space.Config) { c.SendRate, c.SendBurst = 1, 2 })
	sp := e.mustCreate(t, "Team", "bob")
	send := func() error {
		_, err := e.svc.Send(ctx(t), alice, sp.ID, chat("x"), space.SendOptions{})
		return err
	}
	wantErr(t, "first", send(), nil)
	wantErr(t, "second", send(), nil)
	wantErr(t, "third", send(), space.ErrRateLimited)
	_, err := e.svc.Send(ctx(t), bob, sp.ID, chat("x"), space.SendOptions{})
	wantErr(t, "another user", err, nil)
	e.clock.Advance(time.Second)
	wantErr(t, "after a second", send(), nil)
	if s := e.svc.Stats(); s.RateLimited != 1 || s.Sent != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// failingPublisher fails every Publish with err.
type failingPublisher struct{ err error }

func (p failingPublisher) Publish(context.Context, *message.Message) error { return p.err }

// TestSendPublishFails: a refused message leaves the last message as it
// was and no record behind; after an unavailable publisher (the message
// may have been stored), the record stays.
func TestSendPublishFails(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, nil)
	sp := e.mustCreate(t, "Team", "bob")
	first := e.mustSend(t, alice, sp.ID, chat("first"))
	broken, err := space.New(rdb, failingPublisher{&message.FieldError{Field: "x", Reason: "refused"}}, e.hist, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	_, err = broken.Send(ctx(t), alice, sp.ID, chat("lost"), space.SendOptions{OnID: func(s string) { id = s }})
	wantErr(t, "Send", err, space.ErrInvalid)
	list, _ := e.svc.List(ctx(t), bob)
	if list[0].LastMessage == nil || list[0].LastMessage.ID != first.ID {
		t.Fatalf("last message after a failed send: %+v", list[0].LastMessage)
	}
	_, err = e.svc.React(ctx(t), bob, id, "👍", false)
	wantErr(t, "React to the lost message", err, space.ErrNotFound)

	down, err := space.New(rdb, failingPublisher{errors.New("i/o timeout")}, e.hist, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = down.Send(ctx(t), alice, sp.ID, chat("maybe"), space.SendOptions{OnID: func(s string) { id = s }})
	wantErr(t, "Send", err, space.ErrUnavailable)
	_, err = e.svc.React(ctx(t), bob, id, "👍", false)
	wantErr(t, "React to the maybe-stored message", err, nil)
}

// TestReactConcurrent: reactions are counted once per principal and
// emoji however many calls race.
func TestReactConcurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		members := []string{"m0", "m1", "m2", "m3", "m4"}
		sp := e.mustCreate(t, "Team", members...)
		msg := e.mustSend(t, alice, sp.ID, chat("x"))
		var wg sync.WaitGroup
		errs := make(chan error, 4*len(members))
		for _, m := range members {
			for range 4 {
				wg.Go(func() {
					_, err := e.svc.React(ctx(t), caller(m), msg.ID, "👍", false)
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			wantErr(t, "React", err, nil)
		}
		r, err := e.svc.React(ctx(t), alice, msg.ID, "👍", true)
		wantErr(t, "React remove (never added)", err, nil)
		if r.Count != len(members) {
			t.Fatalf("count %d, want %d", r.Count, len(members))
		}
		if st := e.svc.Stats(); st.Reactions != uint64(len(members)) {
			t.Fatalf("reaction changes counted %d, want %d", st.Reactions, len(members))
		}
	})
}

// TestSendIdempotent: a send retried with its key after a failure that may
// have happened after the message was counted (the publisher timed out) is
// the first send: the same id and timestamp, counted once, stored once;
// the same key with another message is refused; without a key a retry is a
// new message.
func TestSendIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "bob")
		down, err := space.New(rdb, failingPublisher{errors.New("i/o timeout")}, e.hist, e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var firstID string
		_, err = down.Send(c, alice, sp.ID, chat("once"), space.SendOptions{Key: "k-1", OnID: func(s string) { firstID = s }})
		wantErr(t, "Send with a failing publisher", err, space.ErrUnavailable)
		var retryID string
		got, err := e.svc.Send(c, alice, sp.ID, chat("once"), space.SendOptions{Key: "k-1", OnID: func(s string) { retryID = s }})
		wantErr(t, "retry", err, nil)
		if got.ID != firstID || retryID != firstID {
			t.Fatalf("retry id %s (OnID %s), want the first id %s", got.ID, retryID, firstID)
		}
		again, err := e.svc.Send(c, alice, sp.ID, chat("once"), space.SendOptions{Key: "k-1"})
		wantErr(t, "second retry", err, nil)
		if again.ID != firstID || again.Timestamp != got.Timestamp {
			t.Fatalf("second retry %s %s, want %s %s", again.ID, again.Timestamp, firstID, got.Timestamp)
		}
		_, err = e.svc.Send(c, alice, sp.ID, chat("another"), space.SendOptions{Key: "k-1"})
		wantErr(t, "same key, other message", err, space.ErrInvalid)
		_, err = e.svc.Send(c, alice, sp.ID, chat("x"), space.SendOptions{Key: "bad key"})
		wantErr(t, "malformed key", err, space.ErrInvalid)
		if list, _ := e.svc.List(c, bob); list[0].Unread != 1 {
			t.Fatalf("bob's unread %d after three attempts of one message, want 1", list[0].Unread)
		}
		// Another caller's key is another key.
		bobs, err := e.svc.Send(c, bob, sp.ID, chat("once"), space.SendOptions{Key: "k-1"})
		wantErr(t, "bob with alice's key", err, nil)
		if bobs.ID == firstID {
			t.Fatal("bob's send replayed alice's")
		}
		msgs, _, err := e.svc.Messages(c, bob, sp.ID, "", 0, "")
		wantErr(t, "Messages", err, nil)
		if len(msgs) != 2 || msgs[1].ID != firstID {
			t.Fatalf("history %+v: want alice's message once, then bob's", msgs)
		}
		list, _ := e.svc.List(c, alice)
		if list[0].Unread != 1 {
			t.Fatalf("alice's unread %d: bob's one message", list[0].Unread)
		}
		// Without a key, the same text sent twice is two messages.
		u1, err1 := e.svc.Send(c, bob, sp.ID, chat("twice"), space.SendOptions{})
		u2, err2 := e.svc.Send(c, bob, sp.ID, chat("twice"), space.SendOptions{})
		if err1 != nil || err2 != nil || u1.ID == u2.ID {
			t.Fatalf("unkeyed sends: %s (%v), %s (%v); want two messages", u1.ID, err1, u2.ID, err2)
		}
		if list, _ := e.svc.List(c, alice); list[0].Unread != 3 {
			t.Fatalf("alice's unread %d after two unkeyed sends, want 3", list[0].Unread)
		}
	})
}
