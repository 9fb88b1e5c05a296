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
	"github.com/notifyd/notifyd/protocol"
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
	// Zero value: start live, without replay (or, with Device, after the
	// device's last ack).
	Since string
	// Device names this client's delivery cursor on the server (1 to
	// protocol.MaxDeviceLength characters of [0-9A-Za-z._:-], the gateway's
	// rule), sent as ?device=. The client then acks
	// each notification once OnMessage has returned, coalesced (the newest
	// id wins while an ack is being written), so that a later Run with the
	// same user and Device and no Since resumes after the last message
	// handled: at-least-once without client storage. Zero value: no acks.
	Device string
	// API is the REST API's base URL (http(s)://host[:port]). Zero value:
	// derived from URL (ws becomes http, wss https; same host; its host
	// query parameter, if any, kept).
	API string

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

	// The listeners below receive the other frames a gateway sends, decoded.
	// Like the ones above they run on the listeners' goroutine, one at a time, in
	// the order frames arrive; a nil listener ignores its frames.

	// OnInbox receives the user's badge counts on the site: at connect and
	// after every change (a new message, read, unread, seen, retract).
	OnInbox func(Counts)
	// OnUpdate receives a notification that was changed, in its new push
	// form (raw is the frame, action "update"; valid until OnUpdate
	// returns).
	OnUpdate func(m *message.Message, raw []byte)
	// OnRetract receives the id of a retracted message: a notification
	// (space is "") or a space message of a subscribed space.
	OnRetract func(space, id string)
	// OnChat receives the message events of every subscribed space: new
	// messages (Action protocol.ActionMessage) and edits
	// (protocol.ActionUpdate), with body, sender (from the sender's token)
	// and space. Subscribe's callback receives those of its space too.
	OnChat func(protocol.SpaceMessage)
	// OnTyping receives the typing events of subscribed spaces (never one's
	// own).
	OnTyping func(protocol.Typing)
	// OnReaction receives reactions added or removed in subscribed spaces.
	OnReaction func(protocol.Reaction)
	// OnActivity receives the new messages of the user's spaces that this
	// client did not subscribe to (an unread mark), except its own.
	OnActivity func(protocol.Activity)
	// OnMember receives membership events of subscribed spaces, and the
	// user's own (joined or removed, or the space deleted).
	OnMember func(protocol.Member)

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
	if cfg.Device != "" && !validDevice(cfg.Device) {
		return cfg, fmt.Errorf("%w: Device %q: want 1 to 64 characters of [0-9A-Za-z._:-]", ErrInvalidConfig, cfg.Device)
	}
	if cfg.API == "" {
		cfg.API = apiBase(cfg.URL)
	} else if u, err := url.Parse(cfg.API); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("%w: API %q: want http://host or https://host", ErrInvalidConfig, cfg.API)
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

// validDevice is the gateway's rule for ?device= ids.
func validDevice(d string) bool {
	return len(d) <= protocol.MaxDeviceLength && message.ValidID(d)
}

// apiBase derives the REST base URL from a checked websocket URL: the same
// host over http(s), no path, its host query parameter kept.
func apiBase(ws string) string {
	u, err := url.Parse(ws)
	if err != nil {
		return ""
	}
	scheme := "http"
	if u.Scheme == "wss" || u.Scheme == "https" {
		scheme = "https"
	}
	base := &url.URL{Scheme: scheme, Host: u.Host}
	if h := u.Query().Get("host"); h != "" {
		base.RawQuery = url.Values{"host": {h}}.Encode()
	}
	return base.String()
}
