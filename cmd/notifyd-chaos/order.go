package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

// faultOrder cuts tracked clients' connections at random instants while
// the stream (API publishes and bare PUBLISHes on one site) goes on: every
// client reconnects with since. Besides the usual accounting (nothing
// lost, nothing duplicated), every client must have got the phase's
// messages in the site's one order, the order the history stored them
// (its seq, read back with history.Store.SiteSince). It needs the gateways
// to run the inbox (NOTIFYD_DELIVERY_CHANNEL): without it the site has no
// seq, which the phase reports as a problem.
const faultOrder = "order"

// orderCutMean is the mean time between two cuts (exponential).
const orderCutMean = 20 * time.Millisecond

// orderChatCutEvery: one cut in this many is a chat user's connection.
const orderChatCutEvery = 4

// orderInject cuts a random client's connection at random instants for
// half a phase.
func orderInject(ctx context.Context, c *chaos, ph *phase) error {
	rng := rand.New(rand.NewPCG(c.opts.seed, uint64(ph.index)))
	ph.injected = time.Now()
	end := ph.injected.Add(c.opts.phaseDuration / 2)
	cuts, chatCuts := 0, 0
	for n := 1; time.Now().Before(end) && ctx.Err() == nil; n++ {
		sleep(ctx, time.Duration(rng.ExpFloat64()*float64(orderCutMean)))
		if c.chat != nil && n%orderChatCutEvery == 0 {
			if c.chat.cut(rng) {
				chatCuts++
			}
			continue
		}
		if c.fleet.clients[rng.IntN(len(c.fleet.clients))].cut() {
			cuts++
		}
	}
	ph.restored = time.Now()
	ph.note("cut %d client connections at random instants over %v; each reconnected with since", cuts,
		ph.restored.Sub(ph.injected).Round(time.Millisecond))
	if c.chat != nil {
		ph.note("cut %d chat connections (each resubscribed and filled its gap from history)", chatCuts)
	}
	if cuts == 0 {
		return fmt.Errorf("no connection was cut")
	}
	return nil
}

// orderFinish compares, once the phase drained, every client's order of
// the phase's messages with the site's seq order.
func orderFinish(ctx context.Context, c *chaos, ph *phase) {
	rank, err := siteRanks(ctx, c, ph.index)
	if err != nil {
		ph.problem("read the site's order: %v", err)
		return
	}
	if len(rank) == 0 {
		ph.problem("the site has no stored order (SiteSince is empty): do the gateways run the inbox (NOTIFYD_DELIVERY_CHANNEL)?")
		return
	}
	clients, inversions, unranked, checked := 0, 0, 0, 0
	for _, t := range c.fleet.clients {
		inv, unr, chk := outOfOrder(t.received(), rank, func(seq int) bool {
			s, ok := c.ledger.get(seq)
			return ok && s.phase == ph.index
		})
		inversions, unranked, checked = inversions+inv, unranked+unr, checked+chk
		if inv > 0 {
			clients++
		}
	}
	ph.note("order: %d deliveries compared with the site's seq order (%d stored messages), %d not found in the site log",
		checked, len(rank), unranked)
	if inversions > 0 {
		ph.problem("%d deliveries on %d clients came out of the site's seq order", inversions, clients)
	}
	if checked == 0 {
		ph.problem("no delivery of the phase could be compared with the site's order")
	}
}

// outOfOrder compares received, a client's messages in the order its
// application got them, with rank, the site's order, for the messages
// inPhase accepts: it counts the messages that came after one ranked later
// (inversions), those the site's log no longer has (unranked), and those
// compared (checked).
func outOfOrder(received []int, rank map[int]int, inPhase func(seq int) bool) (inversions, unranked, checked int) {
	prev := -1
	for _, seq := range received {
		if !inPhase(seq) {
			continue
		}
		r, ok := rank[seq]
		if !ok {
			unranked++ // trimmed from the site log before the check: nothing to compare
			continue
		}
		checked++
		if r < prev {
			inversions++
		}
		prev = max(prev, r)
	}
	return inversions, unranked, checked
}

// siteRanks returns, for the messages of phase stored on the chaos site, their
// rank in the site's seq order, by chaos sequence number.
func siteRanks(ctx context.Context, c *chaos, phase int) (map[int]int, error) {
	// Reading needs the inbox on; this Store only reads, so the channel it
	// would publish on does not matter.
	h, err := history.New(c.rdb, history.Config{Length: c.opts.history, DeliveryChannel: history.DefaultDeliveryChannel})
	if err != nil {
		return nil, err
	}
	rank := map[int]int{}
	var seq int64
	for n := 0; ; {
		page, err := h.SiteSince(ctx, c.site, seq, history.MaxReplay)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return rank, nil
		}
		for _, d := range page {
			seq = d.Seq
			m, err := message.Decode(d.Stored, -1)
			if err != nil {
				continue // garbage the gateways stored: not ours
			}
			p, ok1 := extraInt(m, "chaos_phase")
			s, ok2 := extraInt(m, "chaos_seq")
			if ok1 && ok2 && p == phase {
				rank[s] = n
				n++
			}
		}
	}
}
