package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// Message mix: the share of messages targeting everyone authenticated, one
// shared group, or one to three individual clients; half are sent on behalf
// of a tracked client (which must not get its own message back).
const (
	shareBroadcast = 0.10
	shareGroup     = 0.30
	shareFromPeer  = 0.50
	backendSource  = "users:backend"
	category       = "chaos.test"
)

// publisher publishes the steady stream: a generator at a fixed rate hands
// each message to a pool of workers, so that a hung request during a fault
// does not slow the stream down.
type publisher struct {
	// immutable after newPublisher
	site    string
	channel string
	gws     []*gateway
	tokens  []string
	rdb     *redis.Client
	hc      *http.Client
	ledger  *ledger
	clients []*tracked
	rate    int
	workers int

	rng *rand.Rand // owned by the generator (run's goroutine)
}

// job is one publish handed to a worker.
type job struct {
	s       *sent
	payload []byte
	gateway int // routeAPI
	token   string
}

// run publishes phase p's messages at the configured rate until ctx ends,
// then waits for the publishes in flight.
func (p *publisher) run(ctx context.Context, phase int) {
	jobs := make(chan job, p.rate) // one second of slack
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() {
			for j := range jobs {
				p.publish(j)
			}
		})
	}
	interval := time.Second / time.Duration(p.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			close(jobs)
			wg.Wait()
			return
		case <-tick.C:
		}
		j := p.next(phase, n)
		select {
		case jobs <- j:
		default:
			p.ledger.settle(j.s, stateSkipped, 0)
		}
	}
}

// next builds the n-th message of a phase. Routes rotate: API on gateway 1,
// API on gateway 2, bare PUBLISH.
func (p *publisher) next(phase, n int) job {
	targets := p.targets()
	source := backendSource
	if p.rng.Float64() < shareFromPeer {
		source = principalOf(p.rng.IntN(len(p.clients)))
	}
	r := routeAPI
	if n%3 == 2 {
		r = routeBare
	}
	m := &message.Message{Host: p.site, Target: &message.Target{Principals: targets},
		Source: &message.Source{ID: source}}
	var expect []int
	for _, t := range p.clients {
		if m.VisibleTo(t.recipient) {
			expect = append(expect, t.index)
		}
	}
	s := p.ledger.add(phase, r, expect)
	j := job{s: s, gateway: n % 3 % len(p.gws), token: p.tokens[n%len(p.tokens)]}
	if r == routeBare {
		j.payload = pyamsJSON(p.site, p.channel, source, targets, s.seq, phase, time.Now())
	} else {
		j.payload = apiJSON(p.site, source, targets, s.seq, phase)
	}
	return j
}

func (p *publisher) targets() []string {
	switch x := p.rng.Float64(); {
	case x < shareBroadcast:
		return []string{message.Authenticated}
	case x < shareBroadcast+shareGroup:
		return []string{groupOf(p.rng.IntN(groups))}
	default:
		n := 1 + p.rng.IntN(3)
		out := make([]string, 0, n)
		for range n {
			out = append(out, principalOf(p.rng.IntN(len(p.clients))))
		}
		return out
	}
}

// publish performs one job and settles it in the ledger.
func (p *publisher) publish(j job) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if j.s.route == routeBare {
		n, err := p.rdb.Publish(ctx, p.channel, j.payload).Result()
		if err != nil {
			p.ledger.settle(j.s, stateRefused, 0)
			return
		}
		p.ledger.settle(j.s, stateAccepted, n)
		return
	}
	if postMessage(ctx, p.hc, p.gws[j.gateway].base(), j.token, j.payload) == nil {
		p.ledger.settle(j.s, stateAccepted, 0)
	} else {
		p.ledger.settle(j.s, stateRefused, 0)
	}
}

// postMessage POSTs one message and wants 202.
func postMessage(ctx context.Context, hc *http.Client, base, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/chat/messages", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST /api/chat/messages: %s", resp.Status)
	}
	return nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func quoteList(ss []string, sep string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, sep) + "]"
}

// apiJSON is a message as a backend POSTs it: notifyd fills id, timestamp,
// channel and status.
func apiJSON(site, source string, targets []string, seq, phase int) []byte {
	return fmt.Appendf(nil, `{"host":%s,"action":"notify","category":%q,"title":"chaos %d",`+
		`"message":"phase %d seq %d","source":{"id":%s,"title":"Chaos"},"target":{"principals":%s},`+
		`"chaos_seq":%d,"chaos_phase":%d}`,
		quote(site), category, seq, phase, seq, quote(source), quoteList(targets, ","), seq, phase)
}

// pyamsJSON is a message as PyAMS's json.dumps writes it for a bare
// PUBLISH: Python separators, nulls, a timestamp and no id.
func pyamsJSON(site, channel, source string, targets []string, seq, phase int, now time.Time) []byte {
	return fmt.Appendf(nil, `{"host": %s, "channel": %s, "action": "notify", "category": %q, "status": "info", `+
		`"title": "chaos %d", "message": "phase %d seq %d", "image": null, "source": {"id": %s, "title": "Chaos"}, `+
		`"target": {"principals": %s}, "url": null, "modal": false, "timestamp": %q, "chaos_seq": %d, "chaos_phase": %d}`,
		quote(site), quote(channel), category, seq, phase, seq, quote(source), quoteList(targets, ", "),
		message.FormatTimestamp(now), seq, phase)
}
