package pubsub

import (
	"context"
	"time"
)

// gapFillSeq runs the pending gap fill with a DeliveryChannel, on the
// dispatcher goroutine: for every site whose last delivered sequence number
// it knows (remembered, reported by the SiteLister or left over by a failed
// fill), it reads what the site stored after it (SiteSince, oldest first, by
// pages of GapFillPage, at most GapFillMax) and delivers what it has not
// delivered recently, in the site's order. Sites whose sequence it does not
// know (no delivery since the subscriber started, or forgotten) are not
// filled. It reports false when some sites could not be read: those sites
// are pending again.
func (d *dispatcher) gapFillSeq(ctx context.Context) bool {
	lostAt, retry, ok := d.fills.take()
	if !ok {
		return true
	}
	start := time.Now()
	hosts := d.fillHosts(retry)
	var failed []string
	filled, unknown := 0, 0
	for _, host := range hosts {
		seq := d.sites.seq(host)
		if seq <= 0 {
			unknown++
			continue
		}
		n, err := d.fillSince(ctx, host, seq)
		filled += n
		if err != nil {
			failed = append(failed, host)
			d.rep.stats.gapFillErrors.Add(1)
			d.rep.warn("gap_fill", "pubsub: gap fill could not read a site, will retry", "host", host, "err", err)
		}
	}
	d.rep.stats.gapFills.Add(1) // once done, so that GapFills tells a test the fill is over
	d.rep.log.Info("pubsub: gap filled", "lost_at", lostAt, "sites", len(hosts), "unknown_sites", unknown,
		"messages", filled, "failed_sites", len(failed), "duration", time.Since(start))
	if len(failed) > 0 {
		d.fills.add(lostAt, failed)
		return false
	}
	return true
}

// fillSince delivers host's messages stored after seq, oldest first, that
// were not delivered recently, and returns how many it delivered. It reads
// until a page comes back empty (SiteSince may return fewer than asked
// when it leaves retracted messages out) or GapFillMax were read. A read
// that fails after some pages keeps what was delivered: the next try
// starts after it.
func (d *dispatcher) fillSince(ctx context.Context, host string, seq int64) (int, error) {
	n := 0
	for read := 0; read < d.cfg.GapFillMax; {
		page, err := d.since.SiteSince(ctx, host, seq, min(d.cfg.GapFillPage, d.cfg.GapFillMax-read))
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for _, dl := range page {
			if dl.Seq <= seq {
				continue // cannot happen: SiteSince returns what comes after seq
			}
			seq = dl.Seq
			if d.deliverStored(dl) {
				d.rep.stats.gapFilled.Add(1)
				n++
			}
		}
		read += len(page)
	}
	return n, nil
}
