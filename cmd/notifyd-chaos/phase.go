package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/notifyd/notifyd/client"
)

// faultSpec is one fault the run injects, in its own phase.
type faultSpec struct {
	name string
	// strictBare: bare PUBLISHes that reached at least one subscriber must
	// all be delivered. It is false where a subscription is lost at the
	// fault (redis-restart, pubsub-kill): a bare PUBLISH in flight then is
	// in no history, so no replay or gap fill can recover it.
	strictBare bool
	// prepare runs before publishing starts; inject runs a quarter of the
	// way into the publishing (it sets phase.injected at the disruptive
	// moment and returns once the fault is over); finish runs after the
	// drain. Each may be nil.
	prepare, inject func(ctx context.Context, c *chaos, ph *phase) error
	finish          func(ctx context.Context, c *chaos, ph *phase)
}

// phase is one fault's run and findings.
type phase struct {
	index    int
	spec     *faultSpec
	injected time.Time     // zero: no fault
	restored time.Time     // when the disruptive action ended (Redis back, gateway exited); zero: injected
	recover  time.Duration // when > 0, reported instead of the tally's recovery (revocation: time until out)
	notes    []string
	problems []string // each makes the phase FAIL

	slow    *slowState
	garbage *garbageState
	revoke  *revokeState
	attack  *attackState
}

func (ph *phase) note(format string, args ...any) {
	ph.notes = append(ph.notes, fmt.Sprintf(format, args...))
}
func (ph *phase) problem(format string, args ...any) {
	ph.problems = append(ph.problems, fmt.Sprintf(format, args...))
}

// result is what the report prints for a phase.
type result struct {
	ph *phase
	t  tally
	// the chat's books (chat nil: no chat)
	chat      *chatTally
	chatStats chatStats
}

// runPhase publishes for the phase duration, injects the fault a quarter of
// the way in, keeps publishing at least a quarter of the duration after the
// fault is over, waits for late deliveries, then accounts.
func (c *chaos) runPhase(ctx context.Context, index int, spec *faultSpec) result {
	ph := &phase{index: index, spec: spec}
	c.log.Info("phase starting", "phase", index, "fault", spec.name)
	before := make([]client.Stats, len(c.fleet.clients))
	for i, t := range c.fleet.clients {
		before[i] = t.client.Stats()
	}
	if spec.prepare != nil {
		if err := spec.prepare(ctx, c, ph); err != nil {
			ph.problem("prepare: %v", err)
		}
	}
	dur := c.opts.phaseDuration
	start := time.Now()
	pubCtx, stopPub := context.WithCancel(ctx)
	pubDone := make(chan struct{})
	go func() { // joined below through pubDone
		defer close(pubDone)
		if c.chat == nil {
			c.pub.run(pubCtx, index)
			return
		}
		var wg sync.WaitGroup
		wg.Go(func() { c.chat.run(pubCtx, ctx, index) })
		c.pub.run(pubCtx, index)
		wg.Wait()
	}()
	sleep(ctx, dur/4)
	if spec.inject != nil {
		if err := spec.inject(ctx, c, ph); err != nil {
			ph.problem("%v", err)
		}
	}
	sleep(ctx, time.Until(later(start.Add(dur), time.Now().Add(dur/4))))
	stopPub()
	<-pubDone

	drainStart := time.Now()
	chatMissing := func() int {
		if c.chat == nil {
			return 0
		}
		return c.chat.missing(index)
	}
	_ = poll(ctx, c.opts.drain, func() bool { return missing(c.ledger, c.fleet, index) == 0 && chatMissing() == 0 }, "drain")
	c.log.Info("phase drained", "phase", index, "fault", spec.name, "drain", time.Since(drainStart).Round(time.Millisecond),
		"missing", missing(c.ledger, c.fleet, index), "chat_missing", chatMissing())
	if spec.finish != nil {
		spec.finish(ctx, c, ph)
	}
	for i, g := range c.gws {
		if !g.running() {
			ph.problem("gateway%d is not running after the phase", i+1)
		}
		if n := g.races(); n > c.races[i] {
			ph.problem("gateway%d reported %d data races (see its log)", i+1, n-c.races[i])
			c.races[i] = n
		}
	}
	after := make([]client.Stats, len(c.fleet.clients))
	for i, t := range c.fleet.clients {
		after[i] = t.client.Stats()
	}
	t := account(c.ledger, c.fleet, index, before, after, ph.injected, later(ph.injected, ph.restored))
	judge(ph, t)
	if t.lostAPI+t.lostBare > 0 {
		c.diagnose(ctx, c.stderr, ph)
	}
	r := result{ph: ph, t: t}
	if c.chat != nil {
		ct := c.chat.account(index)
		r.chat, r.chatStats = &ct, c.chat.phaseStats(index)
		chatJudge(ph, ct)
		chatJudgeStats(ph, r.chatStats)
	}
	return r
}

// judge turns the tally into problems, by the guarantees notifyd documents
// (ARCHITECTURE.md, "Faults, scale-out and abuse"):
//   - a message accepted by POST /api/chat/messages is in the history before
//     it is published, so replay (?since=) and the subscriber's gap fill must
//     deliver it to every target, whatever the fault;
//   - a bare PUBLISH that reached a subscriber is stored by it, so the same
//     holds, except where the fault drops the subscriptions themselves
//     (faultSpec.strictBare);
//   - a bare PUBLISH that no gateway was subscribed to receive is lost by
//     design (PyAMS producers publish and forget): reported, never a failure;
//   - no application sees a message twice, no frame is repeated at a replay
//     seam (duplicates are allowed only after a gap frame, which replays
//     everything kept), and nobody outside a message's target gets it.
func judge(ph *phase, t tally) {
	if t.lostAPI > 0 {
		ph.problem("%d deliveries of API-published messages lost", t.lostAPI)
	}
	if ph.spec.strictBare && t.lostBare > 0 {
		ph.problem("%d deliveries of bare PUBLISHes lost", t.lostBare)
	}
	if t.appDup > 0 {
		ph.problem("%d duplicate deliveries reached applications", t.appDup)
	}
	if t.wireDupNoGap > 0 {
		ph.problem("%d duplicate frames on clients that got no gap frame", t.wireDupNoGap)
	}
	if t.wrongRecipient > 0 {
		ph.problem("%d deliveries to clients outside the target", t.wrongRecipient)
	}
	if t.published == 0 {
		ph.problem("nothing was published")
	}
}

// sleep waits d or until ctx ends. It paces phases; it is not used to
// synchronise with the system under test (poll is).
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
