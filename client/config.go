package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/notifyd/notifyd/message"
)

// ErrInvalidConfig is returned (wrapped) by New for a Config it cannot use.
var ErrInvalidConfig = errors.New("client: invalid config")

// Defaults applied by New to zero Config fields.
const (
	DefaultBackoffMin   = 250 * time.Millisecond
	DefaultBackoffMax   = 10 * time.Second
	DefaultPingInterval = 30 * time.Second
	DefaultPongTimeout  = 10 * time.Second
	DefaultDialTimeout  = 10 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultReadLimit    = 1 << 20
	DefaultDedupSize    = 4096
)

// Config configures a Client.
type Config struct {
	// URL is the gateway's websocket endpoint, ws://host/ws/chat or
	// wss://...; it may carry a query (host=...). Required.
	URL string
	// Fallbacks are further gateways' endpoints. After a dial failure or a
	// going-away close (1001, 1012) the client moves to the next URL, round
	// robin over URL and Fallbacks. Zero value: none (always URL).
	Fallbacks []string
	// Origin is sent as the Origin header; the gateway derives the site from
	// it. Zero value: no Origin header (the gateway then uses ?host= or its
	// default site).
	Origin string
	// Header holds extra handshake headers (for example X-Forwarded-For
	// behind a proxy). Zero value: none.
	Header http.Header
	// Token returns the token to present. It is called before every dial, so
	// a refreshed token is used; Refresh(ctx) reports whether the gateway
	// refused the previous one (a caching implementation must then fetch a
	// new one). An error is retried after a backoff. Required.
	Token func(ctx context.Context) (string, error)
	// Since is the id of the newest message the application already has (from
	// an earlier run or from REST); the first dial asks for what follows it.
	// Zero value: start live, without replay.
	Since string

	// OnMessage receives each message once, decoded, with the frame's bytes
	// (valid until OnMessage returns). Control frames (PONG, logout, gap) are
	// not passed. Zero value: messages are only counted.
	OnMessage func(m *message.Message, raw []byte)
	// OnGap is called when the gateway cannot replay from since (the id is no
	// longer in its history): messages may have been missed, and the
	// application should reload from the REST history. Zero value: ignored
	// (still counted in Stats.Gaps).
	OnGap func(since string)
	// OnConnect is called when a connection is established (its first PONG),
	// with the URL dialled. Zero value: nothing.
	OnConnect func(url string)
	// OnDisconnect is called when a dialled connection ends, with the URL and
	// the cause: match ErrTokenRefused and ErrRevoked with errors.Is, and read
	// a close code with websocket.CloseStatus. It is not called for failed
	// dials nor when Run's context ends. Zero value: nothing.
	OnDisconnect func(url string, err error)

	// BackoffMin and BackoffMax bound the full-jitter exponential backoff
	// between attempts: the n-th consecutive failure waits a uniformly random
	// time in [0, min(BackoffMax, BackoffMin*2^n)). Zero values:
	// DefaultBackoffMin (250ms) and DefaultBackoffMax (10s).
	BackoffMin, BackoffMax time.Duration
	// PingInterval is how often "PING" is sent. Zero value:
	// DefaultPingInterval (30s). Negative disables pings after the first one.
	PingInterval time.Duration
	// PongTimeout is how long a PING may stay unanswered before the
	// connection is dropped. Zero value: DefaultPongTimeout (10s). Negative
	// disables the check.
	PongTimeout time.Duration
	// DialTimeout bounds one websocket handshake. Zero value:
	// DefaultDialTimeout (10s).
	DialTimeout time.Duration
	// WriteTimeout bounds one PING write and the closing handshake. Zero
	// value: DefaultWriteTimeout (10s).
	WriteTimeout time.Duration
	// ReadLimit is the largest frame accepted, in bytes; notifyd pushes
	// messages up to its max message size (64 KiB by default). Zero value:
	// DefaultReadLimit (1 MiB).
	ReadLimit int64
	// DedupSize is how many recent ids are remembered to drop duplicates.
	// Zero value: DefaultDedupSize (4096). Negative disables deduplication.
	DedupSize int
	// HTTPClient performs the handshake; its Timeout must be zero. Zero
	// value: http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives lifecycle logs. Zero value: discard.
	Logger *slog.Logger
}

// withDefaults validates cfg and fills its zero fields.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Token == nil {
		return cfg, fmt.Errorf("%w: Token is required", ErrInvalidConfig)
	}
	for _, u := range append([]string{cfg.URL}, cfg.Fallbacks...) {
		if err := checkURL(u); err != nil {
			return cfg, err
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"BackoffMin", int64(cfg.BackoffMin)}, {"BackoffMax", int64(cfg.BackoffMax)},
		{"DialTimeout", int64(cfg.DialTimeout)}, {"WriteTimeout", int64(cfg.WriteTimeout)},
		{"ReadLimit", cfg.ReadLimit},
	} {
		if f.v < 0 {
			return cfg, fmt.Errorf("%w: %s is negative", ErrInvalidConfig, f.name)
		}
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Timeout != 0 {
		return cfg, fmt.Errorf("%w: HTTPClient.Timeout must be zero", ErrInvalidConfig)
	}
	cfg.BackoffMin = orDefault(cfg.BackoffMin, DefaultBackoffMin)
	cfg.BackoffMax = max(orDefault(cfg.BackoffMax, DefaultBackoffMax), cfg.BackoffMin)
	cfg.PingInterval = orDefault(cfg.PingInterval, DefaultPingInterval)
	cfg.PongTimeout = orDefault(cfg.PongTimeout, DefaultPongTimeout)
	cfg.DialTimeout = orDefault(cfg.DialTimeout, DefaultDialTimeout)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.ReadLimit = orDefault(cfg.ReadLimit, DefaultReadLimit)
	cfg.DedupSize = orDefault(cfg.DedupSize, DefaultDedupSize)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: URL %q: %v", ErrInvalidConfig, s, err)
	}
	if (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: URL %q: want ws://host/path or wss://host/path", ErrInvalidConfig, s)
	}
	return nil
}
