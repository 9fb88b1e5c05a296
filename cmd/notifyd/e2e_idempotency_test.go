package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/internal/redistest"
)

// A publish retried with the same Idempotency-Key, on another gateway, gets
// the first answer and is stored once.
func TestIdempotentPublishAcrossGateways(t *testing.T) {
	srv := redistest.Start(t)
	redisEnv := map[string]string{"NOTIFYD_REDIS_URL": srv.URL()}
	g1, g2 := startGateway(t, redisEnv), startGateway(t, redisEnv)
	body := `{"host":"` + testSite + `","action":"notify","category":"test","title":"once","message":"m",` +
		`"source":{"id":"users:system","title":"System"},"target":{"principals":["users:bob"]}}`
	send := func(g *gateway) (string, string) {
		req, _ := http.NewRequest(http.MethodPost, g.url("/api/chat/messages"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+publisherToken)
		req.Header.Set("Idempotency-Key", "order-42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var out struct{ ID, Timestamp string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.ID + " " + out.Timestamp, resp.Header.Get("Idempotent-Replayed")
	}
	first, replayed := send(g1)
	if replayed != "" {
		t.Fatalf("first publish marked replayed")
	}
	again, replayed := send(g2)
	if again != first || replayed != "true" {
		t.Fatalf("retry answered %q (replayed %q), first %q", again, replayed, first)
	}
	var h struct{ Notifications []map[string]any }
	if err := jsonDecode(get(t, g1.url("/api/chat/notifications"), token(t, "users:bob")), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Notifications) != 1 {
		t.Fatalf("history holds %d messages, want 1", len(h.Notifications))
	}
}
