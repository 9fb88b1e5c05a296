package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/notifyd/notifyd/internal/auth"
	"github.com/notifyd/notifyd/internal/site"
)

// ErrInvalidConfig is returned (wrapped) by New for a Config it cannot use.
var ErrInvalidConfig = errors.New("wsgateway: invalid config")

// Authenticator verifies a connection's token. *auth.Verifier satisfies it.
type Authenticator interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

var _ Authenticator = (*auth.Verifier)(nil)

// Defaults applied by New to zero Config fields.
const (
	DefaultQueueSize      = 256
	DefaultWriteTimeout   = 10 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultReadLimit      = 4096
	DefaultShutdownSpread = time.Second
)

// Config configures a Gateway.
type Config struct {
	// Auth verifies tokens. Required.
	Auth Authenticator
	// Sites checks origins (Check) and names the site of a request (Of).
	// Required.
	Sites *site.Policy
	// QueueSize is how many messages may wait for one connection's writer;
	// one more closes the connection with CloseSlowConsumer. Zero value:
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
	// the connection with CloseTooBig. Zero value: DefaultReadLimit (4096).
	// Negative is an error.
	ReadLimit int64
	// ShutdownSpread is the window over which Shutdown spreads its closes
	// uniformly, so browsers do not reconnect in lock-step. Zero value:
	// DefaultShutdownSpread (1s). Negative closes everything at once.
	ShutdownSpread time.Duration
	// Logger receives lifecycle and per-connection logs. Zero value: discard.
	Logger *slog.Logger
	// Now returns the current time; it decides when a token has expired.
	// Zero value: time.Now.
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}
