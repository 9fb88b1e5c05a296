package wsgateway

import (
	"testing"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/message"
)

// TestDeliveryRules connects a fixed set of clients and checks, message by
// message, who receives what. Absence is proven by delivering a marker to
// every client right after the message: a client that must not get the
// message reads the marker first; one that must, reads the message and then
// the marker (which also proves it got it once).
func TestDeliveryRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	clients := map[string]struct {
		host       string
		principals []string
	}{
		"users:alice": {siteA, []string{"group:editors"}},
		"users:bob":   {siteA, []string{"group:editors"}},
		"users:carol": {siteA, nil},
		"users:multi": {siteA, []string{"group:a", "group:b"}},
		"users:dave":  {siteB, []string{"group:editors"}},
	}
	conns := map[string]*websocket.Conn{}
	for sub, cl := range clients {
		conns[sub] = e.connect(t, cl.host, sub, cl.principals...)
	}

	tests := []struct {
		name string
		msg  *message.Message
		want []string // recipients
	}{
		{"intersection", newMessage(siteA, "users:zed", "editors", "group:editors"), []string{"users:alice", "users:bob"}},
		{"single principal", newMessage(siteA, "users:zed", "carol only", "users:carol"), []string{"users:carol"}},
		{"sender skipped", newMessage(siteA, "users:alice", "from alice", "group:editors"), []string{"users:bob"}},
		{"sender skipped even when targeted", newMessage(siteA, "users:alice", "to self", "users:alice"), nil},
		{"other site isolated", newMessage(siteB, "users:zed", "site b", "group:editors"), []string{"users:dave"}},
		{"host case-insensitive", newMessage("HTTPS://Site-B.example", "users:zed", "site B", "group:editors"), []string{"users:dave"}},
		{"unknown site", newMessage("https://site-c.example", "users:zed", "site c", "system.Authenticated"), nil},
		{"broadcast authenticated", newMessage(siteA, "users:zed", "all of a", message.Authenticated), []string{"users:alice", "users:bob", "users:carol", "users:multi"}},
		{"broadcast everyone", newMessage(siteA, "users:alice", "all of a but alice", message.Everyone), []string{"users:bob", "users:carol", "users:multi"}},
		{"two principals, once", newMessage(siteA, "users:zed", "multi", "group:a", "group:b", "users:multi"), []string{"users:multi"}},
		{"overlapping targets, once each", newMessage(siteA, "", "overlap", "group:editors", message.Authenticated, "users:bob", "group:editors"), []string{"users:alice", "users:bob", "users:carol", "users:multi"}},
		{"no source", newMessage(siteA, "", "anonymous", "users:alice"), []string{"users:alice"}},
		{"no target", newMessage(siteA, "users:zed", "nobody"), nil},
		{"empty target", newMessage(siteA, "users:zed", "nobody either", []string{}...), nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			push := tt.msg.PushJSON()
			e.g.Deliver(tt.msg, push)
			want := map[string]bool{}
			for _, r := range tt.want {
				want[r] = true
			}
			for sub, c := range conns {
				marker := newMessage(clients[sub].host, "users:marker", "marker "+sub+" "+tt.name, sub)
				marker.ID = string(rune('a' + i))
				e.g.Deliver(marker, marker.PushJSON())
				got := readText(t, c)
				if want[sub] {
					if got != string(push) {
						t.Errorf("%s got %s, want exactly %s", sub, got, push)
						continue
					}
					got = readText(t, c)
				}
				if got != string(marker.PushJSON()) {
					t.Errorf("%s got %s, want the marker (message delivered to a non-recipient or twice)", sub, got)
				}
			}
		})
	}
}

// TestDeliverSharesBytes checks that every recipient's queue holds the very
// slice given to Deliver (encode once, never re-marshal).
func TestDeliverSharesBytes(t *testing.T) {
	t.Parallel()
	h := newHub()
	a := fakeConn(1, siteA, "users:a", 4, message.Authenticated)
	b := fakeConn(2, siteA, "users:b", 4, message.Authenticated)
	h.add(a)
	h.add(b)
	m := newMessage(siteA, "", "shared", message.Authenticated)
	m.ID = "01JHQ0000000000000000SHARE"
	push := m.PushJSON()
	if d, dr := h.deliver(m, item{id: m.ID, b: push}, nil, nil); d != 2 || dr != 0 {
		t.Fatalf("delivered %d dropped %d, want 2, 0", d, dr)
	}
	for _, c := range []*conn{a, b} {
		items := c.send.take(nil)
		if len(items) != 1 {
			t.Fatalf("conn %d queued %d items, want 1", c.id, len(items))
		}
		got := items[0]
		if &got.b[0] != &push[0] {
			t.Errorf("conn %d got a copy, want the shared slice", c.id)
		}
		if got.id != m.ID {
			t.Errorf("conn %d queued id %q, want %q", c.id, got.id, m.ID)
		}
	}
}
