package pubsub

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

func TestRecentIDs(t *testing.T) {
	t.Parallel()
	r := newRecentIDs(3)
	for _, id := range []string{"a", "b", "c", "a"} { // a again: no new slot
		r.add(id)
	}
	for _, id := range []string{"a", "b", "c"} {
		if !r.has(id) {
			t.Errorf("has(%q) = false", id)
		}
	}
	r.add("d") // forgets a, the oldest
	if r.has("a") || !r.has("b") || !r.has("d") {
		t.Errorf("after d: a %v b %v d %v; want a forgotten", r.has("a"), r.has("b"), r.has("d"))
	}
	if len(r.set) != 3 {
		t.Errorf("set holds %d ids, want 3", len(r.set))
	}
}

func TestSiteIDs(t *testing.T) {
	t.Parallel()
	s := newSiteIDs(2)
	s.set("x", "1")
	s.set("y", "2")
	s.set("x", "3") // x is now the most recent
	s.set("z", "4") // forgets y
	if got := s.hosts(); !slices.Equal(got, []string{"z", "x"}) {
		t.Errorf("hosts = %v, want [z x]", got)
	}
	if s.last("x") != "3" || s.last("y") != "" || s.last("z") != "4" {
		t.Errorf("last x=%q y=%q z=%q", s.last("x"), s.last("y"), s.last("z"))
	}
}

func TestFillQueue(t *testing.T) {
	t.Parallel()
	var q fillQueue
	if _, _, ok := q.take(); ok {
		t.Fatal("take on an empty queue")
	}
	t0 := time.Unix(1000, 0)
	q.add(t0.Add(time.Second), nil)
	q.add(t0, []string{"x"})
	q.add(t0.Add(2*time.Second), []string{"y"})
	lostAt, retry, ok := q.take()
	if !ok || !lostAt.Equal(t0) || len(retry) != 2 {
		t.Errorf("take = %v, %v, %v; want the earliest loss and both sites", lostAt, retry, ok)
	}
	if _, _, ok := q.take(); ok {
		t.Error("take did not clear the request")
	}
}

type recordSink struct{ got []string }

func (s *recordSink) Deliver(m *message.Message, _ []byte) { s.got = append(s.got, m.Title) }

func TestFillSite(t *testing.T) {
	t.Parallel()
	lost := time.Date(2025, 1, 18, 17, 0, 0, 0, time.UTC)
	var gen message.IDGen
	msg := func(title string, at time.Time) *message.Message {
		m := &message.Message{
			Host: "https://app.example.com", Channel: "chat:main", Action: "notify", Category: "c",
			Status: "info", Title: title, Body: "b", Source: &message.Source{ID: "users:alice"},
			Target: &message.Target{Principals: []string{"users:bob"}}, Timestamp: message.FormatTimestamp(at),
			ID: gen.New(at),
		}
		return m
	}
	old1, old2 := msg("old1", lost.Add(-time.Hour)), msg("old2", lost.Add(-time.Hour))
	last := msg("last", lost.Add(-time.Minute))
	margin := msg("margin", lost.Add(-time.Second)) // within the 2s margin
	new1, new2 := msg("new1", lost.Add(time.Second)), msg("new2", lost.Add(2*time.Second))
	late := msg("late", lost.Add(-time.Hour)) // appended after last, with an old id
	foreign := msg("foreign", lost.Add(time.Second))
	foreign.ID = "not-a-ulid"
	invalid := msg("invalid", lost.Add(time.Second))
	invalid.Title = ""

	newestFirst := func(ms ...*message.Message) []*message.Message {
		out := slices.Clone(ms)
		slices.Reverse(out)
		return out
	}
	tests := []struct {
		name    string
		last    string
		recent  []string
		list    []*message.Message // oldest first here, for reading
		want    []string
		invalid uint64
	}{
		{"after the last id, whatever the clock", last.ID, nil,
			[]*message.Message{old1, last, late, new1}, []string{"late", "new1"}, 0},
		{"also younger ones before it", last.ID, []string{last.ID},
			[]*message.Message{old1, margin, last, new1}, []string{"margin", "new1"}, 0},
		{"last id trimmed: by time", "gone", nil,
			[]*message.Message{old1, old2, margin, foreign, new1, new2}, []string{"margin", "new1", "new2"}, 0},
		{"no last id: by time", "", nil,
			[]*message.Message{old1, new1}, []string{"new1"}, 0},
		{"recent ids skipped", "", []string{new1.ID},
			[]*message.Message{new1, new2}, []string{"new2"}, 0},
		{"invalid entries dropped", "", nil,
			[]*message.Message{invalid, new2}, []string{"new2"}, 1},
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = rdb.Close() })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sink := &recordSink{}
			s, err := NewSubscriber(rdb, nil, sink, SubscriberConfig{})
			if err != nil {
				t.Fatal(err)
			}
			d := newDispatcher(s.cfg, nil, nil, nil, sink, s.rep, nil, nil)
			if tt.last != "" {
				d.sites.set("https://app.example.com", tt.last)
			}
			for _, id := range tt.recent {
				d.recent.add(id)
			}
			n := d.fillSite("https://app.example.com", newestFirst(tt.list...), lost.Add(-DefaultGapFillMargin))
			if !slices.Equal(sink.got, tt.want) || n != len(tt.want) {
				t.Errorf("filled %v (n=%d), want %v", sink.got, n, tt.want)
			}
			if got := s.Stats().Dropped[DropInvalid]; got != tt.invalid {
				t.Errorf("Dropped[invalid] = %d, want %d", got, tt.invalid)
			}
			if len(tt.want) > 0 {
				if got := d.sites.last("https://app.example.com"); got == tt.last {
					t.Errorf("the site's last id was not advanced")
				}
			}
		})
	}
}

func TestDecodeControl(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 1, 18, 17, 20, 54, 123456789, time.UTC)
	tests := []struct {
		payload string
		want    ControlMessage
		bad     bool
	}{
		{`{"action":"disconnect","principal":"users:bob","at":"2025-01-18T17:20:54.123456789Z"}`,
			ControlMessage{Action: ActionDisconnect, Principal: "users:bob", At: at}, false},
		{`{"action":"disconnect","principal":"users:bob","at":null,"x":1}`,
			ControlMessage{Action: ActionDisconnect, Principal: "users:bob"}, false},
		{`{"action":"later"}`, ControlMessage{Action: "later"}, false},
		{`{"action":"disconnect"}`, ControlMessage{}, true},
		{`{"action":"disconnect","principal":"p","at":"2025"}`, ControlMessage{}, true},
		{`{"action":["disconnect"]}`, ControlMessage{}, true},
		{`{}`, ControlMessage{}, true},
		{`"disconnect"`, ControlMessage{}, true},
		{`{"action":"disconnect","principal":"p"} trailing`, ControlMessage{}, true},
	}
	for _, tt := range tests {
		got, err := decodeControl(tt.payload)
		if tt.bad {
			if !errors.Is(err, errControlMalformed) {
				t.Errorf("decodeControl(%s) error = %v, want errControlMalformed", tt.payload, err)
			}
			continue
		}
		if err != nil || got.Action != tt.want.Action || got.Principal != tt.want.Principal || !got.At.Equal(tt.want.At) {
			t.Errorf("decodeControl(%s) = %+v, %v; want %+v", tt.payload, got, err, tt.want)
		}
	}
}

func FuzzDecodeControl(f *testing.F) {
	for _, s := range []string{
		`{"action":"disconnect","principal":"users:bob","at":"2025-01-18T17:20:54.123456789Z"}`,
		`{"action":"x"}`, `{"action":"disconnect","principal":"\u0000"}`, `null`, `[]`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := decodeControl(payload)
		if err != nil {
			if !errors.Is(err, errControlMalformed) {
				t.Fatalf("error %v does not match errControlMalformed", err)
			}
			return
		}
		if c.Action == "" || (c.Action == ActionDisconnect && c.Principal == "") {
			t.Fatalf("accepted %q as %+v", payload, c)
		}
		if len(payload) > maxControlSize {
			t.Fatalf("accepted %d bytes", len(payload))
		}
		_ = fmt.Sprint(c)
	})
}
