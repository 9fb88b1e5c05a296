package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
)

// ErrInvalidConfig is returned (wrapped) by New for a Config it cannot use.
var ErrInvalidConfig = errors.New("wsgateway: invalid config")

// Authenticator verifies a connection's token. *auth.Verifier satisfies it.
type Authenticator interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

var (
	_ Authenticator = (*auth.Verifier)(nil)
	_ Authenticator = auth.Revocable{}
)

// History reads a site's recent messages for catch-up on connect
// (GET /ws/chat?since=<id>). *pubsub.History satisfies it.
type History interface {
	// List returns the messages kept for host, newest first, with their
	// targets and ids. The gateway shares the result, read-only, between
	// the connections catching up on host: List must not modify the slice
	// or its messages after returning them (a fresh slice per call does),
	// and the gateway never modifies them.
	List(ctx context.Context, host string) ([]*message.Message, error)
}

// Defaults applied by New to zero Config fields.
const (
	DefaultQueueSize      = 256
	DefaultWriteTimeout   = 10 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultReadLimit      = 4096
	DefaultShutdownSpread = time.Second
	DefaultReplayTimeout  = 5 * time.Second

	DefaultReplayConcurrency = 4

	DefaultMaxConnections             = 10000
	DefaultMaxConnectionsPerPrincipal = 32
	DefaultConnectRate                = 5.0 // new connections per second per client address
	DefaultConnectBurst               = 20
)

// Config configures a Gateway.
type Config struct {
	// Auth verifies tokens. Required.
	Auth Authenticator
	// Sites checks origins (Check) and names the site of a request (Of).
	// Required.
	Sites *site.Policy
	// QueueSize is how many messages may wait for one connection's writer;
	// one more closes the connection with protocol.CloseSlowConsumer. Zero value:
	// DefaultQueueSize (256). Negative is an error.
	QueueSize int
	// WriteTimeout bounds each write to a socket; a write that exceeds it
	// drops the connection. Zero value: DefaultWriteTimeout (10s). Negative
	// is an error.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings each connection to detect
	// dead peers; a pong must arrive before the next ping is due. Zero value:
	// DefaultPingInterval (30s). Negative disables pings.
	PingInterval time.Duration
	// ReadLimit is the largest inbound message in bytes; a larger one closes
	// the connection with protocol.CloseTooBig. Zero value: DefaultReadLimit (4096).
	// Negative is an error.
	ReadLimit int64
	// ShutdownSpread is the window over which Shutdown spreads its closes
	// uniformly, so browsers do not reconnect in lock-step. Zero value:
	// DefaultShutdownSpread (1s). Negative closes everything at once.
	ShutdownSpread time.Duration
	// History serves catch-up on connect (?since=<id>). Zero value: no
	// replay; a connection that asks for one gets the gap frame, so that the
	// client reloads through the REST history.
	History History
	// ReplayTimeout bounds how long a catch-up waits for its history read,
	// including the wait for a ReplayConcurrency slot, and bounds each read.
	// Zero value: DefaultReplayTimeout (5s). Negative is an error.
	ReplayTimeout time.Duration
	// ReplayConcurrency bounds the History.List calls running at once for
	// catch-ups on this gateway (one per site at most); more wait for a
	// slot. Concurrent catch-ups of one site share reads, so a reconnect
	// storm costs a few reads per site, not one per connection. Zero value:
	// DefaultReplayConcurrency (4). Negative is an error.
	ReplayConcurrency int

	// MaxConnections bounds the connections of this gateway, counting those
	// being set up; one more is refused with 503 before the upgrade. Zero
	// value: DefaultMaxConnections (10000). Negative disables the limit.
	MaxConnections int
	// MaxConnectionsPerPrincipal bounds the connections of one principal
	// (the token's sub) on this gateway; one more is refused with 429 before
	// the upgrade. Zero value: DefaultMaxConnectionsPerPrincipal (32).
	// Negative disables the limit.
	MaxConnectionsPerPrincipal int
	// ConnectRate is how many new connections per second one client address
	// may open (a token bucket per address); more are refused with 429
	// before the upgrade. Zero value: DefaultConnectRate (5/s). Negative
	// disables the limit.
	ConnectRate float64
	// ConnectBurst is the bucket size of ConnectRate. Zero value:
	// DefaultConnectBurst (20). Negative is an error.
	ConnectBurst int
	// ClientIPHeader names the header that carries the client address when
	// notifyd runs behind a trusted proxy, for example "X-Forwarded-For":
	// its rightmost non-empty comma-separated entry is the address (the one
	// the proxy appended). Zero value: the TCP peer address. A request
	// without the header falls back to the TCP peer. Never set it without a
	// proxy that appends to the header: clients could pick their address.
	ClientIPHeader string

	// Logger receives lifecycle and per-connection logs. Zero value: discard.
	Logger *slog.Logger
	// Now returns the current time; it decides when a token has expired and
	// drives the ConnectRate buckets. Zero value: time.Now.
	Now func() time.Time
}

// withDefaults validates cfg and fills its zero fields.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Auth == nil:
		return cfg, fmt.Errorf("%w: Auth is required", ErrInvalidConfig)
	case cfg.Sites == nil:
		return cfg, fmt.Errorf("%w: Sites is required", ErrInvalidConfig)
	case cfg.QueueSize < 0:
		return cfg, fmt.Errorf("%w: QueueSize %d is negative", ErrInvalidConfig, cfg.QueueSize)
	case cfg.WriteTimeout < 0:
		return cfg, fmt.Errorf("%w: WriteTimeout %v is negative", ErrInvalidConfig, cfg.WriteTimeout)
	case cfg.ReadLimit < 0:
		return cfg, fmt.Errorf("%w: ReadLimit %d is negative", ErrInvalidConfig, cfg.ReadLimit)
	case cfg.ReplayTimeout < 0:
		return cfg, fmt.Errorf("%w: ReplayTimeout %v is negative", ErrInvalidConfig, cfg.ReplayTimeout)
	case cfg.ReplayConcurrency < 0:
		return cfg, fmt.Errorf("%w: ReplayConcurrency %d is negative", ErrInvalidConfig, cfg.ReplayConcurrency)
	case cfg.ConnectBurst < 0:
		return cfg, fmt.Errorf("%w: ConnectBurst %d is negative", ErrInvalidConfig, cfg.ConnectBurst)
	case cfg.ConnectRate != cfg.ConnectRate: // NaN
		return cfg, fmt.Errorf("%w: ConnectRate is NaN", ErrInvalidConfig)
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.ReadLimit == 0 {
		cfg.ReadLimit = DefaultReadLimit
	}
	if cfg.ShutdownSpread == 0 {
		cfg.ShutdownSpread = DefaultShutdownSpread
	}
	if cfg.ReplayTimeout == 0 {
		cfg.ReplayTimeout = DefaultReplayTimeout
	}
	if cfg.ReplayConcurrency == 0 {
		cfg.ReplayConcurrency = DefaultReplayConcurrency
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxConnectionsPerPrincipal == 0 {
		cfg.MaxConnectionsPerPrincipal = DefaultMaxConnectionsPerPrincipal
	}
	if cfg.ConnectRate == 0 {
		cfg.ConnectRate = DefaultConnectRate
	}
	if cfg.ConnectBurst == 0 {
		cfg.ConnectBurst = DefaultConnectBurst
	}
	cfg.ClientIPHeader = strings.TrimSpace(cfg.ClientIPHeader)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}
