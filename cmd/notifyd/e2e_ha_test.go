package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
)

// TestClusterTwoGateways runs two real gateways configured with
// NOTIFYD_REDIS_ADDRS on a real 3-master Redis Cluster.
func TestClusterTwoGateways(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	env := map[string]string{"NOTIFYD_REDIS_ADDRS": strings.Join(cl.Addrs(), ",")}
	g1, g2 := startGateway(t, env), startGateway(t, env)
	b1, b2 := dial(t, g1, token(t, "users:bob")), dial(t, g2, token(t, "users:bob"))
	waitSessions(t, g1, 1)
	waitSessions(t, g2, 1)

	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer rdb.Close()
	ids := []string{publishTo(t, g1, "via api 1", "users:bob"), publishTo(t, g2, "via api 2", "users:bob")}
	if err := rdb.Publish(t.Context(), "chat:main", pyamsJSON("users:alice", "bare", "users:bob")).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a, b := read(t, b1), read(t, b2)
		if a["id"] != b["id"] || (i < 2 && a["id"] != ids[i]) {
			t.Fatalf("message %d: %v / %v", i, a, b)
		}
	}
	key := "chat:notifications::" + testSite
	poll.Until(t, "condition", func() bool { return rdb.LLen(t.Context(), key).Val() >= 3 })
	// One more round trip through both gateways so late duplicates would show.
	publishTo(t, g1, "sentinel", "users:bob")
	read(t, b1)
	read(t, b2)
	poll.Until(t, "condition", func() bool { return rdb.LLen(t.Context(), key).Val() >= 4 })
	if n := rdb.LLen(t.Context(), key).Val(); n != 4 {
		t.Fatalf("history holds %d entries for 4 messages on 2 gateways", n)
	}
}

// TestSentinelFailoverKeepsDelivering kills the master under a gateway
// configured with NOTIFYD_REDIS_ADDRS and NOTIFYD_REDIS_MASTER_NAME.
func TestSentinelFailoverKeepsDelivering(t *testing.T) {
	s := redistest.StartSentinel(t)
	g := startGateway(t, map[string]string{
		"NOTIFYD_REDIS_ADDRS":       strings.Join(s.SentinelAddrs(), ","),
		"NOTIFYD_REDIS_MASTER_NAME": s.MasterName(),
	})
	tok := token(t, "users:bob")
	c := dial(t, g, tok)
	waitSessions(t, g, 1)
	before := publishTo(t, g, "before failover", "users:bob")
	if m := read(t, c); m["id"] != before {
		t.Fatalf("before failover: %v", m)
	}
	s.WaitReplicaSynced()
	s.KillMaster()
	s.WaitFailover(30 * time.Second)
	// The websocket stays open; readiness comes back once resubscribed.
	poll.Until(t, "condition", func() bool { return get(t, g.url("/readyz"), "").StatusCode == http.StatusOK })
	var after string
	poll.Until(t, "condition", func() bool {
		code, out := post(t, g.url("/api/chat/messages"), publisherToken,
			`{"host":"`+testSite+`","action":"notify","category":"test","title":"after failover","message":"m",`+
				`"source":{"id":"users:system","title":"System"},"target":{"principals":["users:bob"]}}`)
		if code == http.StatusAccepted {
			after = out["id"].(string)
		}
		return code == http.StatusAccepted
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("websocket after failover: %v", err)
		}
		if strings.Contains(string(data), after) {
			break
		}
	}
	var h struct{ Notifications []map[string]any }
	poll.Until(t, "condition", func() bool {
		h.Notifications = nil
		_ = jsonDecode(get(t, g.url("/api/chat/notifications"), tok), &h)
		return len(h.Notifications) == 2 && h.Notifications[0]["id"] == after && h.Notifications[1]["id"] == before
	})
}
