package client

import (
	"context"
	"time"

	"testing"

	"github.com/notifyd/notifyd/message"
)

func TestParseFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		kind  frameKind
		since string
		id    string
	}{
		{"pong", "PONG", framePong, "", ""},
		{"logout", `{"action":"logout","status":"FORBIDDEN"}`, frameLogout, "", ""},
		{"logout action with another status is a message", `{"action":"logout","status":"info"}`, frameMessage, "", ""},
		{"gap", `{"action":"gap","status":"warning","since":"01ABC"}`, frameGap, "01ABC", ""},
		{"gap with a non-string since", `{"action":"gap","since":5}`, frameGap, "", ""},
		{"message", `{"host":"http://a.example","action":"notify","title":"t","id":"01JHWX2X3B0000000000000000"}`, frameMessage, "", "01JHWX2X3B0000000000000000"},
		{"not json", "PONGX", frameInvalid, "", ""},
		{"ok", `{"action":"ok","rid":"7","id":"01X","timestamp":"t"}`, frameAnswer, "", ""},
		{"error", `{"action":"error","rid":"7","code":"not_found","message":"m"}`, frameAnswer, "", ""},
		{"inbox", `{"action":"inbox","unread":2,"unseen":1}`, frameInbox, "", ""},
		{"inbox with a wrong type", `{"action":"inbox","unread":"2"}`, frameInvalid, "", ""},
		{"notification update", `{"host":"http://a.example","action":"update","title":"t2","id":"01X"}`, frameUpdate, "", ""},
		{"space message update", `{"action":"update","space":"s1","id":"01X","kind":"chat","sender":{"id":"a","title":"A"}}`, frameChat, "", ""},
		{"notification retract", `{"action":"retract","id":"01X"}`, frameRetract, "", ""},
		{"space retract", `{"action":"retract","id":"01X","space":"s1"}`, frameRetract, "", ""},
		{"space message", `{"action":"message","space":"s1","id":"01X","kind":"chat","body":"hi","sender":{"id":"a","title":"A"}}`, frameChat, "", ""},
		{"typing", `{"action":"typing","space":"s1","principal":"a"}`, frameTyping, "", ""},
		{"reaction", `{"action":"reaction","space":"s1","message":"01X","emoji":"+1","principal":"a","count":1}`, frameReaction, "", ""},
		{"activity", `{"action":"activity","space":"s1","id":"01X","sender":"a","timestamp":"t"}`, frameActivity, "", ""},
		{"member", `{"action":"member","space":"s1","principal":"a","joined":true}`, frameMember, "", ""},
		{"direct message notification", `{"host":"http://a.example","action":"notify","category":"space","title":"A","id":"01X","space":{"id":"s1","kind":"chat"}}`, frameMessage, "", "01X"},
		{"json array", "[1]", frameInvalid, "", ""},
		{"wrong type", `{"title":5}`, frameInvalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := parseFrame([]byte(tt.in))
			if f.kind != tt.kind || f.since != tt.since {
				t.Fatalf("parseFrame(%q) = kind %d since %q, want kind %d since %q", tt.in, f.kind, f.since, tt.kind, tt.since)
			}
			if tt.kind == frameMessage && f.msg.ID != tt.id {
				t.Fatalf("id %q, want %q", f.msg.ID, tt.id)
			}
		})
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{"PONG", `{"action":"logout","status":"FORBIDDEN"}`,
		`{"action":"gap","since":"x"}`, `{"host":"http://a.example","title":"t","id":"x"}`, "\xff", "{"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := parseFrame(data)
		if (fr.kind == frameMessage) != (fr.msg != nil) {
			t.Fatalf("kind %d with message %v", fr.kind, fr.msg)
		}
	})
}

// BenchmarkHandle measures the per-message path of the reader: parse,
// deduplicate, record the cursor.
func BenchmarkHandle(b *testing.B) {
	c, err := New(Config{URL: "ws://127.0.0.1:1/ws/chat", Token: func(context.Context) (string, error) { return "", nil }})
	if err != nil {
		b.Fatal(err)
	}
	var gen message.IDGen
	m := &message.Message{Host: "http://a.example", Action: "notify", Category: "c", Title: "title",
		Body: "a body of moderate length for a notification", Source: &message.Source{ID: "users:a", Title: "A"},
		Timestamp: "2026-01-01T00:00:00.000000+00:00"}
	frames := make([][]byte, 2*DefaultDedupSize) // every frame is new again when it comes round
	for i := range frames {
		m.ID = gen.New(time.Unix(1700000000, 0))
		frames[i] = m.PushJSON()
	}
	cn := &conn{pong: make(chan struct{}, 1), established: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		c.handle(cn, frames[i%len(frames)])
	}
}
