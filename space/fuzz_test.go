package space

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/protocol"
)

// countSink counts calls and checks what Listen passes on.
type countSink struct {
	t     *testing.T
	calls int
}

func (s *countSink) check(host, space string) {
	s.calls++
	if host == "" || space == "" {
		s.t.Fatalf("event passed on without host or space: %q %q", host, space)
	}
}
func (s *countSink) SpaceMember(host, space, _ string, _, _ bool) { s.check(host, space) }
func (s *countSink) SpaceTyping(host, space, _ string)            { s.check(host, space) }
func (s *countSink) SpaceReaction(host string, r protocol.Reaction) {
	s.check(host, r.Space)
	if r.Action != protocol.ActionReaction {
		s.t.Fatalf("reaction without its action: %+v", r)
	}
}
func (s *countSink) SpacesResync() {}

// FuzzDispatch: whatever arrives on the events channel, Listen neither
// panics nor passes on an event without host and space, and counts what
// it drops.
func FuzzDispatch(f *testing.F) {
	f.Add(`{"type":"member","host":"https://a.example","space":"X","principal":"p","joined":true}`)
	f.Add(`{"type":"typing","host":"h","space":"s","principal":"p"}`)
	f.Add(`{"type":"reaction","host":"h","space":"s","principal":"p","message":"m","emoji":"👍","count":3}`)
	f.Add(`{"type":"member"}`)
	f.Add(`[1,2]`)
	f.Add(`{"type":"reaction","host":"h","space":"s","count":"x"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		s := &Service{}
		sink := &countSink{t: t}
		s.dispatch(payload, sink)
		st := s.Stats()
		if uint64(sink.calls) != st.EventsReceived || st.EventsReceived+st.Errors != 1 {
			t.Fatalf("calls %d, stats %+v", sink.calls, st)
		}
	})
}

// FuzzCheckSend: a message checkSend accepts is within every limit.
func FuzzCheckSend(f *testing.F) {
	f.Add(`{"kind":"chat","body":"hi"}`)
	f.Add(`{"kind":"post","title":"T","body":"b","attachments":[{"name":"a","url":"https://x.example/a"}]}`)
	f.Add(`{"kind":"task","title":"T","task":{"status":"open","due":"2026-01-01T00:00:00Z","assignee":"bob"}}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var m protocol.Send
		if json.Unmarshal([]byte(raw), &m) != nil || checkSend("send", m) != nil {
			return
		}
		if len(m.Body) > MaxBody || len(m.Title) > MaxTitle || strings.ContainsAny(m.Title, "\r\n") ||
			len(m.Attachments) > MaxAttachments || (m.Kind == protocol.KindTask) != (m.Task != nil) {
			t.Fatalf("accepted %+v", m)
		}
		if m.Kind != protocol.KindTask && strings.TrimSpace(m.Body) == "" {
			t.Fatalf("accepted a %s without body", m.Kind)
		}
		for _, a := range m.Attachments {
			if u := strings.ToLower(a.URL); !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("accepted URL %q", a.URL)
			}
		}
	})
}
