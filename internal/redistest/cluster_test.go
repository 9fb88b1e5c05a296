package redistest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/redis/go-redis/v9"
)

func newClusterClient(t testing.TB, addrs []string) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:           addrs,
		DialTimeout:     time.Second,
		ReadTimeout:     time.Second,
		WriteTimeout:    time.Second,
		MaxRetries:      1,
		MinRetryBackoff: time.Millisecond,
		MaxRetryBackoff: 10 * time.Millisecond,
		DialerRetries:   1,
		// go-redis does not reload the slot map when a master refuses
		// connections (redis/go-redis#3979), only on MOVED or after this
		// interval (default 60s): without it the client would keep dialing
		// a dead master long after its replica took over.
		ClusterStateReloadInterval: 200 * time.Millisecond,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// keysPerMaster returns, for each master of c, a key that it serves.
func keysPerMaster(t testing.TB, c *Cluster) map[*Server]string {
	t.Helper()
	out := map[*Server]string{}
	for i := 0; len(out) < len(c.Masters()); i++ {
		key := fmt.Sprintf("key:%d", i)
		if m := c.MasterFor(key); out[m] == "" {
			out[m] = key
		}
	}
	return out
}

func TestCluster(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := StartCluster(t, 3)
	t.Logf("cluster of 3 masters up in %v", time.Since(start))
	if got := len(c.Nodes()); got != 3 {
		t.Fatalf("%d nodes, want 3", got)
	}
	ctx := context.Background()
	rdb := newClusterClient(t, c.Addrs())
	keys := keysPerMaster(t, c)
	for m, key := range keys {
		if err := rdb.Set(ctx, key, m.Addr(), 0).Err(); err != nil {
			t.Fatalf("SET %s through the cluster client: %v", key, err)
		}
		// The key lives on the node MasterFor named.
		if got, err := m.Call("GET", key); err != nil || got != m.Addr() {
			t.Fatalf("GET %s on %s = %v, %v", key, m.Addr(), got, err)
		}
	}

	// A killed master leaves its slots unserved until it is restarted; it
	// rejoins with its identity (nodes.conf) but not its data.
	victim := c.Masters()[1]
	id := c.NodeID(victim)
	victim.Kill()
	if err := rdb.Set(ctx, keys[victim], "x", 0).Err(); err == nil {
		t.Fatal("SET on a killed master's slot succeeded")
	}
	victim.Restart()
	c.WaitOK(30 * time.Second)
	if got, err := callString(victim.Addr(), "CLUSTER", "MYID"); err != nil || got != id {
		t.Fatalf("restarted node id = %q, %v; want %q", got, err, id)
	}
	poll.Until(t, "writes to the restarted master", func() bool {
		return rdb.Set(ctx, keys[victim], "back", 0).Err() == nil
	})
	if got, err := victim.Call("GET", keys[victim]); err != nil || got != "back" {
		t.Fatalf("GET on the restarted master = %v, %v", got, err)
	}
}

func TestClusterReplicaFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := StartClusterConfig(t, ClusterConfig{Masters: 3, ReplicasPerMaster: 1})
	t.Logf("cluster of 3 masters and 3 replicas up in %v", time.Since(start))
	ctx := context.Background()
	rdb := newClusterClient(t, c.Addrs())
	victim := c.Masters()[0]
	key := keysPerMaster(t, c)[victim]
	if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	c.WaitReplicasSynced(30 * time.Second)

	victim.Kill()
	killed := time.Now()
	c.WaitOK(30 * time.Second)
	t.Logf("replica promoted %v after the kill", time.Since(killed))
	promoted := c.MasterFor(key)
	if promoted != c.Replicas(0)[0] {
		t.Fatalf("slot of %s served by %s, want the replica %s", key, promoted.Addr(), c.Replicas(0)[0].Addr())
	}
	poll.Until(t, "the value on the promoted replica through the client", func() bool {
		v, err := rdb.Get(ctx, key).Result()
		return err == nil && v == "v"
	})

	// The old master comes back as a replica of the new one.
	victim.Restart()
	c.WaitOK(30 * time.Second)
	c.WaitReplicasSynced(30 * time.Second)
	if info, err := Info(victim.Addr(), "replication"); err != nil || info["role"] != "slave" {
		t.Fatalf("restarted old master: role %q, %v; want slave", info["role"], err)
	}
}
