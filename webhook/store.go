package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event is one new space message, as the caller (the space's send path)
// hands it to Enqueue once it is stored.
type Event struct {
	Host  string // the site
	Space string // the space id
	ID    string // the message id (unique on the site)
	Body  []byte // the JSON document to POST (built by the caller)
}

// Store keeps the registrations of every site and queues deliveries. It is
// safe for concurrent use and starts no goroutine.
type Store struct {
	// immutable after NewStore
	rdb  redis.UniversalClient
	cfg  Config
	keys keys

	cache siteCache

	// counters, updated atomically
	queued     atomic.Int64
	duplicates atomic.Int64
}

// NewStore returns a Store on rdb. It does not contact Redis.
func NewStore(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("webhook: nil redis client")
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Store{rdb: rdb, cfg: cfg, keys: newKeys(cfg.Key), cache: siteCache{sites: map[string]cached{}}}, nil
}

// Enqueue queues one delivery job per registration of e.Host that watches
// e.Space, and returns how many. An event already enqueued within
// Config.DedupWindow (same Host and ID, from any gateway) queues nothing
// and returns 0. Registrations are read from Redis at most Config.CacheTTL
// ago (a second by default): one made or deleted on another gateway may be
// missed or used for that long; this Store's own Register and Delete are
// seen at once. Errors match ErrInvalid or ErrUnavailable.
func (s *Store) Enqueue(ctx context.Context, e Event) (int, error) {
	host, err := normalizeHost(e.Host)
	if err != nil {
		return 0, err
	}
	switch {
	case e.Space == "" || len(e.Space) > MaxSpaceID:
		return 0, fmt.Errorf("%w: event space is empty or longer than %d bytes", ErrInvalid, MaxSpaceID)
	case e.ID == "" || len(e.ID) > 256:
		return 0, fmt.Errorf("%w: event id is empty or longer than 256 bytes", ErrInvalid)
	case len(e.Body) > s.cfg.MaxBody:
		return 0, fmt.Errorf("%w: event body is %d bytes, over %d", ErrInvalid, len(e.Body), s.cfg.MaxBody)
	}
	regs, err := s.registrations(ctx, host)
	if err != nil {
		return 0, err
	}
	args := []any{s.cfg.DedupWindow.Milliseconds(), s.cfg.StreamLength, host, e.Space, e.ID,
		s.cfg.Now().UnixMilli(), e.Body}
	base := len(args)
	for _, r := range regs {
		if r.watches(e.Space) {
			args = append(args, r.ID)
		}
	}
	if len(args) == base {
		return 0, nil
	}
	n, err := enqueueScript.Run(ctx, s.rdb, []string{s.keys.stream, s.keys.seen(host, e.ID)}, args...).Int()
	if err != nil {
		return 0, s.fail(ctx, "enqueue", err)
	}
	if n == 0 {
		s.duplicates.Add(1)
	}
	s.queued.Add(int64(n))
	return n, nil
}

// registrations returns every registration of host, cached for CacheTTL.
func (s *Store) registrations(ctx context.Context, host string) ([]Registration, error) {
	now := s.cfg.Now()
	if regs, ok := s.cache.get(host, now, s.cfg.CacheTTL); ok {
		return regs, nil
	}
	vals, err := s.rdb.HGetAll(ctx, s.keys.site(host).regs).Result()
	if err != nil {
		return nil, s.fail(ctx, "read registrations", err)
	}
	regs := make([]Registration, 0, len(vals))
	for _, v := range vals {
		if r, err := decodeRecord([]byte(v)); err == nil {
			regs = append(regs, r)
		}
	}
	s.cache.put(host, regs, now)
	return regs, nil
}

// get returns the registration id of host, secret included, read from
// Redis (not cached: a deleted registration gets no further attempt).
func (s *Store) get(ctx context.Context, host, id string) (Registration, error) {
	v, err := s.rdb.HGet(ctx, s.keys.site(host).regs, id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Registration{}, fmt.Errorf("%w: webhook %q", ErrNotFound, id)
	}
	if err != nil {
		return Registration{}, s.fail(ctx, "read registration", err)
	}
	r, err := decodeRecord(v)
	if err != nil {
		return Registration{}, fmt.Errorf("%w: webhook %q does not decode", ErrNotFound, id)
	}
	return r, nil
}

// fail wraps a Redis error: the context's error alone when it ended,
// ErrUnavailable otherwise.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("webhook: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
}

// maxCachedSites bounds the cache; it is emptied when full.
const maxCachedSites = 4096

// siteCache holds each site's registrations for a short while.
type siteCache struct {
	mu    sync.Mutex // guards sites
	sites map[string]cached
}

type cached struct {
	regs []Registration
	at   time.Time
}

func (c *siteCache) get(host string, now time.Time, ttl time.Duration) ([]Registration, bool) {
	if ttl < 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.sites[host]
	if !ok || now.Sub(e.at) >= ttl || now.Before(e.at) {
		return nil, false
	}
	return e.regs, true
}

func (c *siteCache) put(host string, regs []Registration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sites) >= maxCachedSites {
		clear(c.sites)
	}
	c.sites[host] = cached{regs: regs, at: now}
}

func (c *siteCache) forget(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sites, host)
}
