package hatest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// hostsByMaster picks, for every master of c, perMaster sites whose history
// lists it serves.
func hostsByMaster(t testing.TB, c *redistest.Cluster, perMaster int) map[*redistest.Server][]string {
	t.Helper()
	out := map[*redistest.Server][]string{}
	full := 0
	for i := 0; full < len(c.Masters()); i++ {
		host := hostName(i)
		m := c.MasterFor(listKey(host))
		if len(out[m]) < perMaster {
			out[m] = append(out[m], host)
			if len(out[m]) == perMaster {
				full++
			}
		}
	}
	return out
}

// subscribersOn returns how many connections subscribe to the data channel
// on node s (PUBSUB NUMSUB is per node in a Cluster). go-redis subscribes on
// the master of one of the subscribed channels' slots, picked from a map, so
// the tests ask rather than assume.
func subscribersOn(t testing.TB, s *redistest.Server) int64 {
	t.Helper()
	v, err := s.Call("PUBSUB", "NUMSUB", pubsub.DefaultChannel)
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB on %s: %v", s.Addr(), err)
	}
	reply, _ := v.([]any)
	if len(reply) != 2 {
		t.Fatalf("PUBSUB NUMSUB on %s: %v", s.Addr(), v)
	}
	n, _ := reply[1].(int64)
	return n
}

// allHosts flattens hostsByMaster in the masters' order.
func allHosts(c *redistest.Cluster, byMaster map[*redistest.Server][]string) []string {
	var out []string
	for _, m := range c.Masters() {
		out = append(out, byMaster[m]...)
	}
	return out
}

// checkSeenKeys checks that the seen key of every stored id exists and
// hashes to its list's slot, so the append script never crosses slots.
func checkSeenKeys(t testing.TB, rdb redis.UniversalClient, stored map[string][]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for host, ids := range stored {
		listSlot, err := rdb.ClusterKeySlot(ctx, listKey(host)).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT: %v", err)
		}
		for _, id := range ids {
			key := seenKey(host, id)
			slot, err := rdb.ClusterKeySlot(ctx, key).Result()
			if err != nil {
				t.Fatalf("CLUSTER KEYSLOT: %v", err)
			}
			if slot != listSlot || int64(redistest.KeySlot(key)) != slot {
				t.Errorf("slot of %s = %d (KeySlot %d), want the list's %d", key, slot, redistest.KeySlot(key), listSlot)
			}
			if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
				t.Errorf("EXISTS %s = %d, %v; want 1", key, n, err)
			}
		}
	}
}

// TestClusterMasterOutage runs two gateways on a three-master Cluster
// without replicas, with sites on every master. A master dies: publishes for
// its sites fail with ErrUnavailable, the others go on, and bare PUBLISHes
// are still delivered; the gateways store those of the healthy masters' sites
// at once, while those of the dead master's sites wait in their retry queues
// without holding the others back. The master comes back (empty: not
// persistent): what the gateways could not store meanwhile is stored once,
// in publish order, failed publishes can be retried, and everything works
// for every site.
func TestClusterMasterOutage(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := redistest.StartClusterConfig(t, redistest.ClusterConfig{
		Masters: 3,
		// Healthy masters keep serving their own slots while one is down.
		Args: []string{"--cluster-require-full-coverage", "no"},
	})
	t.Logf("cluster up in %v", time.Since(start))
	byMaster := hostsByMaster(t, c, 2)
	hosts := allHosts(c, byMaster)

	gws := []*gateway{
		startGateway(t, "gw1", newClient(t, clientOptions(c.Addrs(), ""))),
		startGateway(t, "gw2", newClient(t, clientOptions(c.Addrs(), ""))),
	}
	tr := newTraffic(t, newClient(t, clientOptions(c.Addrs(), "")))
	waitReady(t, 0, gws...)

	// A master no gateway subscribes on: without a replica, subscriptions
	// on the victim would be down with it (TestClusterReplicaFailover
	// covers that). Two gateways leave at least one of three masters free.
	var victim *redistest.Server
	for _, m := range c.Masters() {
		if subscribersOn(t, m) == 0 {
			victim = m
			break
		}
	}
	if victim == nil {
		t.Fatal("every master has a subscriber")
	}
	victimHosts := byMaster[victim]
	var healthyHosts []string
	for _, h := range hosts {
		if !slices.Contains(victimHosts, h) {
			healthyHosts = append(healthyHosts, h)
		}
	}

	if !t.Run("steady", func(t *testing.T) {
		tr.t = t
		tr.round(hosts)
		tr.waitDelivered(gws...)
		tr.waitStored(tr.rdb)
		checkNoDrops(t, gws...)
		checkSeenKeys(t, tr.rdb, tr.stored)
	}) {
		return
	}

	var failed []*message.Message
	if !t.Run("master down", func(t *testing.T) {
		tr.t = t
		victim.Kill()
		for _, h := range victimHosts {
			tr.forget(h) // lost with the master: it is not persistent
			m := tr.message(h)
			err := tr.tryPublish(m)
			wantUnavailable(t, "Publish for "+h+" on the dead master", pubsub.ErrUnavailable, err)
			failed = append(failed, m)
		}
		// PUBLISH needs no slot: it still reaches every gateway. The dead
		// master's sites come first in every round: their history writes
		// fail and must not hold back the others'.
		const rounds = 3
		for range rounds {
			for _, h := range victimHosts {
				tr.bare(h)
			}
			for _, h := range healthyHosts {
				tr.publish(h)
				tr.bare(h)
			}
		}
		tr.waitDelivered(gws...)
		tr.waitStored(tr.rdb, healthyHosts...)
		// The dead master's sites' messages wait, every one of them, in
		// each gateway's retry queues, to be stored once the master is back.
		poll.Until(t, "the dead master's sites' messages waiting for a retry", func() bool {
			for _, g := range gws {
				if g.sub.Stats().HistoryPending != uint64(rounds*len(victimHosts)) {
					return false
				}
			}
			return true
		})
		for _, g := range gws {
			if !g.sub.Ready() {
				t.Errorf("%s not ready though the node it subscribes on is up", g.name)
			}
		}
		checkNoDrops(t, gws...)
	}) {
		return
	}

	t.Run("master back", func(t *testing.T) {
		tr.t = t
		victim.Restart()
		restarted := time.Now()
		c.WaitOK(waitTimeout)
		t.Logf("cluster OK %v after the restart", time.Since(restarted))
		// Publish is safe to retry: the failed messages are stored and
		// delivered once. (The clients' pools may take a second to stop
		// failing fast on the address that refused connections.)
		for _, m := range failed {
			poll.Until(t, "a failed publish to succeed when retried", func() bool {
				return tr.tryPublish(m) == nil
			})
		}
		tr.round(hosts)
		tr.waitDelivered(gws...)
		tr.waitStored(tr.rdb)
		poll.Until(t, "no message waiting for a retry", func() bool {
			for _, g := range gws {
				if g.sub.Stats().HistoryPending != 0 {
					return false
				}
			}
			return true
		})
		checkNoDrops(t, gws...)
		checkSeenKeys(t, tr.rdb, tr.stored)
	})
}

// TestClusterReplicaFailover runs two gateways on a Cluster of three masters
// with a replica each, and kills a master that a gateway subscribes on (so
// subscriptions must move too) and that serves two sites' history. The
// replica takes over: the history written before survives, the gateways
// subscribe again, and delivery and storage go on exactly once.
func TestClusterReplicaFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := redistest.StartClusterConfig(t, redistest.ClusterConfig{Masters: 3, ReplicasPerMaster: 1})
	t.Logf("cluster up in %v", time.Since(start))
	byMaster := hostsByMaster(t, c, 2)
	hosts := allHosts(c, byMaster)

	gws := []*gateway{
		startGateway(t, "gw1", newFailoverClusterClient(t, c.Addrs())),
		startGateway(t, "gw2", newFailoverClusterClient(t, c.Addrs())),
	}
	tr := newTraffic(t, newFailoverClusterClient(t, c.Addrs()))
	waitReady(t, 0, gws...)

	// The master with the most subscribers.
	var victim *redistest.Server
	var moved int64 // subscriptions that must move
	for _, m := range c.Masters() {
		if n := subscribersOn(t, m); n > moved {
			victim, moved = m, n
		}
	}
	if victim == nil {
		t.Fatal("no master has a subscriber")
	}
	successor := c.Replicas(slices.Index(c.Masters(), victim))[0]

	tr.round(hosts)
	tr.waitDelivered(gws...)
	tr.waitStored(tr.rdb)
	checkNoDrops(t, gws...)
	c.WaitReplicasSynced(waitTimeout)

	victim.Kill()
	killed := time.Now()
	// Until the replica has taken over, a publish for a site of the dead
	// master fails loudly; it is never lost silently.
	pending := tr.message(byMaster[victim][0])
	err := tr.tryPublish(pending)
	t.Logf("publish during the failover: %v after the kill: %v", time.Since(killed), err)
	if err != nil {
		wantUnavailable(t, "Publish during the failover", pubsub.ErrUnavailable, err)
	} else {
		pending = nil
	}
	c.WaitOK(waitTimeout)
	t.Logf("replica promoted %v after the kill", time.Since(killed))
	poll.Until(t, "the subscriptions on the dead master to move", func() bool {
		var reconnects uint64
		for _, g := range gws {
			if !g.sub.Ready() {
				return false
			}
			reconnects += g.sub.Stats().Reconnects
		}
		return reconnects >= uint64(moved)
	})
	t.Logf("%d gateway(s) subscribed again %v after the kill", moved, time.Since(killed))
	for _, h := range byMaster[victim] {
		if m := c.MasterFor(listKey(h)); m != successor {
			t.Fatalf("history of %s served by %s, want the promoted replica %s", h, m.Addr(), successor.Addr())
		}
	}
	if pending != nil {
		poll.Until(t, "the failed publish to succeed when retried", func() bool {
			return tr.tryPublish(pending) == nil
		})
	}

	tr.round(hosts)
	tr.waitDelivered(gws...)
	tr.waitStored(tr.rdb)
	checkNoDrops(t, gws...)
	checkSeenKeys(t, tr.rdb, tr.stored)
}
