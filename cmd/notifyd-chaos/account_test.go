package main

import (
	"testing"
	"time"

	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/message"
)

// TestAccount checks the books on a hand-made phase: which deliveries count
// as lost under which route, duplicates, and deliveries nobody owed.
func TestAccount(t *testing.T) {
	t.Parallel()
	f := &fleet{}
	for i := range 3 {
		f.clients = append(f.clients, &tracked{index: i, got: map[int]*receipt{}})
	}
	l := &ledger{}
	api := l.add(1, routeAPI, []int{0, 1})
	bare := l.add(1, routeBare, []int{1, 2})
	unsub := l.add(1, routeBare, []int{0})
	refused := l.add(1, routeAPI, []int{2})
	other := l.add(2, routeAPI, []int{0})
	l.settle(api, stateAccepted, 0)
	l.settle(bare, stateAccepted, 2)
	l.settle(unsub, stateAccepted, 0)
	l.settle(refused, stateRefused, 0)
	l.settle(other, stateAccepted, 0)

	got := func(client, seq, n int) {
		f.clients[client].got[seq] = &receipt{n: n, first: time.Now()}
	}
	got(0, api.seq, 2)     // delivered twice
	got(1, bare.seq, 1)    // client 1 misses api; client 2 misses bare
	got(2, refused.seq, 1) // a refused publish that went out anyway
	got(2, api.seq, 1)     // not a target of api
	got(0, other.seq, 1)   // another phase

	before := make([]client.Stats, 3)
	after := []client.Stats{{Duplicates: 2, Gaps: 1}, {Duplicates: 3}, {Connects: 1}}
	tl := account(l, f, 1, before, after, time.Time{}, time.Time{})
	want := tally{published: 3, publishedAPI: 1, publishedBare: 2, refused: 1, bareNoSubscriber: 1,
		expected: 5, delivered: 2, lostAPI: 1, lostBare: 1, lostBareUnsub: 1, appDup: 1,
		wrongRecipient: 1, unconfirmed: 1, wireDup: 5, wireDupNoGap: 3, gaps: 1, reconnects: 1}
	if tl != want {
		t.Fatalf("tally\n got %+v\nwant %+v", tl, want)
	}
	if n := missing(l, f, 1); n != 3 {
		t.Fatalf("missing = %d, want 3", n)
	}
}

func TestPublishedJSONDecodes(t *testing.T) {
	t.Parallel()
	for name, b := range map[string][]byte{
		"api":   apiJSON(chaosSite, "users:c001", []string{"group:g1", `users:"odd"`}, 7, 3),
		"pyams": pyamsJSON(chaosSite, "chat:main", "users:c001", []string{"system.Authenticated"}, 7, 3, time.Now()),
	} {
		m, err := message.Decode(b, 0)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if seq, ok := extraInt(m, "chaos_seq"); !ok || seq != 7 {
			t.Fatalf("%s: chaos_seq %d %v", name, seq, ok)
		}
		if name == "pyams" {
			if err := m.Validate(); err != nil {
				t.Fatalf("pyams: %v", err)
			}
		}
	}
}
