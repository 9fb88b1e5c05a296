package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Defaults of Config.
const (
	// DefaultKey prefixes every Redis key of the package.
	DefaultKey = "notifyd:webhooks"
	// DefaultTimeout bounds one POST, from dial to the response headers and
	// the bounded read of its body.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxAge is how long after Enqueue a delivery is still tried.
	DefaultMaxAge = 10 * time.Minute
	// DefaultBackoffMin is the ceiling of the wait after the first failed
	// attempt of a delivery.
	DefaultBackoffMin = time.Second
	// DefaultBackoffMax caps the wait between two attempts, a Retry-After
	// included.
	DefaultBackoffMax = time.Minute
	// DefaultConcurrency is how many deliveries one Dispatcher runs at once.
	DefaultConcurrency = 8
	// DefaultClaimIdle is how long a job must sit in the pending list of a
	// consumer (a dispatcher) before another takes it over: well above
	// DefaultTimeout, the longest a live dispatcher holds a job.
	DefaultClaimIdle = time.Minute
	// DefaultDedupWindow is how long Enqueue remembers an event (host and
	// message id) so that the same message enqueued again queues nothing.
	DefaultDedupWindow = time.Hour
	// DefaultCacheTTL is how long Enqueue reuses a site's registrations read
	// from Redis: a registration made or deleted on another gateway is seen
	// by this one's Enqueue at most this late.
	DefaultCacheTTL = time.Second
	// DefaultStreamLength caps the job stream (approximately, MAXLEN ~):
	// delivered and abandoned jobs are deleted at once, so the cap only
	// matters when the backlog of undelivered jobs exceeds it, and then the
	// oldest jobs are dropped.
	DefaultStreamLength = 100_000
	// DefaultMaxPerOwner bounds the registrations of one owner on one site.
	DefaultMaxPerOwner = 50
	// DefaultMaxBody bounds the Body of an Event.
	DefaultMaxBody = 1 << 20
)

// Config configures a Store and a Dispatcher. A Dispatcher must be given
// the Key of its Store. Zero values mean the defaults named per field;
// withDefaults applies them all, in one place.
type Config struct {
	// Key prefixes every Redis key (see the package documentation).
	// Default DefaultKey. It must not contain '{' or '}'.
	Key string
	// AllowPrivate lets webhook URLs resolve to loopback, private,
	// link-local and other non-public addresses, at registration and at
	// dial time (cmd/notifyd: NOTIFYD_WEBHOOK_ALLOW_PRIVATE=true). Only for
	// single-host setups and tests. Default false.
	AllowPrivate bool
	// Timeout bounds one POST. Default DefaultTimeout.
	Timeout time.Duration
	// MaxAge is how long after Enqueue a delivery is tried; a job older than
	// that is given up instead of attempted. Default DefaultMaxAge.
	MaxAge time.Duration
	// BackoffMin and BackoffMax bound the wait between attempts: the n-th
	// wait is drawn in [c/2, c] with c = min(BackoffMax, BackoffMin*2^n)
	// (internal/backoff, Equal jitter); a receiver's Retry-After lengthens
	// it up to BackoffMax. A waiting job holds no worker: it sits in the
	// retry set, checked every BackoffMin/2 (10ms to 1s). Defaults
	// DefaultBackoffMin, DefaultBackoffMax.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// Concurrency is how many deliveries one Dispatcher runs at once.
	// Default DefaultConcurrency.
	Concurrency int
	// ClaimIdle is how long a job must sit in a dispatcher's pending list
	// before another dispatcher takes it over (the one holding it is deemed
	// dead). A live dispatcher holds a job for one attempt only (retries
	// wait in the retry set), so it must exceed Timeout; keep it well above.
	// Default DefaultClaimIdle.
	ClaimIdle time.Duration
	// Consumer names this Dispatcher in the Redis consumer group; it must be
	// unique among the running dispatchers. Default hostname-pid-random.
	Consumer string
	// DedupWindow is how long Enqueue remembers an event. Default
	// DefaultDedupWindow.
	DedupWindow time.Duration
	// CacheTTL is how long Enqueue reuses a site's registrations; negative
	// disables the cache. Default DefaultCacheTTL.
	CacheTTL time.Duration
	// StreamLength caps the job stream. Default DefaultStreamLength.
	StreamLength int64
	// MaxPerOwner bounds the registrations of one owner on one site.
	// Default DefaultMaxPerOwner.
	MaxPerOwner int
	// MaxBody bounds Event.Body. Default DefaultMaxBody.
	MaxBody int
	// Logger receives Info lifecycle logs, rate-limited Warns about Redis
	// and given-up deliveries, and Debug logs per attempt. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// LookupIP resolves a URL's host name at registration. Default
	// net.DefaultResolver.LookupNetIP(ctx, "ip", host). Tests set it to
	// play a DNS that answers differently at registration and at delivery.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Key = cmp.Or(c.Key, DefaultKey)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.MaxAge = cmp.Or(c.MaxAge, DefaultMaxAge)
	c.BackoffMin = cmp.Or(c.BackoffMin, DefaultBackoffMin)
	c.BackoffMax = cmp.Or(c.BackoffMax, DefaultBackoffMax)
	c.Concurrency = cmp.Or(c.Concurrency, DefaultConcurrency)
	c.ClaimIdle = cmp.Or(c.ClaimIdle, DefaultClaimIdle)
	c.Consumer = cmp.Or(c.Consumer, defaultConsumer())
	c.DedupWindow = cmp.Or(c.DedupWindow, DefaultDedupWindow)
	c.CacheTTL = cmp.Or(c.CacheTTL, DefaultCacheTTL)
	c.StreamLength = cmp.Or(c.StreamLength, DefaultStreamLength)
	c.MaxPerOwner = cmp.Or(c.MaxPerOwner, DefaultMaxPerOwner)
	c.MaxBody = cmp.Or(c.MaxBody, DefaultMaxBody)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.LookupIP == nil {
		c.LookupIP = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return c
}

// check validates c once defaults are applied; each error names its field.
func (c Config) check() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d < time.Millisecond {
			errs = append(errs, fmt.Errorf("webhook: %s %v is under a millisecond", name, d))
		}
	}
	if strings.ContainsAny(c.Key, "{}") {
		errs = append(errs, fmt.Errorf("webhook: Key %q must not contain braces", c.Key))
	}
	positive("Timeout", c.Timeout)
	positive("MaxAge", c.MaxAge)
	positive("BackoffMin", c.BackoffMin)
	positive("BackoffMax", c.BackoffMax)
	positive("DedupWindow", c.DedupWindow)
	if c.BackoffMax < c.BackoffMin {
		errs = append(errs, fmt.Errorf("webhook: BackoffMax %v is under BackoffMin %v", c.BackoffMax, c.BackoffMin))
	}
	if c.ClaimIdle <= c.Timeout {
		errs = append(errs, fmt.Errorf("webhook: ClaimIdle %v must exceed Timeout %v", c.ClaimIdle, c.Timeout))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("webhook: Concurrency %d is under 1", c.Concurrency))
	}
	if c.StreamLength < 1 {
		errs = append(errs, fmt.Errorf("webhook: StreamLength %d is under 1", c.StreamLength))
	}
	if c.MaxPerOwner < 1 {
		errs = append(errs, fmt.Errorf("webhook: MaxPerOwner %d is under 1", c.MaxPerOwner))
	}
	if c.MaxBody < 1 {
		errs = append(errs, fmt.Errorf("webhook: MaxBody %d is under 1", c.MaxBody))
	}
	if c.Consumer == "" || len(c.Consumer) > 200 {
		errs = append(errs, fmt.Errorf("webhook: Consumer %q is empty or longer than 200 bytes", c.Consumer))
	}
	return errors.Join(errs...)
}

// defaultConsumer is hostname-pid-random: unique even for two dispatchers
// of one process, or a restarted container that keeps its hostname and pid.
func defaultConsumer() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "notifyd"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomID()[:8])
}
