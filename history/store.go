package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

// Defaults of Config.
const (
	// DefaultKey is PyAMS's notifications_key.
	DefaultKey = "chat:notifications"
	// DefaultLength is PyAMS's notifications_length.
	DefaultLength = 50
	// DefaultDedupWindow is how long the id of a stored message is remembered.
	DefaultDedupWindow = 10 * time.Minute
	// DefaultIdempotencyWindow is how long an idempotency key is remembered:
	// a day, as the IETF Idempotency-Key draft's examples and common
	// payment APIs do, so that a client that retries after a long outage
	// still gets the first answer.
	DefaultIdempotencyWindow = 24 * time.Hour
)

// Config configures a Store.
type Config struct {
	// Key is the prefix of the per-site lists; the list of a site is
	// "<Key>::<host>", as in PyAMS. Default DefaultKey. It must not contain
	// '{' or '}' (they would change the Redis Cluster hash slot).
	Key string
	// Length is how many messages each site's list keeps. Default
	// DefaultLength; it must not be negative.
	Length int
	// DedupWindow is how long Append remembers an id so that the same message
	// appended again (by another gateway, or a retried batch) is not stored
	// twice. Default DefaultDedupWindow; it must be at least a millisecond.
	// It is also how long a publisher's retry with the same message id (and
	// no idempotency key) gets the first answer.
	DedupWindow time.Duration
	// IdempotencyWindow is how long AppendPublishOnce remembers an
	// idempotency key and the first answer it got: a retry with the same key
	// within it stores nothing and gets that answer. Each key costs about
	// 300 bytes of Redis memory for the window. Default
	// DefaultIdempotencyWindow; it must be at least a millisecond.
	IdempotencyWindow time.Duration
	// MaxMessageSize bounds the entries List decodes. Default
	// message.DefaultMaxSize; negative means no limit.
	MaxMessageSize int
	// Logger receives Debug logs about skipped entries. Default: discard.
	Logger *slog.Logger

	// DeliveryChannel turns the inbox on (see inbox.go and the package
	// documentation): every append that stores a message also indexes it
	// per target principal and PUBLISHes its Delivery on this channel, in
	// the same script. Default "": no inbox, the appends behave as before
	// (cmd/notifyd sets DefaultDeliveryChannel). It must not contain
	// whitespace.
	DeliveryChannel string
	// InboxLength is how many entries each principal's index keeps on a
	// site. Default DefaultInboxLength; it must not be negative.
	InboxLength int
	// InboxTTL is how long a stored message and its index entries are kept.
	// Default DefaultInboxTTL; it must be at least a millisecond.
	InboxTTL time.Duration
	// CountCap bounds the work of a count: unread and unseen stop at
	// CountCap. Default DefaultCountCap; it must not be negative.
	CountCap int
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Key = cmp.Or(c.Key, DefaultKey)
	c.Length = cmp.Or(c.Length, DefaultLength)
	c.DedupWindow = cmp.Or(c.DedupWindow, DefaultDedupWindow)
	c.IdempotencyWindow = cmp.Or(c.IdempotencyWindow, DefaultIdempotencyWindow)
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, message.DefaultMaxSize)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
	c.InboxLength = cmp.Or(c.InboxLength, DefaultInboxLength)
	c.InboxTTL = cmp.Or(c.InboxTTL, DefaultInboxTTL)
	c.CountCap = cmp.Or(c.CountCap, DefaultCountCap)
	return c
}

// check validates c once defaults are applied; each error names its field.
func (c Config) check() error {
	var errs []error
	if strings.ContainsAny(c.Key, "{}") {
		errs = append(errs, fmt.Errorf("history: Key %q must not contain braces", c.Key))
	}
	if c.Length < 0 {
		errs = append(errs, fmt.Errorf("history: Length %d is negative", c.Length))
	}
	if c.DedupWindow < time.Millisecond {
		errs = append(errs, fmt.Errorf("history: DedupWindow %v is under a millisecond", c.DedupWindow))
	}
	if c.IdempotencyWindow < time.Millisecond {
		errs = append(errs, fmt.Errorf("history: IdempotencyWindow %v is under a millisecond", c.IdempotencyWindow))
	}
	if strings.ContainsAny(c.DeliveryChannel, " \t\r\n") {
		errs = append(errs, fmt.Errorf("history: DeliveryChannel %q contains whitespace", c.DeliveryChannel))
	}
	if c.InboxLength < 0 {
		errs = append(errs, fmt.Errorf("history: InboxLength %d is negative", c.InboxLength))
	}
	if c.InboxTTL < time.Millisecond {
		errs = append(errs, fmt.Errorf("history: InboxTTL %v is under a millisecond", c.InboxTTL))
	}
	if c.CountCap < 0 {
		errs = append(errs, fmt.Errorf("history: CountCap %d is negative", c.CountCap))
	}
	return errors.Join(errs...)
}

// Store is the per-site list of recent messages in Redis, newest first: the
// publisher and the subscribers append to it, the REST API and the
// websocket replay read it. Every method is safe for concurrent use.
type Store struct {
	// immutable after New
	rdb        redis.UniversalClient
	key        string
	length     int
	window     int64 // DedupWindow in milliseconds
	idemWindow int64 // IdempotencyWindow in milliseconds
	max        int
	log        *slog.Logger
	script     *redis.Script // the append script, or the inbox's store script

	// the inbox, immutable after New (delivery == "": off)
	delivery    string
	inboxLength int
	inboxTTL    int64 // InboxTTL in milliseconds
	countCap    int
	userScript  *redis.Script
	siteScript  *redis.Script
	batchScript *redis.Script // AppendBatch's: many entries of a site per run

	// counters, updated atomically
	added      atomic.Uint64
	duplicates atomic.Uint64
	skipped    atomic.Uint64
}

// Stats are a Store's counters since New.
type Stats struct {
	Added       uint64 // entries stored by Append, AppendPublish(Once) and AppendBatch
	Duplicates  uint64 // appends refused because the id or idempotency key was already stored
	Undecodable uint64 // entries List skipped because they did not decode
}

// New returns a Store on rdb. It does not contact Redis.
func New(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("history: nil redis client")
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Store{
		rdb:        rdb,
		key:        cfg.Key,
		length:     cfg.Length,
		window:     cfg.DedupWindow.Milliseconds(),
		idemWindow: cfg.IdempotencyWindow.Milliseconds(),
		max:        cfg.MaxMessageSize,
		log:        cfg.Logger,
		script:     newAppendScript(),

		delivery:    cfg.DeliveryChannel,
		inboxLength: cfg.InboxLength,
		inboxTTL:    cfg.InboxTTL.Milliseconds(),
		countCap:    cfg.CountCap,
	}
	if s.delivery != "" {
		s.script = redis.NewScript(storeLua)
		s.userScript = redis.NewScript(userLua)
		s.siteScript = redis.NewScript(siteLua)
		s.batchScript = redis.NewScript(storeBatchLua)
	}
	return s, nil
}

// ListKey returns the Redis list of host: "<Key>::<host>", PyAMS's key.
//
// The host is lower-cased: scheme and host names are case-insensitive, sites
// are compared case-insensitively everywhere else, and PyAMS hosts (Pyramid's
// host_url) are lower-case in practice, so the key stays PyAMS's.
func (s *Store) ListKey(host string) string {
	return s.key + "::" + strings.ToLower(host)
}

// Length returns how many messages each site's list keeps.
func (s *Store) Length() int { return s.length }

// seenKey returns the key that remembers id in the list of host. Its hash tag
// is the whole list key, so it lives in the list's Redis Cluster slot (a key
// without braces, like the list key, hashes whole).
func (s *Store) seenKey(listKey, id string) string {
	return "{" + listKey + "}:seen:" + id
}

// List returns the messages stored for host, newest first. Entries that do not
// decode are skipped and counted (Stats().Undecodable); entries without an id,
// such as those PyAMS's own server writes, get message.DeriveID of their bytes.
// Redis errors match ErrUnavailable.
func (s *Store) List(ctx context.Context, host string) ([]*message.Message, error) {
	raw, err := s.rdb.LRange(ctx, s.ListKey(host), 0, -1).Result()
	if err != nil {
		return nil, unavailable(ctx, "list", err)
	}
	return s.decode(host, raw), nil
}

// ListMany is List for many sites in one round trip (per Cluster node):
// lists[i] and errs[i] are List(ctx, hosts[i])'s results.
func (s *Store) ListMany(ctx context.Context, hosts []string) (lists [][]*message.Message, errs []error) {
	cmds := make([]*redis.StringSliceCmd, len(hosts))
	// The pipeline's error is also each failed command's.
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, host := range hosts {
			cmds[i] = p.LRange(ctx, s.ListKey(host), 0, -1)
		}
		return nil
	})
	lists, errs = make([][]*message.Message, len(hosts)), make([]error, len(hosts))
	for i, cmd := range cmds {
		raw, err := cmd.Result()
		if err != nil {
			errs[i] = unavailable(ctx, "list", err)
			continue
		}
		lists[i] = s.decode(hosts[i], raw)
	}
	return lists, errs
}

// decode turns the raw entries of host's list into messages, skipping (and
// counting) those that do not decode and deriving the missing ids.
func (s *Store) decode(host string, raw []string) []*message.Message {
	out := make([]*message.Message, 0, len(raw))
	for _, r := range raw {
		b := []byte(r)
		m, err := message.Decode(b, s.max)
		if err != nil {
			s.skipped.Add(1)
			s.log.Debug("history: skipping undecodable entry",
				"host", host, "bytes", len(b), "err", err)
			continue
		}
		if m.ID == "" {
			m.ID = message.DeriveID(m.Timestamp, b)
		}
		out = append(out, m)
	}
	return out
}

// Stats returns the Store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Added:       s.added.Load(),
		Duplicates:  s.duplicates.Load(),
		Undecodable: s.skipped.Load(),
	}
}

func (s *Store) count(added bool) {
	if added {
		s.added.Add(1)
	} else {
		s.duplicates.Add(1)
	}
}
