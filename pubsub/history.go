package pubsub

import (
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

// History defaults.
const (
	// DefaultHistoryKey is PyAMS's notifications_key.
	DefaultHistoryKey = "chat:notifications"
	// DefaultHistoryLength is PyAMS's notifications_length.
	DefaultHistoryLength = 50
	// DefaultDedupWindow is how long the id of a stored message is remembered.
	DefaultDedupWindow = 10 * time.Minute
)

// HistoryConfig configures a History.
type HistoryConfig struct {
	// Key is the prefix of the per-site lists; the list of a site is
	// "<Key>::<host>", as in PyAMS. Default DefaultHistoryKey. It must not
	// contain '{' or '}' (they would change the Redis Cluster hash slot).
	Key string
	// Length is how many messages each site's list keeps. Default
	// DefaultHistoryLength.
	Length int
	// DedupWindow is how long Append remembers an id so that the same message
	// appended again (by another gateway, or a retried batch) is not stored
	// twice. Default DefaultDedupWindow; it must be at least a millisecond.
	DedupWindow time.Duration
	// MaxMessageSize bounds the entries List decodes. Default
	// message.DefaultMaxSize; negative means no limit.
	MaxMessageSize int
	// Logger receives Debug logs about skipped entries. Default: discard.
	Logger *slog.Logger
}

// History is the per-site list of recent messages in Redis, newest first,
// that the REST API serves. Every method is safe for concurrent use.
type History struct {
	// immutable after NewHistory
	rdb    redis.UniversalClient
	key    string
	length int
	window int64 // DedupWindow in milliseconds
	max    int
	log    *slog.Logger
	script *redis.Script

	// counters, updated atomically
	added      atomic.Uint64
	duplicates atomic.Uint64
	skipped    atomic.Uint64
}

// HistoryStats are a History's counters since NewHistory.
type HistoryStats struct {
	Added       uint64 // entries stored by Append and AppendBatch
	Duplicates  uint64 // appends refused because the id was already stored
	Undecodable uint64 // entries List skipped because they did not decode
}

// Entry is one message to store: its site, its id and its stored form (with
// target, as message.AppendJSON(nil, true) writes it).
type Entry struct {
	Host   string
	ID     string
	Stored []byte
}

// NewHistory returns a History on rdb. It does not contact Redis.
func NewHistory(rdb redis.UniversalClient, cfg HistoryConfig) (*History, error) {
	if rdb == nil {
		return nil, errors.New("pubsub: history: nil redis client")
	}
	if cfg.Key == "" {
		cfg.Key = DefaultHistoryKey
	}
	if strings.ContainsAny(cfg.Key, "{}") {
		return nil, fmt.Errorf("pubsub: history: key %q must not contain braces", cfg.Key)
	}
	if cfg.Length == 0 {
		cfg.Length = DefaultHistoryLength
	}
	if cfg.Length < 0 {
		return nil, fmt.Errorf("pubsub: history: negative length %d", cfg.Length)
	}
	if cfg.DedupWindow == 0 {
		cfg.DedupWindow = DefaultDedupWindow
	}
	if cfg.DedupWindow < time.Millisecond {
		return nil, fmt.Errorf("pubsub: history: dedup window %v is under a millisecond", cfg.DedupWindow)
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = message.DefaultMaxSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &History{
		rdb:    rdb,
		key:    cfg.Key,
		length: cfg.Length,
		window: cfg.DedupWindow.Milliseconds(),
		max:    cfg.MaxMessageSize,
		log:    cfg.Logger,
		script: newAppendScript(),
	}, nil
}

// ListKey returns the Redis list of host: "<Key>::<host>", PyAMS's key.
//
// The host is lower-cased: scheme and host names are case-insensitive, sites
// are compared case-insensitively everywhere else, and PyAMS hosts (Pyramid's
// host_url) are lower-case in practice, so the key stays PyAMS's.
func (h *History) ListKey(host string) string {
	return h.key + "::" + strings.ToLower(host)
}

// seenKey returns the key that remembers id in the list of host. Its hash tag
// is the whole list key, so it lives in the list's Redis Cluster slot (a key
// without braces, like the list key, hashes whole).
func (h *History) seenKey(listKey, id string) string {
	return "{" + listKey + "}:seen:" + id
}

// List returns the messages stored for host, newest first. Entries that do not
// decode are skipped and counted (Stats().Undecodable); entries without an id,
// such as those PyAMS's own server writes, get message.DeriveID of their bytes.
// Redis errors match ErrUnavailable.
func (h *History) List(ctx context.Context, host string) ([]*message.Message, error) {
	raw, err := h.rdb.LRange(ctx, h.ListKey(host), 0, -1).Result()
	if err != nil {
		return nil, unavailable(ctx, "history list", err)
	}
	return h.decode(host, raw), nil
}

// listMany is List for many sites in one round trip (per Cluster node):
// lists[i] and errs[i] are List(ctx, hosts[i])'s results.
func (h *History) listMany(ctx context.Context, hosts []string) (lists [][]*message.Message, errs []error) {
	cmds := make([]*redis.StringSliceCmd, len(hosts))
	// The pipeline's error is also each failed command's.
	_, _ = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, host := range hosts {
			cmds[i] = p.LRange(ctx, h.ListKey(host), 0, -1)
		}
		return nil
	})
	lists, errs = make([][]*message.Message, len(hosts)), make([]error, len(hosts))
	for i, cmd := range cmds {
		raw, err := cmd.Result()
		if err != nil {
			errs[i] = unavailable(ctx, "history list", err)
			continue
		}
		lists[i] = h.decode(hosts[i], raw)
	}
	return lists, errs
}

// decode turns the raw entries of host's list into messages, skipping (and
// counting) those that do not decode and deriving the missing ids.
func (h *History) decode(host string, raw []string) []*message.Message {
	out := make([]*message.Message, 0, len(raw))
	for _, s := range raw {
		b := []byte(s)
		m, err := message.Decode(b, h.max)
		if err != nil {
			h.skipped.Add(1)
			h.log.Debug("pubsub: skipping undecodable history entry",
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

// Stats returns the History's counters.
func (h *History) Stats() HistoryStats {
	return HistoryStats{
		Added:       h.added.Load(),
		Duplicates:  h.duplicates.Load(),
		Undecodable: h.skipped.Load(),
	}
}
