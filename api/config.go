package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultMaxBodyBytes bounds the body of POST /api/chat/messages.
	DefaultMaxBodyBytes = 128 << 10
	// DefaultMaxLimit is the largest limit /api/chat/notifications accepts.
	DefaultMaxLimit = 1000
	// DefaultVersion is reported by /monitor when Config.Version is empty.
	DefaultVersion = "dev"
	// DefaultPublishRate is the sustained number of requests per second each
	// publisher token may make to POST /api/chat/messages.
	DefaultPublishRate = 100
	// DefaultPublishBurst is how many requests a publisher token may make at
	// once before DefaultPublishRate applies.
	DefaultPublishBurst = 200
	// DefaultAdminRate is the sustained number of requests per second each
	// publisher token may make to POST /api/admin/disconnect, from a bucket
	// of its own so that a publish flood never delays a revocation. It keeps
	// the allowance revocations had when they shared the publish bucket.
	DefaultAdminRate = 100
	// DefaultAdminBurst is how many admin requests a publisher token may
	// make at once before DefaultAdminRate applies.
	DefaultAdminBurst = 200
	// DefaultRESTRate is the sustained number of requests per second each
	// authenticated principal may make to GET /api/chat/context, GET
	// /api/chat/notifications and the /api/inbox routes together.
	DefaultRESTRate = 20
	// DefaultRESTBurst is how many of those requests a principal may make at
	// once before DefaultRESTRate applies.
	DefaultRESTBurst = 40
	// DefaultMaxInboxIDs is the largest number of ids POST /api/inbox/read
	// and /api/inbox/unread accept in one request.
	DefaultMaxInboxIDs = 100
	// MaxInboxBodyBytes bounds the body of the inbox's POST and PUT routes:
	// room for DefaultMaxInboxIDs ids or MaxMutedCategories categories, escaped.
	MaxInboxBodyBytes = 64 << 10
	// MaxMutedCategories is the most categories a user may mute on a site.
	MaxMutedCategories = history.MaxMuted
	// MaxCategoryBytes is the longest category (or "prefix.*" pattern) the
	// inbox routes accept.
	MaxCategoryBytes = history.MaxPatternLength
	// MaxPrincipalBytes is the longest principal POST /api/admin/disconnect
	// accepts: the length tokens and messages are held to, so every principal
	// that can sign in can be revoked.
	MaxPrincipalBytes = message.MaxPrincipalLength
)

// Authenticator verifies a user's bearer token. It returns an error matching
// auth.ErrNoToken, auth.ErrInvalidToken, auth.ErrExpired or auth.ErrRevoked
// for a token it refuses (401); any other error, auth.ErrUnavailable
// included, means it could not decide (503). *auth.Verifier and
// auth.Revocable satisfy it.
type Authenticator interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

// Publisher publishes a message. It fills what is missing (ID, Timestamp,
// Channel, Status, Target), validates, stores to history, then publishes,
// once per idempotency key (when key is not empty) and per id: a message
// published before is neither stored nor published again, m gets the first
// publication's ID and Timestamp, and replayed is true. Validation errors
// match message.ErrInvalid (a *message.FieldError) or message.ErrTooLarge;
// an error with the method IdempotencyConflict() bool returning true means
// the key was used for another message (422); any other error means the
// service is unavailable. *pubsub.Publisher satisfies it.
type Publisher interface {
	PublishIdempotent(ctx context.Context, key string, m *message.Message) (replayed bool, err error)
}

// History lists a site's stored messages, newest first, with target and ID.
type History interface {
	List(ctx context.Context, host string) ([]*message.Message, error)
}

// Inbox is the per-user history the inbox routes and GET
// /api/chat/notifications read and change: the subset of history.Inbox they
// use. history.ErrNotFound from any method is answered 404 (an id unknown
// and an id the caller may not see alike); any other error means the
// service is unavailable (503). *history.Store satisfies it.
type Inbox interface {
	Page(ctx context.Context, r history.Reader, o history.PageOptions) (history.Page, error)
	Count(ctx context.Context, r history.Reader) (history.Counts, error)
	MarkRead(ctx context.Context, r history.Reader, ids []string) (history.Counts, error)
	MarkAllRead(ctx context.Context, r history.Reader) (history.Counts, error)
	MarkUnread(ctx context.Context, r history.Reader, ids []string) (history.Counts, error)
	MarkSeen(ctx context.Context, r history.Reader, until string) (history.Counts, error)
	Prefs(ctx context.Context, host, user string) (history.Prefs, error)
	SetPrefs(ctx context.Context, host, user string, p history.Prefs) error
}

// InboxEvents tells every gateway about a user's new counts or preferences,
// so that each open connection of the user gets them live. An error is
// logged; the request that caused it still succeeds (the counts stay
// readable). *pubsub.Announcer satisfies it.
type InboxEvents interface {
	Counts(ctx context.Context, host, user string, c history.Counts) error
	Prefs(ctx context.Context, host, user string, p history.Prefs) error
}

// Editor changes a stored message everywhere (inbox, REST, replay, live):
// Update applies patch to it, RetractUnless removes it from every inbox
// unless its category is the one given (then an error matching
// history.ErrCategoryRefused, nothing changed). Both return the message's
// new stored form (RetractUnless: the retracted one) and an error matching
// history.ErrNotFound for an id not kept on the site (404); an error patch
// returned is returned (wrapped); any other error means the service is
// unavailable (503). *history.Store satisfies it.
type Editor interface {
	Update(ctx context.Context, host, id string, patch func(*message.Message) error) (*message.Message, error)
	RetractUnless(ctx context.Context, host, id, category string) (*message.Message, error)
}

// Categories lists the categories that have a handler.
type Categories interface {
	Categories() []string
}

// Revoker disconnects a principal everywhere: every token issued to it until
// now is refused and its open websockets are closed. It returns the moment of
// the revocation; any error means the service is unavailable (503).
// pubsub.Revocations satisfies it.
type Revoker interface {
	Revoke(ctx context.Context, principal string) (time.Time, error)
}

// Config configures the router built by New. Auth and Sites are required;
// every other field has a usable zero value.
type Config struct {
	// Auth verifies the bearer JWT of /api/chat/context and
	// /api/chat/notifications. Required.
	Auth Authenticator
	// PublisherTokens are the only tokens POST /api/chat/messages and POST
	// /api/admin/disconnect accept.
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
	// Inbox serves the /api/inbox routes and, when set, GET
	// /api/chat/notifications (the caller's own inbox instead of the site's
	// list in History). Nil: the /api/inbox routes are not mounted (404) and
	// /api/chat/notifications reads History.
	Inbox Inbox
	// InboxEvents is told every user's new counts and preferences after an
	// inbox route changed them. Nil: nothing is announced (other
	// connections learn new counts when they next read them).
	InboxEvents InboxEvents
	// Editor serves PATCH and DELETE /api/chat/messages/{id} (publisher
	// token, the publish rate bucket). Nil: those routes are not mounted
	// (404).
	Editor Editor
	// Spaces serves the /api/spaces routes (issue 10): user JWTs act for
	// their own principal, publisher tokens for the principal they name in
	// HeaderPrincipal. Zero value: no spaces routes.
	Spaces Spaces
	// Webhooks serves /api/webhooks (publisher token): bots register the
	// URL every new space message is POSTed to. Zero value: no routes.
	Webhooks Webhooks
	// MaxInboxIDs is the most ids POST /api/inbox/read and /api/inbox/unread
	// accept in one request (400 beyond). Zero: DefaultMaxInboxIDs; at most
	// history.MaxMark.
	MaxInboxIDs int
	// Categories fills the context endpoint's "*" list. Nil: no categories.
	Categories Categories
	// Ready reports readiness for /readyz. Nil: always ready.
	Ready func(ctx context.Context) error
	// Warnings are configuration risks /readyz reports with its answer
	// ("warnings": [...]); they do not make the gateway unready. Nil: none.
	Warnings []string
	// Sessions counts websocket sessions for /monitor. Nil: 0.
	Sessions func() int
	// Revoker serves POST /api/admin/disconnect. Nil: the route is not
	// mounted (404).
	Revoker Revoker
	// WebSocket is mounted at GET /ws/chat without timeout or compression
	// middleware. Nil: not mounted.
	WebSocket http.Handler
	// SSE is mounted at GET /sse/chat, like WebSocket (the gateway checks
	// origins and tokens itself). Zero value: no route.
	SSE http.Handler
	// MaxBodyBytes bounds a POSTed body (413 beyond). Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxLimit is the largest accepted limit parameter. Zero: DefaultMaxLimit.
	MaxLimit int
	// PublishRate is the sustained number of requests per second each
	// publisher token may make to POST /api/chat/messages (429 beyond).
	// Zero: DefaultPublishRate. Negative: unlimited.
	PublishRate float64
	// PublishBurst is the number of requests a publisher token may make at
	// once. Zero: DefaultPublishBurst. Must not be negative.
	PublishBurst int
	// AdminRate is the sustained number of requests per second each
	// publisher token may make to POST /api/admin/disconnect (429 beyond),
	// counted apart from PublishRate. Zero: DefaultAdminRate. Negative:
	// unlimited.
	AdminRate float64
	// AdminBurst is the number of admin requests a publisher token may make
	// at once. Zero: DefaultAdminBurst. Must not be negative.
	AdminBurst int
	// RESTRate is the sustained number of requests per second each
	// authenticated principal may make to GET /api/chat/context, GET
	// /api/chat/notifications and the /api/inbox routes together (429
	// beyond). Zero: DefaultRESTRate.
	// Negative: unlimited.
	RESTRate float64
	// RESTBurst is the number of those requests a principal may make at
	// once. Zero: DefaultRESTBurst. Must not be negative.
	RESTBurst int
	// Version is reported by /monitor as "notifyd/<Version>". Empty: DefaultVersion.
	Version string
	// Recorder records every request's route, method, status and duration,
	// and the outcome of each publish (see Recorder.Stats). Nil: nothing is
	// recorded.
	Recorder *Recorder
	// Logger receives error details that are never sent to clients. Nil: discard.
	Logger *slog.Logger
	// Now returns the current time, for response timestamps and the rate
	// limits. Nil: time.Now.
	Now func() time.Time
}
