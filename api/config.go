package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/notifyd/notifyd/internal/auth"
	"github.com/notifyd/notifyd/internal/site"
	"github.com/notifyd/notifyd/message"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultMaxBodyBytes bounds the body of POST /api/chat/messages.
	DefaultMaxBodyBytes = 128 << 10
	// DefaultMaxLimit is the largest limit /api/chat/notifications accepts.
	DefaultMaxLimit = 1000
	// DefaultVersion is reported by /monitor when Config.Version is empty.
	DefaultVersion = "dev"
)

// Authenticator verifies a user's bearer token. It returns an error matching
// auth.ErrNoToken, auth.ErrInvalidToken or auth.ErrExpired for a token it
// refuses (401); any other error means it could not decide (503).
// *auth.Verifier satisfies it.
type Authenticator interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

// Publisher publishes a message. It fills what is missing (ID, Timestamp,
// Channel, Status, Target), validates, stores to history, then publishes.
// Validation errors match message.ErrInvalid (a *message.FieldError) or
// message.ErrTooLarge; any other error means the service is unavailable.
type Publisher interface {
	Publish(ctx context.Context, m *message.Message) error
}

// History lists a site's stored messages, newest first, with target and ID.
type History interface {
	List(ctx context.Context, host string) ([]*message.Message, error)
}

// Categories lists the categories that have a handler.
type Categories interface {
	Categories() []string
}

// Config configures the router built by New. Auth and Sites are required;
// every other field has a usable zero value.
type Config struct {
	// Auth verifies the bearer JWT of /api/chat/context and
	// /api/chat/notifications. Required.
	Auth Authenticator
	// PublisherTokens are the only tokens POST /api/chat/messages accepts.
	// Nil or empty: every token is refused with 403.
	PublisherTokens *auth.PublisherTokens
	// Sites decides which browser origins may call /api/* and which site a
	// request reads. Required.
	Sites *site.Policy
	// Publisher publishes POSTed messages. Nil: POST /api/chat/messages is not
	// mounted (404).
	Publisher Publisher
	// History serves /api/chat/notifications. Nil: the list is always empty,
	// as PyAMS answers without Redis.
	History History
	// Categories fills the context endpoint's "*" list. Nil: no categories.
	Categories Categories
	// Ready reports readiness for /readyz. Nil: always ready.
	Ready func(ctx context.Context) error
	// Sessions counts websocket sessions for /monitor. Nil: 0.
	Sessions func() int
	// WebSocket is mounted at GET /ws/chat without timeout or compression
	// middleware. Nil: not mounted.
	WebSocket http.Handler
	// MaxBodyBytes bounds a POSTed body (413 beyond). Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxLimit is the largest accepted limit parameter. Zero: DefaultMaxLimit.
	MaxLimit int
	// Version is reported by /monitor as "notifyd/<Version>". Empty: DefaultVersion.
	Version string
	// Logger receives error details that are never sent to clients. Nil: discard.
	Logger *slog.Logger
	// Now returns the current time. Nil: time.Now.
	Now func() time.Time
}
