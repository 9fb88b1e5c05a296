package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/backoff"
	"github.com/notifyd/notifyd/internal/lograte"
)

// Timings of the dispatcher's Redis work.
const (
	// maxBlock bounds one blocking XREADGROUP, and so how long Run takes to
	// return once its context ends.
	maxBlock = time.Second
	// detachedTimeout bounds the acknowledgements and the consumer removal
	// that run after Run's context ended.
	detachedTimeout = 2 * time.Second
	// redisBackoffMin and redisBackoffMax bound a worker's waits while
	// Redis fails.
	redisBackoffMin = 50 * time.Millisecond
	redisBackoffMax = 5 * time.Second
	// warnEvery is the rate limit of each kind of Warn.
	warnEvery = time.Minute
)

// Dispatcher delivers the queued jobs: Config.Concurrency workers share the
// job stream with the dispatchers of every other gateway through one
// consumer group, so each job is taken by exactly one of them. New starts
// no goroutine; Run runs the workers.
type Dispatcher struct {
	// immutable after NewDispatcher
	rdb       redis.UniversalClient
	store     *Store
	cfg       Config
	keys      keys
	client    *http.Client
	transport *http.Transport
	block     time.Duration // one XREADGROUP's BLOCK
	claimGap  time.Duration // between two XAUTOCLAIMs that found nothing
	warn      *lograte.Limiter

	started   atomic.Bool
	nextClaim atomic.Int64 // Unix ns before which no worker runs XAUTOCLAIM

	// counters, updated atomically
	delivered, attempts, failed, gaveUp, refused atomic.Int64
	dropped, removed, claimed, lost, pending     atomic.Int64
}

// Stats are the counters of a Dispatcher (and of its Store's Enqueue) since
// they were created.
type Stats struct {
	Queued     int64 // jobs queued by the Store's Enqueue (one per matching registration)
	Duplicates int64 // events Enqueue found already queued (DedupWindow)
	Delivered  int64 // deliveries answered 2xx
	Attempts   int64 // POSTs started
	Failed     int64 // attempts that failed: network error, non-2xx answer, refused address
	GaveUp     int64 // deliveries abandoned: MaxAge passed, 410 or another permanent answer, refused address
	Refused    int64 // attempts refused at dial time because the address is not public
	Dropped    int64 // jobs dropped unattempted: registration deleted, job trimmed or malformed
	Removed    int64 // registrations removed because their URL answered 410 Gone
	Claimed    int64 // jobs taken over from a dispatcher that held them over ClaimIdle
	Lost       int64 // jobs this dispatcher stopped retrying because another took them over
	Pending    int64 // deliveries in progress on this dispatcher now, waits between retries included
}

// NewDispatcher returns a dispatcher of the jobs of store. cfg is read as
// by NewStore; its Key must be the store's. It does not contact Redis.
func NewDispatcher(rdb redis.UniversalClient, store *Store, cfg Config) (*Dispatcher, error) {
	if rdb == nil || store == nil {
		return nil, errors.New("webhook: nil redis client or store")
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Key != store.cfg.Key {
		return nil, fmt.Errorf("webhook: Key %q is not the store's %q", cfg.Key, store.cfg.Key)
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = dialControl
	}
	tr := &http.Transport{
		// No proxy: the dial-time check must see the receiver's address,
		// not a proxy's; an environment proxy would bypass it.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    cfg.Concurrency,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	client := &http.Client{
		Transport: tr,
		// Redirects are not followed: the answer is the 3xx, a permanent
		// failure. Following them would reach URLs never validated.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Dispatcher{
		rdb: rdb, store: store, cfg: cfg, keys: newKeys(cfg.Key),
		client: client, transport: tr,
		block:    min(maxBlock, cfg.ClaimIdle/4),
		claimGap: cfg.ClaimIdle / 4,
		warn:     lograte.New(warnEvery, nil),
	}, nil
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Queued: d.store.queued.Load(), Duplicates: d.store.duplicates.Load(),
		Delivered: d.delivered.Load(), Attempts: d.attempts.Load(), Failed: d.failed.Load(),
		GaveUp: d.gaveUp.Load(), Refused: d.refused.Load(), Dropped: d.dropped.Load(),
		Removed: d.removed.Load(), Claimed: d.claimed.Load(), Lost: d.lost.Load(),
		Pending: d.pending.Load(),
	}
}

// Run creates the consumer group if needed and runs Config.Concurrency
// workers until ctx ends; it returns nil then, once every goroutine it
// started has stopped (within about a second: a blocking read or a POST in
// flight is cut by ctx). A job in progress when ctx ends is left in the
// group's pending list, unacknowledged: another dispatcher takes it over
// after ClaimIdle. Run may be called once.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("webhook: dispatcher: Run called twice")
	}
	defer d.transport.CloseIdleConnections()
	d.cfg.Logger.Info("webhook: dispatcher running", "consumer", d.cfg.Consumer, "concurrency", d.cfg.Concurrency)
	var wg sync.WaitGroup
	for range d.cfg.Concurrency {
		wg.Go(func() { d.work(ctx) })
	}
	wg.Wait()
	d.leave(ctx)
	d.cfg.Logger.Info("webhook: dispatcher stopped", "consumer", d.cfg.Consumer)
	return nil
}

// work is one worker: take a job, deliver it, until ctx ends.
func (d *Dispatcher) work(ctx context.Context) {
	b := backoff.Backoff{Min: redisBackoffMin, Max: redisBackoffMax, Jitter: backoff.Equal}
	for ctx.Err() == nil {
		j, ok, err := d.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				err = d.createGroup(ctx)
			}
			if err != nil {
				d.warn.WarnOrDebug(d.cfg.Logger, "redis", "webhook: read jobs", "err", err)
				backoff.Sleep(ctx, b.Next())
			}
			continue
		}
		b.Reset()
		if ok {
			d.handle(ctx, j)
		}
	}
}

// createGroup creates the consumer group (and the stream) if absent; the
// group starts at the beginning, so jobs queued before any dispatcher ran
// are delivered.
func (d *Dispatcher) createGroup(ctx context.Context) error {
	err := d.rdb.XGroupCreateMkStream(ctx, d.keys.stream, group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}

// next returns a job taken over from a dead dispatcher, else a new one,
// else (after blocking up to d.block) none.
func (d *Dispatcher) next(ctx context.Context) (job, bool, error) {
	if j, ok, err := d.claim(ctx); err != nil || ok {
		return j, ok, err
	}
	res, err := d.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: d.cfg.Consumer, Streams: []string{d.keys.stream, ">"},
		Count: 1, Block: d.block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return job{}, false, nil
	}
	if err != nil {
		return job{}, false, err
	}
	for _, st := range res {
		for _, m := range st.Messages {
			return parseJob(m), true, nil
		}
	}
	return job{}, false, nil
}

// claim takes over one job idle for ClaimIdle, at most once per claimGap
// per dispatcher while there are none.
func (d *Dispatcher) claim(ctx context.Context) (job, bool, error) {
	now := time.Now().UnixNano()
	next := d.nextClaim.Load()
	if now < next || !d.nextClaim.CompareAndSwap(next, now+int64(d.claimGap)) {
		return job{}, false, nil
	}
	msgs, _, err := d.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: d.keys.stream, Group: group, Consumer: d.cfg.Consumer,
		MinIdle: d.cfg.ClaimIdle, Start: "0-0", Count: 1,
	}).Result()
	if err != nil || len(msgs) == 0 {
		return job{}, false, err
	}
	d.nextClaim.Store(now) // there may be more: the next worker looks at once
	d.claimed.Add(1)
	j := parseJob(msgs[0])
	d.cfg.Logger.Debug("webhook: job taken over", "delivery", j.id, "host", j.host)
	return j, true, nil
}

// refresh resets the idle time of j if this dispatcher still holds it.
func (d *Dispatcher) refresh(ctx context.Context, j job) (bool, error) {
	n, err := refreshScript.Run(ctx, d.rdb, []string{d.keys.stream}, group, d.cfg.Consumer, j.id).Int()
	return n == 1, err
}

// ack acknowledges and deletes j, even after ctx ended: the delivery was
// decided.
func (d *Dispatcher) ack(ctx context.Context, j job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	if err := ackScript.Run(ctx, d.rdb, []string{d.keys.stream}, group, j.id).Err(); err != nil {
		// The job stays pending: it will be taken over and delivered again
		// with the same delivery id.
		d.warn.WarnOrDebug(d.cfg.Logger, "ack", "webhook: acknowledge job", "delivery", j.id, "err", err)
	}
}

// leave removes this consumer from the group when it holds no job.
func (d *Dispatcher) leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	if err := leaveScript.Run(ctx, d.rdb, []string{d.keys.stream}, group, d.cfg.Consumer).Err(); err != nil &&
		!errors.Is(err, redis.Nil) && !strings.HasPrefix(err.Error(), "NOGROUP") {
		d.cfg.Logger.Debug("webhook: leave consumer group", "err", err)
	}
}

// job is one stream entry: one delivery of one event to one registration.
type job struct {
	id    string // stream entry id: the delivery id
	host  string
	reg   string
	space string
	event string
	at    time.Time // when it was enqueued
	body  []byte
	valid bool // every field was present
}

func parseJob(m redis.XMessage) job {
	j := job{id: m.ID}
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	j.host, j.reg, j.space, j.event = str("h"), str("r"), str("s"), str("e")
	j.body = []byte(str("b"))
	ms, err := strconv.ParseInt(str("t"), 10, 64)
	j.at = time.UnixMilli(ms)
	j.valid = err == nil && j.host != "" && j.reg != "" && j.event != ""
	return j
}
