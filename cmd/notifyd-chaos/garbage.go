package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/notifyd/notifyd/message"
)

// garbageItem is one bad payload for the channel. When tag is set the
// payload is a message that might decode, marked "chaos_garbage": tag so
// that a delivery is recognised; deliverable says whether delivering it is
// acceptable.
type garbageItem struct {
	tag         string
	deliverable bool
	payload     []byte
}

// garbageItems returns the payloads the garbage fault interleaves with the
// valid stream.
func garbageItems(site, channel string) []garbageItem {
	ts := message.FormatTimestamp(time.Now())
	msg := func(host, title, body, tag string) []byte {
		return fmt.Appendf(nil, `{"host": %s, "channel": %s, "action": "notify", "category": "chaos.garbage", `+
			`"status": "info", "title": %s, "message": %s, "image": null, "source": {"id": "users:backend", "title": "G"}, `+
			`"target": {"principals": ["system.Authenticated"]}, "url": null, "modal": false, "timestamp": %q, "chaos_garbage": %q}`,
			quote(host), quote(channel), title, quote(body), ts, tag)
	}
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	huge := make([]byte, 2<<20)
	for i := range huge {
		huge[i] = byte(i*7 + 3)
	}
	return []garbageItem{
		{payload: []byte(`{not json`)},
		{payload: []byte(``)},
		{payload: []byte(`null`)},
		{payload: []byte(`[1, 2, 3]`)},
		{payload: []byte(`"just a string"`)},
		{payload: []byte(`{"host": 5, "title": ["x"], "target": {"principals": "system.Authenticated"}, "chaos_garbage": "types"}`)},
		{payload: []byte(`{"host": ` + quote(site) + `, "target": {"principals": [1, 2]}, "chaos_garbage": "principals"}`)},
		{payload: []byte(deep)},
		{payload: huge},
		// Oversized: 100 KiB body, over the 64 KiB limit: must be dropped.
		{tag: "oversized", payload: msg(site, `"big"`, strings.Repeat("b", 100<<10), "oversized")},
		// Invalid UTF-8 inside a string: must be refused by the decoder.
		{tag: "invalid-utf8", payload: msg(site, "\"bad \xff\xfe utf8\"", "x", "invalid-utf8")},
		// Another site: must never reach this site's clients.
		{tag: "foreign-site", payload: msg("http://elsewhere.example", `"foreign"`, "x", "foreign-site")},
		// Odd but valid: control characters escaped, a NUL included. May be delivered.
		{tag: "control-chars", deliverable: true, payload: msg(site, `"ctl \u0000\u0007\t"`, "line1\nline2", "control-chars")},
		// A title that is not one line: Validate refuses it.
		{tag: "multiline-title", payload: msg(site, `"two\nlines"`, "x", "multiline-title")},
	}
}

// garbageInject publishes the garbage payloads, round robin, every 20ms
// for half the phase, while the valid stream goes on.
func garbageInject(ctx context.Context, c *chaos, ph *phase) error {
	items := garbageItems(c.site, c.opts.channel)
	before := c.fleet.garbageCounts()
	utf8Before := c.fleet.invalidUTF8.Load()
	ph.injected = time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(c.opts.phaseDuration / 2)
	sent, refused := 0, 0
	for i := 0; time.Now().Before(end); i++ {
		if err := c.rdb.Publish(ctx, c.opts.channel, items[i%len(items)].payload).Err(); err != nil {
			refused++
		} else {
			sent++
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	ph.note("%d garbage payloads of %d kinds published (%d refused by Redis)", sent, len(items), refused)
	ph.garbage = &garbageState{items: items, before: before, utf8Before: utf8Before}
	return nil
}

// garbageState is what garbageFinish compares against.
type garbageState struct {
	items      []garbageItem
	before     map[string]int64
	utf8Before int64
}

// garbageFinish, after the drain (late garbage would travel with the valid
// messages the drain waited for), reports garbage that reached clients.
func garbageFinish(_ context.Context, c *chaos, ph *phase) {
	g := ph.garbage
	if g == nil {
		return
	}
	items, before, utf8Before := g.items, g.before, g.utf8Before
	after := c.fleet.garbageCounts()
	var delivered []string
	for _, it := range items {
		if it.tag == "" {
			continue
		}
		n := after[it.tag] - before[it.tag]
		if n == 0 {
			continue
		}
		delivered = append(delivered, fmt.Sprintf("%s×%d", it.tag, n))
		if !it.deliverable {
			ph.problem("garbage %q was delivered %d times", it.tag, n)
		}
	}
	sort.Strings(delivered)
	if len(delivered) > 0 {
		ph.note("garbage delivered: %s", strings.Join(delivered, ", "))
	}
	if n := c.fleet.invalidUTF8.Load() - utf8Before; n > 0 {
		ph.problem("%d frames with invalid UTF-8 (a browser closes with 1007)", n)
	}
}
