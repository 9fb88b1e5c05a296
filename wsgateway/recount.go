package wsgateway

import (
	"context"
	"sync"
	"time"

	"github.com/notifyd/notifyd/history"
)

// recounter recounts the badges of connected users after a retract
// (DeliverRetract): one Inbox.Count per user and site, at most
// RecountConcurrency at a time, each result handed to set (InboxChanged's
// path: the user's connections get the inbox frame). Requests for a user
// already waiting are merged. Its goroutines are started on demand (New
// starts none), owned by the recounter, and joined by close, which
// Gateway.Shutdown calls.
type recounter struct {
	// immutable after newRecounter
	inbox   Inbox
	timeout time.Duration
	max     int
	set     func(host, user string, c history.Counts)
	fail    func(err error)
	stats   *counters
	ctx     context.Context // cancelled by close; the workers' calls use it
	cancel  context.CancelFunc

	wg sync.WaitGroup // workers

	mu sync.Mutex
	// guarded by mu
	queue   []history.Reader     // waiting recounts, oldest first
	waiting map[userKey]struct{} // the users in queue
	running int                  // workers
	closed  bool                 // close was called: schedule does nothing
}

func newRecounter(in Inbox, timeout time.Duration, max int, stats *counters,
	set func(host, user string, c history.Counts), fail func(error)) *recounter {
	ctx, cancel := context.WithCancel(context.Background())
	return &recounter{
		inbox: in, timeout: timeout, max: max, set: set, fail: fail, stats: stats,
		ctx: ctx, cancel: cancel, waiting: make(map[userKey]struct{}),
	}
}

// schedule asks for a recount of r's user on r's site. It never blocks.
func (rc *recounter) schedule(r history.Reader) {
	k := userKey{r.Host, r.User}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.closed {
		return
	}
	if _, ok := rc.waiting[k]; ok {
		return
	}
	rc.waiting[k] = struct{}{}
	rc.queue = append(rc.queue, r)
	if rc.running < rc.max {
		rc.running++
		rc.wg.Go(rc.work)
	}
}

// work recounts queued users until the queue is empty.
func (rc *recounter) work() {
	for {
		rc.mu.Lock()
		if len(rc.queue) == 0 || rc.ctx.Err() != nil {
			rc.running--
			rc.mu.Unlock()
			return
		}
		r := rc.queue[0]
		rc.queue[0] = history.Reader{}
		rc.queue = rc.queue[1:]
		delete(rc.waiting, userKey{r.Host, r.User})
		rc.mu.Unlock()

		ctx, cancel := context.WithTimeout(rc.ctx, rc.timeout)
		c, err := rc.inbox.Count(ctx, r)
		cancel()
		rc.stats.recounts.Add(1)
		if err != nil {
			rc.fail(err)
			continue
		}
		rc.set(r.Host, r.User, c)
	}
}

// close cancels running recounts, drops waiting ones and joins the
// workers. Later calls only join.
func (rc *recounter) close() {
	rc.mu.Lock()
	rc.closed = true
	rc.queue = nil
	clear(rc.waiting)
	rc.mu.Unlock()
	rc.cancel()
	rc.wg.Wait()
}
