package main

import (
	"testing"

	"github.com/notifyd/notifyd/message"
)

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		gateway, redis string
		ok             bool
	}{
		{"http://127.0.0.1:8080", "127.0.0.1:6379", true},
		{"http://localhost:8080", "[::1]:6379", true},
		{"http://127.0.0.2:8080", "localhost:6379", true},
		{"http://10.0.0.5:8080", "127.0.0.1:6379", false},
		{"http://127.0.0.1:8080", "192.168.1.2:6379", false},
		{"http://example.com", "127.0.0.1:6379", false},
	} {
		if err := loopbackOnly(c.gateway, c.redis); (err == nil) != c.ok {
			t.Errorf("loopbackOnly(%q, %q) = %v, want ok=%v", c.gateway, c.redis, err, c.ok)
		}
	}
}

func TestPayloadIsValidPyAMSMessage(t *testing.T) {
	t.Parallel()
	m, err := message.Decode([]byte(payload("http://load.example", "group:load", 7)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Extra["load_sent"]; !ok || m.Principals()[0] != "group:load" {
		t.Fatalf("payload lacks its send time or target: %+v", m)
	}
}

// TestRecordFrame: the latency comes from the payload's send time; other
// frames are not counted.
func TestRecordFrame(t *testing.T) {
	t.Parallel()
	var r result
	r.recordFrame([]byte(payload("http://load.example", "group:load", 1)))
	r.recordFrame([]byte(`{"action":"inbox","unread":1,"unseen":1}`))
	if r.delivered.Load() != 1 || len(r.latencies) != 1 || r.latencies[0] < 0 {
		t.Fatalf("recorded %d deliveries %v", r.delivered.Load(), r.latencies)
	}
}
