package webhook

import (
	"cmp"
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
	// minPromote and maxPromote bound the period of the retry set's check.
	minPromote = 10 * time.Millisecond
	maxPromote = time.Second
	// promoteBatch is how many due jobs one promoteScript moves.
	promoteBatch = 100
	// pruneBatch bounds the consumers one prune deletes.
	pruneBatch = 100
	// warnEvery is the rate limit of each kind of Warn.
	warnEvery = time.Minute
)

// Dispatcher delivers the queued jobs: one reader takes jobs from the
// stream for Config.Concurrency workers, sharing it with the dispatchers of
// every other gateway through one consumer group, so each job is taken by
// exactly one of them. NewDispatcher starts no goroutine; Run runs them.
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
	backoff   backoff.Backoff // only its Delay is used: safe for concurrent use
	promote   time.Duration   // between two runs of promoteScript

	breaker breaker

	started atomic.Bool

	// counters, updated atomically
	delivered, attempts, failed, gaveUp, refused atomic.Int64
	dropped, removed, claimed, lost, pending     atomic.Int64
	retries, deferred                            atomic.Int64
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
	Retries    int64 // jobs moved to the retry set after a failed attempt
	Deferred   int64 // jobs moved to the retry set unattempted: their endpoint failed just before
	Claimed    int64 // jobs taken over from a dispatcher that held them over ClaimIdle
	Lost       int64 // jobs found taken over by another dispatcher when this one settled them
	Pending    int64 // attempts in progress on this dispatcher now
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
		backoff:  backoff.Backoff{Min: cfg.BackoffMin, Max: cfg.BackoffMax, Jitter: backoff.Equal},
		promote:  min(max(cfg.BackoffMin/2, minPromote), maxPromote),
	}, nil
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Queued: d.store.queued.Load(), Duplicates: d.store.duplicates.Load(),
		Delivered: d.delivered.Load(), Attempts: d.attempts.Load(), Failed: d.failed.Load(),
		GaveUp: d.gaveUp.Load(), Refused: d.refused.Load(), Dropped: d.dropped.Load(),
		Removed: d.removed.Load(), Retries: d.retries.Load(), Deferred: d.deferred.Load(),
		Claimed: d.claimed.Load(), Lost: d.lost.Load(), Pending: d.pending.Load(),
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
	jobs := make(chan job, d.cfg.Concurrency)
	idle := make(chan struct{}, d.cfg.Concurrency) // one token per idle worker
	var wg sync.WaitGroup
	for range d.cfg.Concurrency {
		idle <- struct{}{}
		wg.Go(func() {
			for j := range jobs {
				if ctx.Err() == nil { // else left pending, for a takeover
					d.handle(ctx, j)
				}
				idle <- struct{}{}
			}
		})
	}
	wg.Go(func() {
		defer close(jobs)
		d.read(ctx, idle, jobs)
	})
	wg.Go(func() { d.promoteLoop(ctx) })
	wg.Wait()
	d.leave(ctx)
	d.cfg.Logger.Info("webhook: dispatcher stopped", "consumer", d.cfg.Consumer)
	return nil
}

// read is the one reader of a dispatcher: it waits for idle workers, then
// takes as many jobs as there are idle workers (jobs taken over first, then
// new ones, blocking up to d.block) and hands them over, until ctx ends. It
// only takes a job for a worker that is idle, so a job never waits long in
// this dispatcher's hands before its attempt.
func (d *Dispatcher) read(ctx context.Context, idle chan struct{}, jobs chan<- job) {
	b := backoff.Backoff{Min: redisBackoffMin, Max: redisBackoffMax, Jitter: backoff.Equal}
	var claims claimer
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle:
		}
		n := 1
	more:
		for n < d.cfg.Concurrency {
			select {
			case <-idle:
				n++
			default:
				break more
			}
		}
		got, err := d.take(ctx, &claims, n)
		for _, j := range got {
			jobs <- j // never blocks: n workers are idle
		}
		for range n - len(got) {
			idle <- struct{}{}
		}
		switch {
		case err == nil:
			b.Reset()
		case ctx.Err() != nil:
			return
		default:
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				err = d.createGroup(ctx)
			}
			if err != nil {
				d.warn.WarnOrDebug(d.cfg.Logger, "redis", "webhook: read jobs", "err", err)
				backoff.Sleep(ctx, b.Next())
			}
		}
	}
}

// promoteLoop moves the jobs due for a retry back to the stream every
// d.promote until ctx ends.
func (d *Dispatcher) promoteLoop(ctx context.Context) {
	t := time.NewTicker(d.promote)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := promoteScript.Run(ctx, d.rdb, []string{d.keys.stream, d.keys.retry},
				d.cfg.Now().UnixMilli(), promoteBatch, d.cfg.StreamLength).Int()
			if err != nil && ctx.Err() == nil {
				d.warn.WarnOrDebug(d.cfg.Logger, "promote", "webhook: move due retries", "err", err)
			}
			if err != nil || n < promoteBatch {
				break
			}
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

// claimer is the state of the reader's takeovers.
type claimer struct {
	next time.Time // no XAUTOCLAIM before
	from string    // where the next XAUTOCLAIM starts ("" or "0-0": the beginning)
}

// take returns up to n jobs: those taken over from dead dispatchers, else
// new ones (after blocking up to d.block), else none.
func (d *Dispatcher) take(ctx context.Context, c *claimer, n int) ([]job, error) {
	if got, err := d.claim(ctx, c, n); err != nil || len(got) > 0 {
		return got, err
	}
	res, err := d.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: d.cfg.Consumer, Streams: []string{d.keys.stream, ">"},
		Count: int64(n), Block: d.block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var got []job
	for _, st := range res {
		for _, m := range st.Messages {
			got = append(got, parseJob(m))
		}
	}
	return got, nil
}

// claim takes over up to n jobs idle for ClaimIdle, at most once per
// claimGap while there are none. Successive calls walk the pending list
// from where the last stopped (XAUTOCLAIM scans at most 10 entries per
// job asked), so jobs held by a dead dispatcher behind many live ones are
// found.
func (d *Dispatcher) claim(ctx context.Context, c *claimer, n int) ([]job, error) {
	now := time.Now()
	if now.Before(c.next) {
		return nil, nil
	}
	msgs, cursor, err := d.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: d.keys.stream, Group: group, Consumer: d.cfg.Consumer,
		MinIdle: d.cfg.ClaimIdle, Start: cmp.Or(c.from, "0-0"), Count: int64(n),
	}).Result()
	if err != nil {
		return nil, err
	}
	c.from = cursor
	c.next = now.Add(d.claimGap)
	if cursor != "0-0" || len(msgs) > 0 {
		c.next = now // the scan is not over: go on at once
	} else {
		d.prune(ctx)
	}
	got := make([]job, 0, len(msgs))
	for _, m := range msgs {
		j := parseJob(m)
		got = append(got, j)
		d.cfg.Logger.Debug("webhook: job taken over", "delivery", j.delivery, "host", j.host)
	}
	d.claimed.Add(int64(len(got)))
	return got, nil
}

// prune deletes the consumers of dead dispatchers that hold no job (see
// pruneScript); it runs once per full scan of the pending list.
func (d *Dispatcher) prune(ctx context.Context) {
	n, err := pruneScript.Run(ctx, d.rdb, []string{d.keys.stream}, group, d.cfg.ClaimIdle.Milliseconds(), pruneBatch).Int()
	if err != nil {
		d.cfg.Logger.Debug("webhook: prune consumers", "err", err)
	} else if n > 0 {
		d.cfg.Logger.Debug("webhook: pruned consumers", "count", n)
	}
}

// ack acknowledges and deletes j, even after ctx ended: the delivery was
// decided.
func (d *Dispatcher) ack(ctx context.Context, j job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	if err := ackScript.Run(ctx, d.rdb, []string{d.keys.stream}, group, j.id).Err(); err != nil {
		// The job stays pending: it will be taken over and delivered again
		// with the same delivery id.
		d.warn.WarnOrDebug(d.cfg.Logger, "ack", "webhook: acknowledge job", "delivery", j.delivery, "err", err)
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
	id       string // stream entry id
	delivery string // the delivery id: the first entry's id, kept by retries
	attempts int    // attempts made before this entry
	host     string
	reg      string
	space    string
	event    string
	t        string    // enqueue time, Unix ms, as stored
	at       time.Time // enqueue time
	body     []byte
	valid    bool // every field was present
}

func parseJob(m redis.XMessage) job {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	j := job{id: m.ID, delivery: str("d"), host: str("h"), reg: str("r"), space: str("s"), event: str("e"),
		t: str("t"), body: []byte(str("b"))}
	if j.delivery == "" {
		j.delivery = j.id
	}
	ms, err := strconv.ParseInt(j.t, 10, 64)
	j.at = time.UnixMilli(ms)
	n, errN := strconv.Atoi(cmp.Or(str("n"), "0"))
	j.attempts = n
	j.valid = err == nil && errN == nil && n >= 0 && j.host != "" && j.reg != "" && j.event != ""
	return j
}

// payload is j's fields with attempts made, as netstrings ("<len>:<bytes>,"
// for each name and value), the form promoteScript reads back.
func (j job) payload(attempts int) string {
	var b strings.Builder
	for _, f := range [...]string{"h", j.host, "r", j.reg, "s", j.space, "e", j.event, "t", j.t,
		"b", string(j.body), "d", j.delivery, "n", strconv.Itoa(attempts)} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte(',')
	}
	return b.String()
}

// Backlog is the shared queue as Redis holds it, for every gateway.
type Backlog struct {
	Stream   int64 // jobs in the stream: new, or held by a dispatcher for an attempt
	Held     int64 // of those, jobs held by a dispatcher (the group's pending list)
	Retrying int64 // jobs waiting in the retry set
}

// Backlog reads the shared queue's sizes, for metrics (three commands in
// one slot, one round trip). Errors match ErrUnavailable.
func (d *Dispatcher) Backlog(ctx context.Context) (Backlog, error) {
	pipe := d.rdb.Pipeline()
	stream := pipe.XLen(ctx, d.keys.stream)
	held := pipe.XPending(ctx, d.keys.stream, group)
	retrying := pipe.ZCard(ctx, d.keys.retry)
	_, _ = pipe.Exec(ctx)
	var b Backlog
	var err error
	b.Stream, err = stream.Result()
	if err == nil {
		b.Retrying, err = retrying.Result()
	}
	if err == nil {
		var p *redis.XPending
		p, err = held.Result()
		if err == nil {
			b.Held = p.Count
		} else if strings.HasPrefix(err.Error(), "NOGROUP") {
			err = nil // no dispatcher ran yet
		}
	}
	if err != nil {
		return Backlog{}, d.store.fail(ctx, "backlog", err)
	}
	return b, nil
}
