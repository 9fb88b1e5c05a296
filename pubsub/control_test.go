package pubsub_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/pubsub"
)

// controlSink is a recordingSink that obeys disconnect orders, reporting
// conns closed connections for each.
type controlSink struct {
	recordingSink
	conns int

	cmu          sync.Mutex
	disconnected []string
}

func (s *controlSink) Disconnect(principal string) int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	s.disconnected = append(s.disconnected, principal)
	return s.conns
}

func (s *controlSink) principals() []string {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return append([]string(nil), s.disconnected...)
}

var _ pubsub.ControlSink = (*controlSink)(nil)

func TestSubscriberControl(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			sink := &controlSink{conns: 2}
			// The default control channel: each test has its own server.
			s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{})
			run(t, s)
			poll.Until(t, "subscription", s.Ready)

			control := pubsub.DefaultControlChannel
			bad := []struct {
				payload string
				unknown bool
			}{
				{"", false},
				{"not json", false},
				{`[1]`, false},
				{`null`, false},
				{`{"action": 5}`, false},
				{`{"action": ""}`, false},
				{`{"principal": "users:bob"}`, false},
				{`{"action": "disconnect"}`, false},
				{`{"action": "disconnect", "principal": ""}`, false},
				{`{"action": "disconnect", "principal": 7}`, false},
				{`{"action": "disconnect", "principal": "users:bob", "at": "yesterday"}`, false},
				{`{"action": "disconnect", "principal": "` + strings.Repeat("x", 5000) + `"}`, false},
				{bare("a chat message", control), true}, // its action is "notify"
				{`{"action": "reboot", "principal": "users:bob"}`, true},
			}
			var malformed, unknown uint64
			for _, p := range bad {
				publish(t, rdb, control, p.payload)
				if p.unknown {
					unknown++
				} else {
					malformed++
				}
			}
			publish(t, rdb, control, `{"action":"disconnect","principal":"users:bob","at":"2025-01-18T17:20:54.123456789Z"}`)
			publish(t, rdb, control, `{"action":"disconnect","principal":"users:carol","future":"ignored"}`)
			poll.Until(t, "the disconnect orders", func() bool { return len(sink.principals()) == 2 })

			if got := sink.principals(); got[0] != "users:bob" || got[1] != "users:carol" {
				t.Errorf("Disconnect calls = %q, want users:bob then users:carol", got)
			}
			st := s.Stats()
			if st.ControlMalformed != malformed || st.ControlUnknown != unknown {
				t.Errorf("ControlMalformed, ControlUnknown = %d, %d; want %d, %d",
					st.ControlMalformed, st.ControlUnknown, malformed, unknown)
			}
			if st.Control != uint64(len(bad)+2) || st.Disconnects != 2 || st.Disconnected != 4 {
				t.Errorf("stats = %+v, want %d control payloads, 2 disconnects closing 4 connections", st, len(bad)+2)
			}
			if st.Received != 0 || len(sink.deliveries()) != 0 {
				t.Errorf("control payloads were taken for messages: %+v", st)
			}
			if !s.Ready() {
				t.Error("not ready after bad control payloads")
			}
		})
	}
}

// A sink that is not a ControlSink ignores disconnect orders, and the
// control channel is configurable.
func TestSubscriberControlWithoutControlSink(t *testing.T) {
	t.Parallel()
	rdb, _ := realRedis(t)
	sink := &recordingSink{}
	control := keyPrefix(t) + ":control"
	s := newSubscriber(t, rdb, nil, sink, pubsub.SubscriberConfig{ControlChannel: control})
	channel := keyPrefix(t) + ":chan"
	run(t, s)
	poll.Until(t, "subscription", s.Ready)
	publish(t, rdb, pubsub.DefaultControlChannel, `{"action":"disconnect","principal":"users:bob"}`)
	publish(t, rdb, control, `{"action":"disconnect","principal":"users:bob"}`)
	publish(t, rdb, channel, bare("after", channel))
	poll.Until(t, "the message after the order", func() bool { return len(sink.deliveries()) == 1 })
	poll.Until(t, "the order read", func() bool { return s.Stats().Control == 1 })
	if st := s.Stats(); st.Disconnects != 0 || st.ControlMalformed != 0 {
		t.Errorf("stats = %+v, want the order ignored without error", st)
	}
}
