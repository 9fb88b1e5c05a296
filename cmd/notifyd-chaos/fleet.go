package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/message"
)

// groups is how many shared groups the clients are spread over.
const groups = 4

// tracked is one client whose deliveries are accounted for.
type tracked struct {
	// immutable after newFleet
	index     int
	recipient message.Recipient
	client    *client.Client

	gateway     atomic.Int32 // index of the gateway it is connected to; -1 while not connected
	connectedAt atomic.Int64 // unix nanoseconds of its latest connection

	mu      sync.Mutex
	got     map[int]*receipt // guarded by mu: seq -> receipt
	order   []int            // guarded by mu: seqs in the order the application first got them
	last    int              // guarded by mu: seq of the latest message received, -1 before any
	resumes []resume         // guarded by mu: the client's disconnects

	tcp cutter // its dialer (the order fault cuts its connection)
}

// cut closes the client's latest connection: it reconnects with since.
func (t *tracked) cut() bool { return t.tcp.cut() }

// received returns the seqs t's application got, in the order it got them.
func (t *tracked) received() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.order)
}

// resume is a disconnect of a tracked client and the newest message it had
// then: the cursor its reconnection resumed from.
type resume struct {
	at    time.Time
	after int // seq of the last message received before, -1 if none
}

// receipt is how often, and first when, a client's application got a message.
type receipt struct {
	n     int
	first time.Time
}

// fleet is the tracked clients and the goroutines that run them.
type fleet struct {
	clients []*tracked
	urls    []string // gateway websocket URLs

	// garbage and protocol oddities seen by any client
	garbage     sync.Map // kind (string) -> *atomic.Int64 deliveries
	invalidUTF8 atomic.Int64
	untracked   atomic.Int64 // messages without a chaos sequence number

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func principalOf(i int) string { return fmt.Sprintf("users:c%03d", i) }
func groupOf(i int) string     { return fmt.Sprintf("group:g%d", i%groups) }

// forwardedFor gives client i an address of its own (10.0.0.0/8).
func forwardedFor(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
}

// newFleet builds n clients, client i homed on gateway i%len(urls) with
// the others as fallbacks. Each gets a fresh token on every (re)connect.
func newFleet(n int, urls []string, site string, secret []byte, hc *http.Client, log *slog.Logger) (*fleet, error) {
	f := &fleet{urls: urls}
	for i := range n {
		t := &tracked{index: i, got: map[int]*receipt{}, last: -1}
		t.gateway.Store(-1)
		// Its own transport, so that its connection can be cut alone.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if base, ok := hc.Transport.(*http.Transport); ok {
			tr = base.Clone()
		}
		tr.DialContext = t.tcp.dial
		p := principalOf(i)
		t.recipient = message.Recipient{Host: site, Principal: p,
			Principals: []string{p, groupOf(i), message.Everyone, message.Authenticated}}
		home := i % len(urls)
		var fallbacks []string
		for k := 1; k < len(urls); k++ {
			fallbacks = append(fallbacks, urls[(home+k)%len(urls)])
		}
		c, err := client.New(client.Config{
			URL: urls[home], Fallbacks: fallbacks, Origin: site,
			Header:     http.Header{"X-Forwarded-For": {forwardedFor(i)}},
			HTTPClient: &http.Client{Transport: tr, Timeout: hc.Timeout}, Logger: log.With("client", p),
			Token: func(context.Context) (string, error) {
				return auth.Mint(secret, p, "", []string{groupOf(i)}, time.Now(), time.Hour)
			},
			OnMessage: func(m *message.Message, raw []byte) { f.record(t, m, raw) },
			OnConnect: func(url string) {
				t.connectedAt.Store(time.Now().UnixNano())
				t.gateway.Store(int32(f.urlIndex(url)))
			},
			OnDisconnect: func(string, error) {
				t.gateway.Store(-1)
				t.mu.Lock()
				defer t.mu.Unlock()
				t.resumes = append(t.resumes, resume{at: time.Now(), after: t.last})
			},
		})
		if err != nil {
			return nil, err
		}
		t.client = c
		f.clients = append(f.clients, t)
	}
	return f, nil
}

func (f *fleet) urlIndex(url string) int {
	for i, u := range f.urls {
		if u == url {
			return i
		}
	}
	return -1
}

// start runs every client until stop.
func (f *fleet) start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(ctx)
	for _, t := range f.clients {
		f.wg.Go(func() { _ = t.client.Run(ctx) })
	}
}

// stop ends every client and joins them.
func (f *fleet) stop() {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
}

// waitConnected waits until every client is connected.
func (f *fleet) waitConnected(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, func() bool { return f.connected() == len(f.clients) }, "clients connected")
}

func (f *fleet) connected() int {
	n := 0
	for _, t := range f.clients {
		if t.gateway.Load() >= 0 {
			n++
		}
	}
	return n
}

// perGateway counts connected clients by gateway.
func (f *fleet) perGateway() []int {
	out := make([]int, len(f.urls))
	for _, t := range f.clients {
		if g := t.gateway.Load(); g >= 0 {
			out[g]++
		}
	}
	return out
}

// record is every client's OnMessage.
func (f *fleet) record(t *tracked, m *message.Message, raw []byte) {
	if !utf8.Valid(raw) {
		f.invalidUTF8.Add(1)
	}
	if kind, ok := extraString(m, "chaos_garbage"); ok {
		v, _ := f.garbage.LoadOrStore(kind, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		return
	}
	seq, ok := extraInt(m, "chaos_seq")
	if !ok {
		f.untracked.Add(1)
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.got[seq]
	if r == nil {
		r = &receipt{first: now}
		t.got[seq] = r
		t.order = append(t.order, seq)
		t.last = seq
	}
	r.n++
}

// resumedAfter returns the cursor of t's latest disconnect before at, if any.
func (t *tracked) resumedAfter(at time.Time) (resume, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.resumes) - 1; i >= 0; i-- {
		if t.resumes[i].at.Before(at) {
			return t.resumes[i], true
		}
	}
	return resume{}, false
}

// receipt returns a copy of client t's receipt of seq.
func (t *tracked) receipt(seq int) (receipt, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.got[seq]
	if !ok {
		return receipt{}, false
	}
	return *r, true
}

// seqs returns the sequence numbers t received.
func (t *tracked) seqs() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]int, 0, len(t.got))
	for s := range t.got {
		out = append(out, s)
	}
	return out
}

// garbageCounts snapshots the garbage deliveries by kind.
func (f *fleet) garbageCounts() map[string]int64 {
	out := map[string]int64{}
	f.garbage.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func extraInt(m *message.Message, key string) (int, bool) {
	raw, ok := m.Extra[key]
	if !ok {
		return 0, false
	}
	var n int
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	return n, true
}

func extraString(m *message.Message, key string) (string, bool) {
	raw, ok := m.Extra[key]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
