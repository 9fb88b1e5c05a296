package hatest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
)

// TestClusterPublishOrder runs two gateways on a three-master Cluster and
// two publishing processes (separate clients), each publishing from many
// goroutines at once to sites on every master. For every site, each
// gateway delivers the messages in exactly the order the site's history
// list holds them: the Publisher stores and PUBLISHes in one script on the
// list's master, and the cluster bus carries a node's PUBLISHes in order, so
// the ?since= cursor (a position in the list) matches what clients received.
func TestClusterPublishOrder(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := redistest.StartCluster(t, 3)
	t.Logf("cluster up in %v", time.Since(start))
	hosts := allHosts(c, hostsByMaster(t, c, 1))
	gws := []*gateway{
		startGateway(t, "gw1", newClient(t, clientOptions(c.Addrs(), ""))),
		startGateway(t, "gw2", newClient(t, clientOptions(c.Addrs(), ""))),
	}
	waitReady(t, 0, gws...)

	const (
		publishers = 2
		goroutines = 4 // per publisher and site
		each       = 25
		perSite    = publishers * goroutines * each
	)
	var pubs []*pubsub.Publisher
	for range publishers {
		rdb := newClient(t, clientOptions(c.Addrs(), ""))
		hist, err := history.New(rdb, history.Config{Length: perSite})
		if err != nil {
			t.Fatalf("NewHistory: %v", err)
		}
		pub, err := pubsub.NewPublisher(rdb, hist, pubsub.PublisherConfig{})
		if err != nil {
			t.Fatalf("NewPublisher: %v", err)
		}
		pubs = append(pubs, pub)
	}
	var wg sync.WaitGroup
	errs := make(chan error, publishers*goroutines*len(hosts))
	for p, pub := range pubs {
		for _, host := range hosts {
			for g := range goroutines {
				wg.Go(func() {
					for n := range each {
						m := &message.Message{
							Host: host, Action: "notify", Category: "content.review",
							Title: fmt.Sprintf("p%d g%d n%d", p, g, n), Body: "Please review",
							Source: &message.Source{ID: "users:alice", Title: "Alice"},
							Target: &message.Target{Principals: []string{"users:bob"}},
						}
						ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
						err := pub.Publish(ctx, m)
						cancel()
						if err != nil {
							errs <- fmt.Errorf("publish for %s: %w", host, err)
							return
						}
					}
				})
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, g := range gws {
		poll.Until(t, g.name+" to deliver every message", func() bool {
			for _, host := range hosts {
				if len(g.sink.delivered(host)) != perSite {
					return false
				}
			}
			return true
		})
	}
	reader := newClient(t, clientOptions(c.Addrs(), ""))
	for _, host := range hosts {
		stored, err := historyIDs(reader, listKey(host))
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(stored) // oldest first, as delivered
		if len(stored) != perSite {
			t.Fatalf("history of %s holds %d messages, want %d", host, len(stored), perSite)
		}
		for _, g := range gws {
			got := g.sink.delivered(host)
			if i := firstDiff(stored, got); i >= 0 {
				t.Errorf("%s delivered the messages of %s in another order than its history: first difference at %d of %d",
					g.name, host, i, perSite)
			}
		}
	}
	checkNoDrops(t, gws...)
}

// firstDiff returns the first index where a and b differ, or -1.
func firstDiff(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}
