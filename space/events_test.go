package space_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/space"
)

// sink records events as lines.
type sink struct {
	mu      sync.Mutex
	events  []string
	resyncs int
}

var _ space.EventSink = (*sink)(nil)

func (s *sink) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, line)
}

func (s *sink) SpaceMember(host, sp, p string, joined, deleted bool) {
	s.add(fmt.Sprintf("member %s %s joined=%v deleted=%v", sp, p, joined, deleted))
}

func (s *sink) SpaceTyping(host, sp, p string) { s.add("typing " + sp + " " + p) }

func (s *sink) SpaceReaction(host string, r protocol.Reaction) {
	s.add(fmt.Sprintf("reaction %s %s %s %s remove=%v count=%d", r.Space, r.Message, r.Emoji, r.Principal, r.Remove, r.Count))
}

func (s *sink) SpacesResync() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resyncs++
}

func (s *sink) snapshot() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events), s.resyncs
}

// has reports whether every line of want was received.
func (s *sink) has(want ...string) bool {
	got, _ := s.snapshot()
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// listen runs e.svc.Listen until the test ends and waits for the first
// subscription.
func (e *env) listen(t *testing.T) *sink {
	t.Helper()
	s := &sink{}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.svc.Listen(c, s) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen returned %v", err)
		}
	})
	poll.Until(t, "first subscription", func() bool { _, n := s.snapshot(); return n >= 1 })
	return s
}

func TestEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, rdb *redis.Client, _ *redistest.Server) {
		e := newEnv(t, rdb, nil)
		s := e.listen(t)
		c := ctx(t)
		sp := e.mustCreate(t, "Team", "bob")
		poll.Until(t, "members of a new space", func() bool {
			return s.has("member "+sp.ID+" alice joined=true deleted=false", "member "+sp.ID+" bob joined=true deleted=false")
		})
		_, err := e.svc.AddMember(c, alice, sp.ID, "carol", false)
		wantErr(t, "AddMember", err, nil)
		wantErr(t, "RemoveMember", e.svc.RemoveMember(c, alice, sp.ID, "bob"), nil)
		poll.Until(t, "joined and left", func() bool {
			return s.has("member "+sp.ID+" carol joined=true deleted=false", "member "+sp.ID+" bob joined=false deleted=false")
		})

		// Typing: one per interval per user and space, the rest dropped.
		wantErr(t, "Typing", e.svc.Typing(c, carol, sp.ID), nil)
		wantErr(t, "Typing again", e.svc.Typing(c, carol, sp.ID), nil)
		wantErr(t, "Typing by another", e.svc.Typing(c, alice, sp.ID), nil)
		e.clock.Advance(space.DefaultTypingInterval)
		wantErr(t, "Typing after the interval", e.svc.Typing(c, carol, sp.ID), nil)
		poll.Until(t, "typing events", func() bool { return e.svc.Stats().EventsReceived >= 7 })
		got, _ := s.snapshot()
		typing := 0
		for _, l := range got {
			if l == "typing "+sp.ID+" carol" {
				typing++
			}
		}
		if typing != 2 || !s.has("typing "+sp.ID+" alice") {
			t.Fatalf("typing events %q", got)
		}
		if st := e.svc.Stats(); st.Typing != 3 || st.TypingDropped != 1 {
			t.Fatalf("typing stats %+v", st)
		}
		// Typing is never stored.
		keys, _ := rdb.Keys(c, "*typing*").Result()
		if len(keys) != 0 {
			t.Fatalf("typing keys %v", keys)
		}

		// Reactions: an event per change, none for a repeat.
		msg := e.mustSend(t, carol, sp.ID, chat("x"))
		for range 2 {
			_, err := e.svc.React(c, alice, msg.ID, "👍", false)
			wantErr(t, "React", err, nil)
		}
		_, err = e.svc.React(c, alice, msg.ID, "👍", true)
		wantErr(t, "React remove", err, nil)
		add := fmt.Sprintf("reaction %s %s 👍 alice remove=false count=1", sp.ID, msg.ID)
		rm := fmt.Sprintf("reaction %s %s 👍 alice remove=true count=0", sp.ID, msg.ID)
		poll.Until(t, "reaction events", func() bool { return s.has(add, rm) })

		// Delete: every member gets a deleted event.
		wantErr(t, "Delete", e.svc.Delete(c, alice, sp.ID), nil)
		poll.Until(t, "deleted events", func() bool {
			return s.has("member "+sp.ID+" alice joined=false deleted=true", "member "+sp.ID+" carol joined=false deleted=true")
		})
		got, _ = s.snapshot()
		n := 0
		for _, l := range got {
			if l == add {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("reaction added announced %d times: %q", n, got)
		}
		// Garbage on the channel is counted, not passed on.
		before := e.svc.Stats().Errors
		rdb.Publish(c, e.names.events, "{not json")
		rdb.Publish(c, e.names.events, `{"type":"nope","host":"h","space":"s"}`)
		poll.Until(t, "malformed events counted", func() bool { return e.svc.Stats().Errors >= before+2 })
	})
}

// TestListenResubscribes: after the server restarts, Listen subscribes
// again, calls SpacesResync and gets the events published after.
func TestListenResubscribes(t *testing.T) {
	rdb, srv := redistest.Backends()[1].New(t)
	e := newEnv(t, rdb, nil)
	s := e.listen(t)
	srv.Kill()
	srv.Restart()
	poll.Until(t, "a second subscription", func() bool { _, n := s.snapshot(); return n >= 2 })
	c := ctx(t)
	var sp space.Space
	poll.Until(t, "Redis back", func() bool {
		var err error
		sp, err = e.svc.Create(c, alice, "After", "", nil)
		return err == nil
	})
	poll.Until(t, "an event after the restart", func() bool { return s.has("member " + sp.ID + " alice joined=true deleted=false") })
}

func TestListenStops(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, nil)
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s := &sink{}
	go func() { done <- e.svc.Listen(c, s) }()
	poll.Until(t, "subscription", func() bool { _, n := s.snapshot(); return n == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Listen = %v", err)
		}
	case <-time.After(poll.Timeout):
		t.Fatal("Listen did not return after cancel")
	}
	if err := e.svc.Listen(context.Background(), nil); err == nil {
		t.Fatal("Listen with a nil sink succeeded")
	}
}
