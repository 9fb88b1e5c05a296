package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/message"
)

// Errors of a catch-up's wait for a history read. The connection ends (its
// writer sees it) or the replay reports a gap; neither reaches a client.
var (
	errReadTimeout = errors.New("wsgateway: history read: replay timeout")
	errConnClosing = errors.New("wsgateway: history read: connection closing")
)

// historyReads shares catch-up history reads between connections of one
// site, and bounds how many reads run at once (Config.ReplayConcurrency).
//
// No gap: a connection is registered in the hub (live messages queue for it)
// before it asks for a read, and it may only use a read that started after
// it registered: a message missing from such a read was stored after the
// read began, hence published, and delivered, after the connection was
// registered, so it is in the connection's queue. Registrations are
// numbered (seq; register is called once the connection is indexed, before
// its writer starts, and its result kept in conn.regSeq); a read records the
// number when it starts (historyRead.startSeq): a read that loads n started
// after every connection numbered up to n was indexed. A connection joins a
// running read only when read.startSeq >= conn.regSeq, or else joins the
// site's pending read (not started yet, so it will qualify) or creates it.
//
// Each read runs in its own goroutine, owned by historyReads and joined by
// Gateway.Shutdown (wg). It waits until the site's previous read has ended
// (one read per site at a time: the connections registered meanwhile all
// pile onto the next read, which makes a storm cost about one read per read
// duration instead of several overlapping ones fighting for the CPU), then
// for one of the ReplayConcurrency slots, records startSeq and calls
// History.List. Connections wait for it on their
// own terms (ReplayTimeout, their close); when the last one leaves, the read
// is cancelled, so it never outlives every connection that wanted it by more
// than History.List takes to notice its context.
type historyReads struct {
	// immutable after newHistoryReads
	history History
	timeout time.Duration // ReplayTimeout: bounds each wait and each read
	slots   chan struct{} // one token per running read
	stats   *counters     // historyReads and historyJoins

	seq atomic.Uint64  // registration numbers (register)
	wg  sync.WaitGroup // read goroutines

	mu sync.Mutex
	// guarded by mu
	sites map[string]*siteReads
}

// siteReads are the reads of one site that connections may still join.
type siteReads struct {
	running *historyRead // the most recently started read, until it ends
	pending *historyRead // a read not started yet (waiting for running to end, or for a slot); anyone may join it
}

// historyRead is one History.List call shared by the connections that wait
// for it.
type historyRead struct {
	// immutable after creation
	site   string
	ctx    context.Context // cancelled when the read ends or nobody waits for it
	cancel context.CancelFunc
	done   chan struct{} // closed once snap and err are set

	// owned by run: the site's read that was running when this one was
	// created (nil if none); cleared once it ended, so that reads do not
	// chain each other's snapshots
	after *historyRead

	// guarded by historyReads.mu
	startSeq uint64 // seq when the read started
	waiters  int    // connections waiting for the result

	// set before done is closed, read only after <-done
	snap *historySnapshot
	err  error
}

func newHistoryReads(h History, timeout time.Duration, concurrency int, stats *counters) *historyReads {
	return &historyReads{
		history: h,
		timeout: timeout,
		slots:   make(chan struct{}, concurrency),
		stats:   stats,
		sites:   make(map[string]*siteReads),
	}
}

// register numbers a connection that has just been indexed (live messages
// already queue for it); it may use only reads that start after this call.
func (hr *historyReads) register() uint64 { return hr.seq.Add(1) }

// wait returns a snapshot of c's site history read after c was registered.
// It gives up when ReplayTimeout has passed since it was called, or c is
// asked to close, or its reader ends, or ctx ends.
func (hr *historyReads) wait(ctx context.Context, c *conn) (*historySnapshot, error) {
	hr.mu.Lock()
	r := hr.joinLocked(c.site, c.regSeq)
	r.waiters++
	hr.mu.Unlock()

	t := time.NewTimer(hr.timeout)
	defer t.Stop()
	var err error
	select {
	case <-r.done:
		if r.err != nil {
			return nil, fmt.Errorf("wsgateway: history read %q: %w", c.site, r.err)
		}
		return r.snap, nil
	case <-t.C:
		err = errReadTimeout
	case <-c.closing:
		err = errConnClosing
	case <-c.readDone:
		err = errConnClosing
	case <-ctx.Done():
		err = fmt.Errorf("wsgateway: history read %q: %w", c.site, ctx.Err())
	}
	hr.leave(r)
	return nil, err
}

// joinLocked returns the read a connection registered at regSeq may use for
// site, starting one if needed.
func (hr *historyReads) joinLocked(site string, regSeq uint64) *historyRead {
	s := hr.sites[site]
	if s == nil {
		s = &siteReads{}
		hr.sites[site] = s
	}
	// The running read started last is the only candidate: older ones
	// started earlier still.
	if r := s.running; r != nil && r.startSeq >= regSeq {
		hr.stats.historyJoins.Add(1)
		return r
	}
	if r := s.pending; r != nil {
		hr.stats.historyJoins.Add(1)
		return r
	}
	r := &historyRead{site: site, done: make(chan struct{}), after: s.running}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	s.pending = r
	hr.wg.Go(func() { hr.run(r) })
	return r
}

// leave is called by a waiter that gives up on r; the last one cancels it.
func (hr *historyReads) leave(r *historyRead) {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	r.waiters--
	if r.waiters == 0 {
		hr.forgetLocked(r) // nobody may join a read that is being cancelled
		r.cancel()
	}
}

// run waits for a slot, then reads r's site history and publishes the
// result to r's waiters.
func (hr *historyReads) run(r *historyRead) {
	if r.after != nil {
		select {
		case <-r.after.done:
			r.after = nil
		case <-r.ctx.Done():
			hr.finish(r, nil, r.ctx.Err())
			return
		}
	}
	select {
	case hr.slots <- struct{}{}:
	case <-r.ctx.Done(): // nobody waits any more
		hr.finish(r, nil, r.ctx.Err())
		return
	}
	defer func() { <-hr.slots }()

	hr.mu.Lock()
	if err := r.ctx.Err(); err != nil { // abandoned while it got the slot
		hr.mu.Unlock()
		hr.finish(r, nil, err)
		return
	}
	// Under mu, so that no connection joins r as pending once startSeq is
	// taken: every connection that joined it as pending registered before.
	r.startSeq = hr.seq.Load()
	if s := hr.sites[r.site]; s != nil && s.pending == r {
		s.pending = nil
		s.running = r
	}
	hr.mu.Unlock()

	// The read's own bound, a safety net: every waiter also has its own.
	ctx, cancel := context.WithTimeout(r.ctx, hr.timeout)
	defer cancel()
	hr.stats.historyReads.Add(1)
	list, err := hr.history.List(ctx, r.site)
	if err != nil {
		hr.finish(r, nil, err)
		return
	}
	hr.finish(r, newHistorySnapshot(list), nil)
}

// finish publishes r's result and releases what it holds.
func (hr *historyReads) finish(r *historyRead, snap *historySnapshot, err error) {
	hr.mu.Lock()
	hr.forgetLocked(r)
	r.snap, r.err = snap, err
	hr.mu.Unlock()
	close(r.done)
	r.cancel()
}

// forgetLocked stops offering r to new connections.
func (hr *historyReads) forgetLocked(r *historyRead) {
	s := hr.sites[r.site]
	if s == nil {
		return
	}
	if s.running == r {
		s.running = nil
	}
	if s.pending == r {
		s.pending = nil
	}
	if s.running == nil && s.pending == nil {
		delete(hr.sites, r.site)
	}
}

// historySnapshot is the result of one history read, shared by every
// connection that waited for it. It is immutable: nobody may modify list,
// its messages, or the bytes pushAt returns; a connection that needs a
// filtered view builds its own.
type historySnapshot struct {
	list []*message.Message       // newest first, as History.List returned it
	push []atomic.Pointer[[]byte] // push[i]: list[i]'s push form, encoded on first use
}

func newHistorySnapshot(list []*message.Message) *historySnapshot {
	return &historySnapshot{list: list, push: make([]atomic.Pointer[[]byte], len(list))}
}

// pushAt returns the push form of list[i], encoded once per snapshot (two
// connections racing may both encode it; they get equal bytes).
func (s *historySnapshot) pushAt(i int) []byte {
	if p := s.push[i].Load(); p != nil {
		return *p
	}
	b := s.list[i].PushJSON()
	s.push[i].Store(&b)
	return b
}
