package hatest

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/pubsub"
)

// TestSentinelFailover runs two gateways and a publisher through Sentinel
// (one client each, as separate processes would have) and kills the master.
// Sentinel promotes the replica; the gateways subscribe again; what was
// stored and replicated before survives, and what is published after is
// delivered and stored exactly once on the new master. With no master left
// at all, publishing fails with ErrUnavailable.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := redistest.StartSentinel(t)
	t.Logf("sentinel setup up in %v", time.Since(start))
	opts := clientOptions(s.SentinelAddrs(), s.MasterName())
	gws := []*gateway{
		startGateway(t, "gw1", newClient(t, opts)),
		startGateway(t, "gw2", newClient(t, opts)),
	}
	tr := newTraffic(t, newClient(t, opts))
	waitReady(t, 0, gws...)
	hosts := []string{hostName(0), hostName(1), hostName(2)}

	tr.round(hosts)
	tr.waitDelivered(gws...)
	tr.waitStored(tr.rdb)
	s.WaitReplicaSynced()

	s.KillMaster()
	killed := time.Now()
	// Until Sentinel has promoted the replica, a publish fails loudly; it is
	// never lost silently.
	pending := tr.message(hosts[0])
	err := tr.tryPublish(pending)
	t.Logf("publish during the failover: %v after the kill: %v", time.Since(killed), err)
	if err != nil {
		wantUnavailable(t, "Publish during the failover", pubsub.ErrUnavailable, err)
	} else {
		pending = nil
	}
	addr := s.WaitFailover(waitTimeout)
	t.Logf("sentinels report %s as master %v after the kill", addr, time.Since(killed))
	if addr != s.Replica().Addr() {
		t.Fatalf("new master %s, want the replica %s", addr, s.Replica().Addr())
	}
	waitReady(t, 1, gws...)
	t.Logf("gateways subscribed again %v after the kill", time.Since(killed))
	if pending != nil {
		poll.Until(t, "the failed publish to succeed when retried", func() bool {
			return tr.tryPublish(pending) == nil
		})
	}

	tr.round(hosts)
	tr.waitDelivered(gws...)
	tr.waitStored(tr.rdb)
	checkNoDrops(t, gws...)
	// Read on the new master itself, not through a client that might have
	// been routed elsewhere.
	for _, h := range hosts {
		raw, err := s.Replica().Call("LRANGE", listKey(h), "0", "-1")
		if err != nil {
			t.Fatalf("LRANGE on the new master: %v", err)
		}
		var entries []string
		for _, e := range raw.([]any) {
			entries = append(entries, e.(string))
		}
		got, err := entryIDs(entries)
		if err != nil {
			t.Fatal(err)
		}
		if !sameMultiset(got, tr.stored[h]) {
			t.Errorf("new master's history of %s holds %v, want each of %v once", h, got, tr.stored[h])
		}
	}

	// No master anywhere: the old one is dead and nothing replicates the
	// new one, so Sentinel cannot fail over again.
	s.KillMaster()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	wantUnavailable(t, "Publish with no master", pubsub.ErrUnavailable, tr.pub.Publish(ctx, tr.message(hosts[1])))
	wantUnavailable(t, "History.List with no master", history.ErrUnavailable, func() error {
		_, err := gws[0].hist.List(ctx, hosts[1])
		return err
	}())
}
