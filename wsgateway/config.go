package wsgateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
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
// (GET /ws/chat?since=<id>). *history.Store satisfies it.
type History interface {
	// List returns the messages kept for host, newest first, with their
	// targets and ids. The gateway shares the result, read-only, between
	// the connections catching up on host: List must not modify the slice
	// or its messages after returning them (a fresh slice per call does),
	// and the gateway never modifies them.
	List(ctx context.Context, host string) ([]*message.Message, error)
}

// Inbox is what the gateway uses of the per-user inbox (issue 8):
// catch-up from it, badge counts, preferences and delivery cursors.
// *history.Store satisfies it. Every call carries the connection's Reader
// (its site, its token's sub and every principal of it).
type Inbox interface {
	// After returns, oldest first, at most limit entries visible to r stored
	// after since (after nothing when since is ""), and gap when since is
	// no longer kept (or not visible to r): entries may have been missed.
	After(ctx context.Context, r history.Reader, since string, limit int) ([]history.Item, bool, error)
	// Count returns r's badge counts on its site.
	Count(ctx context.Context, r history.Reader) (history.Counts, error)
	// Prefs returns user's preferences on host.
	Prefs(ctx context.Context, host, user string) (history.Prefs, error)
	// CountPrefs returns r's counts and r.User's preferences in one round
	// trip, each with its own error.
	CountPrefs(ctx context.Context, r history.Reader) history.Opening
	// Ack records that r's device received everything up to id;
	// DeviceCursor returns the last id acknowledged ("" when none).
	Ack(ctx context.Context, r history.Reader, device, id string) error
	DeviceCursor(ctx context.Context, r history.Reader, device string) (string, error)
}

var _ Inbox = (*history.Store)(nil)

// ExpiryMode says what happens to a connection of PyAMS's subprotocol when
// its token expires (Config.ExpiryMode).
type ExpiryMode string

// Expiry modes.
const (
	// ExpiryMute: the connection gets the logout frame, then nothing more
	// (it is muted); the close is left to the client, bounded by
	// Config.MuteGrace, the ping timeout and its principal's connection
	// limit. PyAMS's service worker (chat-sw.js) answers the logout frame by
	// opening a new socket with a fresh token and, whenever a socket closes,
	// drops its current socket and opens another, even a newer one: a close
	// from the server right after the logout frame leaves it with two live
	// sockets and every later notification shown twice. PyAMS's own server
	// never closes an expired socket.
	ExpiryMute ExpiryMode = "mute"
	// ExpiryClose: the connection gets the logout frame and is closed with
	// protocol.CloseUnauthorized, as every other connection is.
	ExpiryClose ExpiryMode = "close"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultExpiryMode = ExpiryMute
	DefaultMuteGrace  = 30 * time.Second // one default ping interval

	DefaultQueueSize      = 256
	DefaultWriteTimeout   = 10 * time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultReadLimit      = 4096
	DefaultShutdownSpread = time.Second
	DefaultReplayTimeout  = 5 * time.Second

	DefaultReplayConcurrency = 4

	DefaultInboxPage          = 100
	DefaultInboxTimeout       = 5 * time.Second
	DefaultBadgeInterval      = 100 * time.Millisecond
	DefaultRecountConcurrency = 4
	DefaultSpacesTimeout      = 5 * time.Second
	// DefaultSpacesReadLimit is ReadLimit's default with Spaces: a send
	// command carries a body of up to 16 KiB, JSON-escaped, plus its
	// attachments.
	DefaultSpacesReadLimit = 64 << 10

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
	// QueueSize is how many messages may wait for one connection's writer
	// while its write to the socket is blocked (the client does not read);
	// one more closes the connection with protocol.CloseSlowConsumer. While
	// the socket takes what is written, the queue may hold 16 times as many
	// (see conn.enqueue). Zero value: DefaultQueueSize (256). Negative is an
	// error.
	QueueSize int
	// WriteTimeout bounds each write to a socket: a write the client does
	// not take for between half of it and all of it drops the connection
	// (the deadline is moved only when it falls outside that window).
	// Zero value: DefaultWriteTimeout (10s). Negative is an error.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings each connection to detect
	// dead peers; a pong must arrive before the next ping is due. Zero value:
	// DefaultPingInterval (30s). Negative disables pings.
	PingInterval time.Duration
	// ReadLimit is the largest inbound message in bytes; a larger one closes
	// the connection with protocol.CloseTooBig. Zero value: DefaultReadLimit (4096),
	// or DefaultSpacesReadLimit (64 KiB) with Spaces.
	// Negative is an error.
	ReadLimit int64
	// ShutdownSpread is the window over which Shutdown spreads its closes
	// uniformly, so browsers do not reconnect in lock-step. Zero value:
	// DefaultShutdownSpread (1s). Negative closes everything at once.
	ShutdownSpread time.Duration
	// History serves catch-up on connect (?since=<id>) when Inbox is not
	// set. Zero value: no replay; a connection that asks for one gets the
	// gap frame, so that the client reloads through the REST history.
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

	// Inbox, when set, turns the inbox on (issue 8): catch-up (?since=, or
	// ?device= without since) reads it instead of History; every connection
	// reads its user's counts and preferences when it starts, gets the inbox
	// frame after every change of them, and does not get messages of a
	// muted category; a connection opened with ?device=<id> may send ack
	// frames. Zero value: off (History serves catch-up as before, ack frames
	// are ignored).
	Inbox Inbox
	// InboxPage is how many entries each Inbox.After call of a catch-up
	// asks for; a catch-up reads pages until it has caught up. Zero value:
	// DefaultInboxPage (100). Negative is an error.
	InboxPage int
	// InboxTimeout bounds each Inbox call (a catch-up page, the counts and
	// preferences read at connect, a device cursor, an ack, a recount).
	// Zero value: DefaultInboxTimeout (5s). Negative is an error.
	InboxTimeout time.Duration
	// RecountConcurrency bounds the Inbox.Count calls running at once to
	// recount the connected users who could see a retracted message. Zero
	// value: DefaultRecountConcurrency (4). Negative is an error.
	RecountConcurrency int
	// BadgeInterval is the shortest time between two inbox frames a
	// connection gets because new messages arrived: the messages go out at
	// once, and the badge after the first follows at most once per interval,
	// always with the latest counts (a badge is a state: a burst of 100
	// messages needs one, not 100 frames), with the first messages written
	// after the interval or, when none come, alone a quarter of the interval
	// later. Counts changed by a read, an
	// unread or a recount are sent at once. Zero value:
	// DefaultBadgeInterval (100ms). Negative: an inbox frame after every
	// batch of messages the writer sends.
	BadgeInterval time.Duration

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

	// ExpiryMode is what happens when the token of a connection that
	// authenticated with PyAMS's subprotocol (Sec-WebSocket-Protocol:
	// accessToken, <jwt>) expires: ExpiryMute or ExpiryClose. Connections
	// whose token came from the Authorization header or ?token= are always
	// closed (logout frame, protocol.CloseUnauthorized). Zero value:
	// DefaultExpiryMode (ExpiryMute). Another value is an error.
	ExpiryMode ExpiryMode
	// MuteGrace is how long a muted connection (ExpiryMute) may stay open
	// for its client to close it; then the server closes it with
	// protocol.CloseUnauthorized, without a second logout frame. Zero value:
	// DefaultMuteGrace (30s). Negative is an error.
	MuteGrace time.Duration

	// Spaces, when set, turns the chat on (issue 10): connections load
	// their user's spaces at connect, authenticated connections may send
	// space commands (protocol.Command) and get the space events, and
	// space messages (category protocol.SpaceCategory) are delivered to
	// the members of their space (spaces.go). Zero value: off (space
	// messages are not delivered; JSON text is ignored as before).
	Spaces Spaces
	// SpacesTimeout bounds each Spaces call (the spaces read at connect,
	// each command). Zero value: DefaultSpacesTimeout (5s). Negative is an
	// error.
	SpacesTimeout time.Duration

	// Logger receives lifecycle and per-connection logs. Zero value: discard.
	Logger *slog.Logger
	// Now returns the current time; it decides when a token has expired and
	// drives the ConnectRate buckets. Zero value: time.Now.
	Now func() time.Time
}

// withDefaults validates cfg and returns it with every zero field set to
// its default: the one place where Config defaults are applied. A Config it
// cannot use yields one error per invalid field (errors.Join), each naming
// its field and matching ErrInvalidConfig.
func (cfg Config) withDefaults() (Config, error) {
	if err := cfg.validate(); err != nil {
		return cfg, err
	}
	setDefault(&cfg.QueueSize, DefaultQueueSize)
	setDefault(&cfg.WriteTimeout, DefaultWriteTimeout)
	setDefault(&cfg.PingInterval, DefaultPingInterval)
	if cfg.Spaces != nil {
		setDefault(&cfg.ReadLimit, DefaultSpacesReadLimit)
	}
	setDefault(&cfg.ReadLimit, DefaultReadLimit)
	setDefault(&cfg.SpacesTimeout, DefaultSpacesTimeout)
	setDefault(&cfg.ShutdownSpread, DefaultShutdownSpread)
	setDefault(&cfg.ReplayTimeout, DefaultReplayTimeout)
	setDefault(&cfg.ReplayConcurrency, DefaultReplayConcurrency)
	setDefault(&cfg.InboxPage, DefaultInboxPage)
	setDefault(&cfg.InboxTimeout, DefaultInboxTimeout)
	setDefault(&cfg.RecountConcurrency, DefaultRecountConcurrency)
	setDefault(&cfg.BadgeInterval, DefaultBadgeInterval)
	setDefault(&cfg.MaxConnections, DefaultMaxConnections)
	setDefault(&cfg.MaxConnectionsPerPrincipal, DefaultMaxConnectionsPerPrincipal)
	setDefault(&cfg.ConnectRate, DefaultConnectRate)
	setDefault(&cfg.ConnectBurst, DefaultConnectBurst)
	setDefault(&cfg.ExpiryMode, DefaultExpiryMode)
	setDefault(&cfg.MuteGrace, DefaultMuteGrace)
	cfg.ClientIPHeader = strings.TrimSpace(cfg.ClientIPHeader)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

// validate returns one *fieldError per invalid field, joined, or nil.
func (cfg Config) validate() error {
	var errs []error
	check := func(bad bool, field, problem string, args ...any) {
		if bad {
			errs = append(errs, &fieldError{field: field, problem: fmt.Sprintf(problem, args...)})
		}
	}
	check(cfg.Auth == nil, "Auth", "is required")
	check(cfg.Sites == nil, "Sites", "is required")
	check(cfg.QueueSize < 0, "QueueSize", "%d is negative", cfg.QueueSize)
	check(cfg.WriteTimeout < 0, "WriteTimeout", "%v is negative", cfg.WriteTimeout)
	check(cfg.ReadLimit < 0, "ReadLimit", "%d is negative", cfg.ReadLimit)
	check(cfg.ReplayTimeout < 0, "ReplayTimeout", "%v is negative", cfg.ReplayTimeout)
	check(cfg.ReplayConcurrency < 0, "ReplayConcurrency", "%d is negative", cfg.ReplayConcurrency)
	check(cfg.InboxPage < 0, "InboxPage", "%d is negative", cfg.InboxPage)
	check(cfg.InboxTimeout < 0, "InboxTimeout", "%v is negative", cfg.InboxTimeout)
	check(cfg.SpacesTimeout < 0, "SpacesTimeout", "%v is negative", cfg.SpacesTimeout)
	check(cfg.RecountConcurrency < 0, "RecountConcurrency", "%d is negative", cfg.RecountConcurrency)
	check(cfg.ConnectBurst < 0, "ConnectBurst", "%d is negative", cfg.ConnectBurst)
	check(math.IsNaN(cfg.ConnectRate), "ConnectRate", "is NaN")
	check(cfg.ExpiryMode != "" && cfg.ExpiryMode != ExpiryMute && cfg.ExpiryMode != ExpiryClose,
		"ExpiryMode", "%q is not %q or %q", cfg.ExpiryMode, ExpiryMute, ExpiryClose)
	check(cfg.MuteGrace < 0, "MuteGrace", "%v is negative", cfg.MuteGrace)
	return errors.Join(errs...)
}

// setDefault sets *v to def when *v is zero.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// fieldError is one invalid Config field. It matches ErrInvalidConfig.
type fieldError struct {
	field   string // the Config field, e.g. "QueueSize"
	problem string // e.g. "-1 is negative"
}

func (e *fieldError) Error() string {
	return fmt.Sprintf("%v: Config.%s %s", ErrInvalidConfig, e.field, e.problem)
}

func (e *fieldError) Unwrap() error { return ErrInvalidConfig }
