package main

import (
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/poll"
)

// The histograms and labelled counters of issue 12 reach /metrics with
// their names and labels: a websocket handshake, a publish delivered to it,
// the REST request that published it.
func TestMetricsHistogramsAndRequestCounts(t *testing.T) {
	g := startGateway(t, nil)
	c := dial(t, g, token(t, "users:bob"))
	waitSessions(t, g, 1)
	publishTo(t, g, "timed", "users:bob")
	if m := read(t, c); m["title"] != "timed" {
		t.Fatalf("got %v, want the message", m)
	}
	want := []string{
		`notifyd_ws_handshake_seconds_count{result="accepted"} 1`,
		`notifyd_ws_handshake_seconds_bucket{result="refused",le="+Inf"} 0`,
		`notifyd_publish_to_delivery_seconds_count 1`,
		`notifyd_publishes_total{outcome="accepted"} 1`,
		`notifyd_publishes_total{outcome="rate_limited"} 0`,
		`notifyd_http_requests_total{method="POST",route="/api/chat/messages",status="202"} 1`,
		`notifyd_http_request_duration_seconds_count{method="POST",route="/api/chat/messages"} 1`,
		`notifyd_http_requests_total{method="GET",route="/readyz",status="200"}`,
	}
	var text string
	poll.Until(t, "the delivery counted", func() bool { // the dispatcher records after the hand-over
		text = readBody(t, get(t, g.url("/metrics"), ""))
		return strings.Contains(text, want[2])
	})
	for _, line := range want {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	if strings.Contains(text, `route="/ws/chat"`) {
		t.Error("the websocket route is counted as a REST request")
	}
}
