package pubsub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/message"
)

// fillBatch is how many sites' histories one round trip reads.
const fillBatch = 64

// fillQueue holds the gap fill requested by the read loop until the
// dispatcher runs it. Requests merge: the earliest loss wins, so one fill
// covers every outage since the last one. Safe for concurrent use.
type fillQueue struct {
	// queued is true while a marker is in the raw queue: set by the read
	// loop when it queues one, cleared by the dispatcher when it takes it.
	queued atomic.Bool

	mu      sync.Mutex // guards the fields below
	pending bool
	lostAt  time.Time           // earliest loss not yet filled
	retry   map[string]struct{} // sites whose history could not be read
}

// add merges a request for the sites the dispatcher knows, plus retry.
func (q *fillQueue) add(lostAt time.Time, retry []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.pending || lostAt.Before(q.lostAt) {
		q.lostAt = lostAt
	}
	q.pending = true
	for _, host := range retry {
		if q.retry == nil {
			q.retry = make(map[string]struct{})
		}
		q.retry[host] = struct{}{}
	}
}

// take returns the pending request and clears it.
func (q *fillQueue) take() (lostAt time.Time, retry map[string]struct{}, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	lostAt, retry, ok = q.lostAt, q.retry, q.pending
	q.pending, q.lostAt, q.retry = false, time.Time{}, nil
	return lostAt, retry, ok
}

// requestFill asks the dispatcher, from the read loop after a
// resubscription, to fill the gap since lostAt: it records the request and
// queues a marker behind the payloads already queued, so the fill runs
// after them and before the payloads read from the new subscription.
//
// The marker never blocks and is never dropped: payloads leave the queue's
// last slot free (enqueue), and at most one marker is queued at a time. A
// request made while a marker is queued merges into it. The dispatcher
// clears queued before it takes the request, so a request is either taken
// by the fill of the marker already queued or gets a marker of its own.
func (s *Subscriber) requestFill(out chan<- item, lostAt time.Time) {
	if s.history == nil {
		return
	}
	s.fills.add(lostAt, nil)
	if !s.fills.queued.CompareAndSwap(false, true) {
		return
	}
	select {
	case out <- item{fill: true}:
	default: // cannot happen: the last slot is kept free
		s.fills.queued.Store(false)
		s.limiter.Warn(s.log, "gap_fill", "pubsub: gap fill marker could not be queued")
	}
}

// gapFill runs the pending gap fill, if any, on the dispatcher goroutine: for
// every site it knows, every site of the sink's live connections (SiteLister)
// and every site left over by a failed fill, it reads the site's history and
// delivers, oldest first, the messages it has not dispatched recently that
// are either after the last id it dispatched for the site, or whose ULID time
// is after the loss minus GapFillMargin. Filled messages are validated but
// neither resolved nor stored again. It reports false when some histories
// could not be read: those sites are pending again.
func (s *Subscriber) gapFill(ctx context.Context) bool {
	lostAt, retry, ok := s.fills.take()
	if !ok {
		return true
	}
	start := time.Now()
	hosts := s.fillHosts(retry)
	sites := len(hosts)
	cutoff := lostAt.Add(-s.cfg.GapFillMargin)
	var failed []string
	filled := 0
	for len(hosts) > 0 {
		batch := hosts[:min(fillBatch, len(hosts))]
		hosts = hosts[len(batch):]
		lists, errs := s.history.ListMany(ctx, batch)
		for i, host := range batch {
			if errs[i] != nil {
				failed = append(failed, host)
				s.stats.gapFillErrors.Add(1)
				s.limiter.Warn(s.log, "gap_fill", "pubsub: gap fill could not read a history, will retry",
					"host", host, "err", errs[i])
				continue
			}
			filled += s.fillSite(host, lists[i], cutoff)
		}
	}
	s.stats.gapFills.Add(1) // once done, so that GapFills tells a test the fill is over
	s.log.Info("pubsub: gap filled", "lost_at", lostAt, "sites", sites, "messages", filled,
		"failed_sites", len(failed), "duration", time.Since(start))
	if len(failed) > 0 {
		s.fills.add(lostAt, failed)
		return false
	}
	return true
}

// fillHosts returns, without repetition, the sites the dispatcher remembers,
// the sink's live sites and the sites to retry.
func (s *Subscriber) fillHosts(retry map[string]struct{}) []string {
	hosts := s.sites.hosts()
	seen := make(map[string]struct{}, len(hosts)+len(retry))
	for _, h := range hosts {
		seen[h] = struct{}{}
	}
	more := func(h string) {
		if _, ok := seen[h]; !ok && h != "" {
			seen[h] = struct{}{}
			hosts = append(hosts, h)
		}
	}
	if l, ok := s.sink.(SiteLister); ok {
		for _, h := range l.Sites() {
			more(h)
		}
	}
	for h := range retry {
		more(h)
	}
	return hosts
}

// fillSite delivers, oldest first, the messages of host's history (newest
// first) that the dispatcher missed, and returns how many. A message is a
// candidate when it comes after the last id dispatched for host, or when its
// id is a ULID whose time is after cutoff: the first rule does not depend on
// clocks, the second covers a last id that was trimmed away (or never
// stored) and messages appended out of order by concurrent publishers.
func (s *Subscriber) fillSite(host string, list []*message.Message, cutoff time.Time) int {
	after := 0 // list[:after] comes after the last id dispatched for host
	if last := s.sites.last(host); last != "" {
		if newer, found := message.After(list, last); found {
			after = len(newer)
		}
	}
	n := 0
	for i := len(list) - 1; i >= 0; i-- {
		m := list[i]
		if i >= after && !idAfter(m.ID, cutoff) {
			continue
		}
		if s.recent.has(m.ID) {
			continue // delivered live before the loss, or by an earlier fill
		}
		if err := m.Validate(); err != nil {
			s.drop(DropInvalid, err, "")
			continue
		}
		s.deliver(m)
		s.stats.gapFilled.Add(1)
		n++
	}
	return n
}

// idAfter reports whether id is a ULID whose time is after t.
func idAfter(id string, t time.Time) bool {
	at, ok := message.IDTime(id)
	return ok && at.After(t)
}
