package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// maxDiagnoses bounds the lost deliveries explained per phase.
const maxDiagnoses = 8

// diagnose explains up to maxDiagnoses lost deliveries of phase p on w:
// which message, which client, the cursor the client resumed from, and the
// positions of both in the site's history list (index 0 is the newest).
// A lost message older in the list than the cursor shows that the list's
// order differs from the order clients receive messages in, which a
// positional ?since= cannot survive.
func (c *chaos) diagnose(ctx context.Context, w io.Writer, ph *phase) {
	pos := c.historyPositions(ctx)
	n := 0
	for _, s := range c.ledger.phaseMessages(ph.index) {
		if s.state != stateAccepted {
			continue
		}
		for _, ci := range s.expect {
			t := c.fleet.clients[ci]
			if _, ok := t.receipt(s.seq); ok {
				continue
			}
			if n++; n > maxDiagnoses {
				return
			}
			how := "bare PUBLISH"
			if s.route == routeAPI {
				how = "API"
			}
			line := fmt.Sprintf("phase %d %s: lost seq %d (%s, created %+v after the fault, list index %s) for %s",
				ph.index, ph.spec.name, s.seq, how, s.created.Sub(ph.injected).Round(time.Millisecond),
				index(pos, s.seq), principalOf(ci))
			if r, ok := t.resumedAfter(time.Now()); ok {
				line += fmt.Sprintf("; it resumed after seq %d (list index %s) at %+v",
					r.after, index(pos, r.after), r.at.Sub(ph.injected).Round(time.Millisecond))
			} else {
				line += "; it never reconnected"
			}
			fmt.Fprintln(w, line)
		}
	}
}

// historyPositions maps chaos sequence numbers to their index in the
// site's history list.
func (c *chaos) historyPositions(ctx context.Context) map[int]int {
	items, err := c.rdb.LRange(ctx, "chat:notifications::"+c.site, 0, -1).Result()
	if err != nil {
		return nil
	}
	pos := make(map[int]int, len(items))
	for i, it := range items {
		var m struct {
			Seq *int `json:"chaos_seq"`
		}
		if json.Unmarshal([]byte(it), &m) == nil && m.Seq != nil {
			pos[*m.Seq] = i
		}
	}
	return pos
}

func index(pos map[int]int, seq int) string {
	if i, ok := pos[seq]; ok {
		return fmt.Sprint(i)
	}
	return "none"
}
