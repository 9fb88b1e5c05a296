package main

import (
	"time"

	"github.com/notifyd/notifyd/client"
)

// tally is the accounting of one phase.
type tally struct {
	published, publishedAPI, publishedBare int // accepted by the API or by Redis
	refused, skipped                       int // not accepted / never sent
	bareNoSubscriber                       int // bare PUBLISHes no gateway was subscribed to receive

	expected, delivered int // deliveries owed to tracked clients, and those that arrived
	lostAPI             int // owed deliveries of API-published messages that never arrived
	lostBare            int // same for bare PUBLISHes that reached at least one subscriber
	lostBareUnsub       int // same for bare PUBLISHes with no subscriber (nobody could store them)
	appDup              int // deliveries to an application beyond the first (after the client's dedup)
	wrongRecipient      int // deliveries to a client outside the message's targets
	unconfirmed         int // deliveries of messages whose publish was not acknowledged

	wireDup       uint64 // duplicates the clients dropped (seen id)
	wireDupNoGap  uint64 // of those, on clients that got no gap frame this phase
	gaps          uint64 // gap frames received
	reconnects    uint64 // connections established during the phase, beyond the first of each client
	recovery      time.Duration
	recovered     bool // every client got a message published after the fault
	recoveryValid bool // a fault time was set
}

// missing returns how many owed deliveries of phase p have not arrived.
func missing(l *ledger, f *fleet, p int) int {
	n := 0
	for _, s := range l.phaseMessages(p) {
		if s.state != stateAccepted {
			continue
		}
		for _, c := range s.expect {
			if _, ok := f.clients[c].receipt(s.seq); !ok {
				n++
			}
		}
	}
	return n
}

// account computes phase p's tally. before and after are the clients'
// stats at the start and the end of the phase; injected is when the fault
// hit (zero: no fault) and restored when its disruptive action ended.
func account(l *ledger, f *fleet, p int, before, after []client.Stats, injected, restored time.Time) tally {
	var t tally
	msgs := l.phaseMessages(p)
	for _, s := range msgs {
		switch s.state {
		case stateAccepted:
		case stateSkipped:
			t.skipped++
			continue
		default:
			t.refused++
			continue
		}
		t.published++
		if s.route == routeAPI {
			t.publishedAPI++
		} else {
			t.publishedBare++
			if s.receivers == 0 {
				t.bareNoSubscriber++
			}
		}
		for _, c := range s.expect {
			t.expected++
			r, ok := f.clients[c].receipt(s.seq)
			switch {
			case ok:
				t.delivered++
				t.appDup += r.n - 1
			case s.route == routeAPI:
				t.lostAPI++
			case s.receivers == 0:
				t.lostBareUnsub++
			default:
				t.lostBare++
			}
		}
	}
	// Deliveries nobody owed: to the wrong client, or of unacknowledged
	// publishes.
	for _, c := range f.clients {
		for _, seq := range c.seqs() {
			s, ok := l.get(seq)
			if !ok || s.phase != p {
				continue
			}
			switch {
			case s.state != stateAccepted:
				t.unconfirmed++
			case !s.expects(c.index):
				t.wrongRecipient++
			}
		}
	}
	for i, st := range after {
		dup, gaps := st.Duplicates-before[i].Duplicates, st.Gaps-before[i].Gaps
		t.wireDup += dup
		t.gaps += gaps
		if gaps == 0 {
			t.wireDupNoGap += dup
		}
		t.reconnects += st.Connects - before[i].Connects
	}
	if !injected.IsZero() {
		t.recoveryValid = true
		t.recovery, t.recovered = recovery(msgs, f, injected, restored)
	}
	return t
}

// recovery is the time from injected until the last client got a message
// published after restored (the end of the fault's action: Redis back up,
// the gateway's process gone), on the connection it had at the end of the
// phase, so that a client still receiving a few live messages before its
// gateway closed it counts from its reconnection. It is the fault's window
// of silence as the slowest client saw it.
func recovery(msgs []sent, f *fleet, injected, restored time.Time) (time.Duration, bool) {
	first := make([]time.Time, len(f.clients))
	cutoff := make([]time.Time, len(f.clients))
	for i, c := range f.clients {
		cutoff[i] = later(restored, time.Unix(0, c.connectedAt.Load()))
	}
	for _, s := range msgs {
		if s.state != stateAccepted || s.created.Before(restored) {
			continue
		}
		for _, c := range s.expect {
			r, ok := f.clients[c].receipt(s.seq)
			if ok && !r.first.Before(cutoff[c]) && (first[c].IsZero() || r.first.Before(first[c])) {
				first[c] = r.first
			}
		}
	}
	var worst time.Duration
	for _, at := range first {
		if at.IsZero() {
			return 0, false
		}
		worst = max(worst, at.Sub(injected))
	}
	return worst, true
}
