package pubsub

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/message"
)

// fillBatch is how many sites' histories one round trip reads.
const fillBatch = 64

// runFill runs the pending gap fill, if any: from the site sequences with
// a DeliveryChannel (gapFillSeq), from the sites' lists otherwise
// (gapFill). It reports false when some sites could not be read.
func (d *dispatcher) runFill(ctx context.Context) bool {
	d.filling = true // a filled message's age is the outage's, not the pipeline's
	defer func() { d.filling = false }()
	if d.inbox {
		return d.gapFillSeq(ctx)
	}
	return d.gapFill(ctx)
}

// gapFill runs the pending gap fill, if any, on the dispatcher goroutine: for
// every site it knows, every site of the sink's live connections (SiteLister)
// and every site left over by a failed fill, it reads the site's history and
// delivers, oldest first, the messages it has not dispatched recently that
// are either after the last id it dispatched for the site, or whose ULID time
// is after the loss minus GapFillMargin. Filled messages are validated but
// neither resolved nor stored again. It reports false when some histories
// could not be read: those sites are pending again.
func (d *dispatcher) gapFill(ctx context.Context) bool {
	lostAt, retry, ok := d.fills.take()
	if !ok {
		return true
	}
	start := time.Now()
	hosts := d.fillHosts(retry)
	sites := len(hosts)
	cutoff := lostAt.Add(-d.cfg.GapFillMargin)
	var failed []string
	filled := 0
	for len(hosts) > 0 {
		batch := hosts[:min(fillBatch, len(hosts))]
		hosts = hosts[len(batch):]
		lists, errs := d.lists.ListMany(ctx, batch)
		for i, host := range batch {
			if errs[i] != nil {
				failed = append(failed, host)
				d.rep.stats.gapFillErrors.Add(1)
				d.rep.warn("gap_fill", "pubsub: gap fill could not read a history, will retry",
					"host", host, "err", errs[i])
				continue
			}
			filled += d.fillSite(host, lists[i], cutoff)
		}
	}
	d.rep.stats.gapFills.Add(1) // once done, so that GapFills tells a test the fill is over
	d.rep.log.Info("pubsub: gap filled", "lost_at", lostAt, "sites", sites, "messages", filled,
		"failed_sites", len(failed), "duration", time.Since(start))
	if len(failed) > 0 {
		d.fills.add(lostAt, failed)
		return false
	}
	return true
}

// fillHosts returns, without repetition, the sites the dispatcher remembers,
// the sink's live sites and the sites to retry.
func (d *dispatcher) fillHosts(retry map[string]struct{}) []string {
	hosts := d.sites.hosts()
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
	if l, ok := d.sink.(SiteLister); ok {
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
func (d *dispatcher) fillSite(host string, list []*message.Message, cutoff time.Time) int {
	after := 0 // list[:after] comes after the last id dispatched for host
	if last := d.sites.last(host); last != "" {
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
		if d.recent.has(m.ID) {
			continue // delivered live before the loss, or by an earlier fill
		}
		if err := m.Validate(); err != nil {
			d.rep.drop(DropInvalid, err, "")
			continue
		}
		d.deliver(m)
		d.rep.stats.gapFilled.Add(1)
		n++
	}
	return n
}

// idAfter reports whether id is a ULID whose time is after t.
func idAfter(id string, t time.Time) bool {
	at, ok := message.IDTime(id)
	return ok && at.After(t)
}
