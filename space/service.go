package space

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/limit"
	"github.com/notifyd/notifyd/message"
)

// Caller is who acts: a user's token sub, or the principal a publisher
// token names. Title is its display name (the sender's title of its
// messages).
type Caller struct {
	Host, Principal, Title string
}

// Member is a member of a space.
type Member struct {
	Principal string `json:"principal"`
	Moderator bool   `json:"moderator"`
}

// Publisher publishes a message through the normal pipeline;
// *pubsub.Publisher satisfies it.
type Publisher interface {
	Publish(ctx context.Context, m *message.Message) error
}

// History reads and changes stored messages; *history.Store satisfies it.
type History interface {
	Page(ctx context.Context, r history.Reader, o history.PageOptions) (history.Page, error)
	Update(ctx context.Context, host, id string, patch func(*message.Message) error) (*message.Message, error)
	Retract(ctx context.Context, host, id string) (*message.Message, error)
}

// Service is the spaces of every site: membership, messages, unread
// counts, reactions and events. It is safe for concurrent use and starts
// no goroutine (Listen runs in its caller's).
type Service struct {
	// immutable after New
	rdb    redis.UniversalClient
	pub    Publisher
	hist   History
	cfg    Config
	log    *slog.Logger
	send   *limit.Keyed // per host and principal
	manage *limit.Keyed // Create, Direct, AddMember, Guest: per host and principal
	typing *limit.Keyed // per host, principal and space

	stats counters
}

// counters are the Service's Stats, updated atomically.
type counters struct {
	created, sent, reactions, typing, typingDropped atomic.Uint64
	published, received, rateLimited, errors        atomic.Uint64
}

// Stats are a Service's counters since New, for metrics.
type Stats struct {
	Created         uint64 // spaces created (group and direct)
	Sent            uint64 // messages published
	Reactions       uint64 // reactions added or removed
	Typing          uint64 // typing events published
	TypingDropped   uint64 // typing events dropped by the per-user interval
	EventsPublished uint64 // events published on Config.Channel
	EventsReceived  uint64 // events Listen passed to its sink
	RateLimited     uint64 // sends refused by the rate limit
	Errors          uint64 // Redis, history or publisher failures, Listen resubscriptions, events that did not decode
}

// Stats returns a snapshot of the counters.
func (s *Service) Stats() Stats {
	c := &s.stats
	return Stats{
		Created: c.created.Load(), Sent: c.sent.Load(), Reactions: c.reactions.Load(),
		Typing: c.typing.Load(), TypingDropped: c.typingDropped.Load(),
		EventsPublished: c.published.Load(), EventsReceived: c.received.Load(),
		RateLimited: c.rateLimited.Load(), Errors: c.errors.Load(),
	}
}

// New returns a Service on rdb (the client of the history's Redis), pub
// and hist. It does not contact Redis.
func New(rdb redis.UniversalClient, pub Publisher, hist History, cfg Config) (*Service, error) {
	if rdb == nil || pub == nil || hist == nil {
		return nil, errors.New("space: New needs a redis client, a publisher and a history")
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Service{rdb: rdb, pub: pub, hist: hist, cfg: cfg, log: cfg.Logger}
	s.send = limit.New(limit.Config{Rate: cfg.SendRate, Burst: cfg.SendBurst, Now: cfg.Now})
	s.manage = limit.New(limit.Config{Rate: cfg.ManageRate, Burst: cfg.ManageBurst, Now: cfg.Now})
	if cfg.TypingInterval > 0 {
		s.typing = limit.New(limit.Config{Rate: 1 / cfg.TypingInterval.Seconds(), Burst: 1, Now: cfg.Now})
	}
	return s, nil
}

// allowManage takes a token of the caller's membership-changing bucket
// (Create, Direct, AddMember, Guest): one user cannot put others into
// spaces in a loop (each space another one counts against their
// MaxSpacesPerUser).
func (s *Service) allowManage(op string, c Caller) error {
	if s.manage.Allow(c.Host + "\n" + c.Principal) {
		return nil
	}
	s.stats.rateLimited.Add(1)
	return failure(op, ErrRateLimited, "too many spaces created or members added")
}

// key returns the key name of host for the suffix parts.
func (s *Service) key(host string, parts ...string) string {
	k := s.cfg.Prefix(host)
	for _, p := range parts {
		k += p
	}
	return k
}

// run runs a script on key with ARGV prefix then args, and returns its
// table after checking its status word.
func (s *Service) run(ctx context.Context, op string, sc *redis.Script, host, key string, args ...any) ([]any, error) {
	v, err := s.runStatus(ctx, op, sc, host, key, args...)
	if err != nil {
		return nil, err
	}
	if status := str(v[0]); status != "ok" {
		detail := ""
		if len(v) > 1 {
			detail = str(v[1])
		}
		return nil, scriptErr(op, status, detail)
	}
	return v, nil
}

// runStatus runs a script and returns its table, whatever its status.
func (s *Service) runStatus(ctx context.Context, op string, sc *redis.Script, host, key string, args ...any) ([]any, error) {
	all := append([]any{s.cfg.Prefix(host)}, args...)
	v, err := sc.Run(ctx, s.rdb, []string{key}, all...).Slice()
	if err != nil {
		return nil, s.redisErr(ctx, op, err)
	}
	if len(v) == 0 {
		return nil, s.redisErr(ctx, op, errors.New("empty script reply"))
	}
	return v, nil
}

func (s *Service) redisErr(ctx context.Context, op string, err error) error {
	s.stats.errors.Add(1)
	return unavailable(ctx, op, err)
}

func (s *Service) nowMS() int64 { return s.cfg.Now().UnixMilli() }

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings, numbers, bools and slices of them
	}
	return b
}

// ttlMS is the message record TTL in milliseconds.
func (s *Service) ttlMS() int64 { return s.cfg.MessageTTL.Milliseconds() }
