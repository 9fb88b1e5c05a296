package pubsub

import (
	"slices"
	"strings"

	"github.com/notifyd/notifyd/history"
)

// retryQueues holds, per site, the history entries whose write failed with a
// retryable error and the entries of the same site that were queued after
// them, oldest first, so that a site's entries are stored in dispatch order
// while the other sites' entries go on being stored. It is bounded per site
// and in total. It is owned by the history writer goroutine.
type retryQueues struct {
	perSite int                   // most entries per site (the history length: older ones would be trimmed)
	max     int                   // most entries over all sites
	n       int                   // entries held
	sites   map[string]*retrySite // by siteKey; only sites with entries
	order   []string              // keys of sites, in the order rounds visit them (rotated)
	slots   []retrySlot           // where each entry of the round in progress comes from
}

// retrySite is one site's queue.
type retrySite struct {
	entries []history.Entry // oldest first
	// failed reports that an entry of the site failed in its last attempt
	// (true for a new site): the next round sends the oldest entry alone,
	// as a probe, so that a site on a dead shard costs one entry per round
	// and a later entry cannot be stored ahead of it in that round.
	failed bool
	sent   int    // entries[:sent] are in the round being stored
	done   []bool // done[i]: entries[i] of the round needs no retry
}

// retrySlot says where the i-th entry of a round comes from.
type retrySlot struct {
	site  *retrySite
	index int // in site.entries
}

// newRetryQueues returns queues holding at most perSite entries per site
// and total entries in all (both at least 1).
func newRetryQueues(perSite, total int) *retryQueues {
	total = max(1, total)
	return &retryQueues{perSite: max(1, min(perSite, total)), max: total, sites: make(map[string]*retrySite)}
}

// siteKey identifies the list of host: the history lower-cases hosts in keys.
func siteKey(host string) string { return strings.ToLower(host) }

// size returns how many entries wait, over all sites.
func (q *retryQueues) size() int { return q.n }

// add appends e to its site's queue. To respect the bounds it discards the
// site's oldest entry when the site holds perSite entries (reason
// DropHistorySuperseded) or when all sites together hold max (reason
// DropHistoryRetryQueueFull; e itself is discarded when its site holds
// nothing). It reports what it discarded.
func (q *retryQueues) add(e history.Entry) (discarded history.Entry, reason DropReason) {
	key := siteKey(e.Host)
	rs := q.sites[key]
	if rs == nil {
		if q.n >= q.max {
			return e, DropHistoryRetryQueueFull
		}
		rs = &retrySite{failed: true}
		q.sites[key] = rs
		q.order = append(q.order, key)
	}
	switch {
	case len(rs.entries) >= q.perSite:
		discarded, reason = rs.popOldest(), DropHistorySuperseded
		q.n--
	case q.n >= q.max:
		discarded, reason = rs.popOldest(), DropHistoryRetryQueueFull
		q.n--
	}
	rs.entries = append(rs.entries, e)
	q.n++
	return discarded, reason
}

func (rs *retrySite) popOldest() history.Entry {
	e := rs.entries[0]
	rs.entries[0] = history.Entry{} // let its bytes be collected
	rs.entries = rs.entries[1:]
	return e
}

// take appends to batch, up to limit entries in all, the entries of the next
// round: the oldest entry of each site in rotation order, then, for the
// sites whose last attempt succeeded, their next entries, breadth first.
func (q *retryQueues) take(batch []history.Entry, limit int) []history.Entry {
	q.slots = q.slots[:0]
	for _, key := range q.order {
		if len(batch) >= limit {
			break
		}
		rs := q.sites[key]
		rs.sent, rs.done = 1, append(rs.done[:0], false)
		batch = append(batch, rs.entries[0])
		q.slots = append(q.slots, retrySlot{rs, 0})
	}
	for depth := 1; len(batch) < limit; depth++ {
		more := false
		for _, key := range q.order {
			if len(batch) >= limit {
				break
			}
			rs := q.sites[key]
			if rs.failed || rs.sent != depth || depth >= len(rs.entries) {
				continue
			}
			rs.sent++
			rs.done = append(rs.done, false)
			batch = append(batch, rs.entries[depth])
			q.slots = append(q.slots, retrySlot{rs, depth})
			more = true
		}
		if !more {
			break
		}
	}
	return batch
}

// settle applies the outcome of the round take made: retry(i) reports
// whether the i-th entry of the round must be retried; the others are
// removed, and passed to gone. A site whose sent entries all succeeded is
// no longer failed; sites emptied are forgotten, and the sites of the round
// go to the end of the rotation. It reports how many entries were removed.
func (q *retryQueues) settle(retry func(i int) bool, gone func(history.Entry)) (removed int) {
	visited := 0 // the round visited q.order[:visited]
	for i, sl := range q.slots {
		if sl.index == 0 {
			visited++
		}
		if !retry(i) {
			sl.site.done[sl.index] = true
		}
	}
	for _, sl := range q.slots {
		rs := sl.site
		if sl.index != 0 || rs.sent == 0 {
			continue
		}
		kept := 0
		for i := range rs.sent {
			if rs.done[i] {
				gone(rs.entries[i])
				continue
			}
			rs.entries[kept] = rs.entries[i]
			kept++
		}
		rs.failed = kept > 0
		n := kept + copy(rs.entries[kept:], rs.entries[rs.sent:])
		clear(rs.entries[n:])
		removed += len(rs.entries) - n
		rs.entries, rs.sent = rs.entries[:n], 0
	}
	q.n -= removed
	// Rotate: the sites the round did not reach come first next time.
	order := slices.Concat(q.order[visited:], q.order[:visited])
	q.order = q.order[:0]
	for _, key := range order {
		if len(q.sites[key].entries) == 0 {
			delete(q.sites, key)
			continue
		}
		q.order = append(q.order, key)
	}
	clear(q.slots)
	q.slots = q.slots[:0]
	return removed
}

// reset forgets every entry, passing each to gone, and returns how many
// there were.
func (q *retryQueues) reset(gone func(history.Entry)) int {
	n := q.n
	for _, rs := range q.sites {
		for _, e := range rs.entries {
			gone(e)
		}
	}
	clear(q.sites)
	q.order, q.n = q.order[:0], 0
	return n
}
