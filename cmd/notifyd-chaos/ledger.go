package main

import (
	"slices"
	"sync"
	"time"
)

// route is how a message was published.
type route int

const (
	routeAPI  route = iota // POST /api/chat/messages: history is written before PUBLISH
	routeBare              // bare PUBLISH as PyAMS does: only subscribers write history
)

// pubState is where a publish attempt stands.
type pubState int

const (
	statePending  pubState = iota
	stateAccepted          // 202 from the API, or PUBLISH returned
	stateRefused           // error, timeout or non-202: not counted as published
	stateSkipped           // the publisher was saturated: never sent
)

// sent is one message the publisher tried to publish.
type sent struct {
	// immutable after ledger.add
	seq     int
	phase   int
	route   route
	expect  []int // sorted indices of the tracked clients it must reach
	created time.Time

	// guarded by ledger.mu
	state     pubState
	receivers int64 // bare PUBLISH: how many subscribers Redis handed it to
}

// ledger is every message of the run, indexed by sequence number.
type ledger struct {
	mu   sync.Mutex
	msgs []*sent // msgs[i].seq == i
}

// add registers a new message before it is published (a delivery may beat
// the publisher's acknowledgement) and returns it.
func (l *ledger) add(phase int, r route, expect []int) *sent {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &sent{seq: len(l.msgs), phase: phase, route: r, expect: expect, created: time.Now()}
	l.msgs = append(l.msgs, s)
	return s
}

// settle records the outcome of a publish.
func (l *ledger) settle(s *sent, st pubState, receivers int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.state, s.receivers = st, receivers
}

// phaseMessages returns copies of the messages of phase p.
func (l *ledger) phaseMessages(p int) []sent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sent
	for _, s := range l.msgs {
		if s.phase == p {
			out = append(out, *s)
		}
	}
	return out
}

// get returns a copy of message seq and whether it exists.
func (l *ledger) get(seq int) (sent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq < 0 || seq >= len(l.msgs) {
		return sent{}, false
	}
	return *l.msgs[seq], true
}

func (s *sent) expects(client int) bool {
	_, ok := slices.BinarySearch(s.expect, client)
	return ok
}
