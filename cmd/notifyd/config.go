package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/notifyd/notifyd/wsgateway"
	"github.com/redis/go-redis/v9"
)

// config is everything notifyd reads from flags and the environment. Each
// flag falls back to the environment variable named in its usage, then to
// the default shown.
type config struct {
	Addr                string
	RedisURL            string
	RedisAddrs          []string
	RedisMasterName     string
	RedisPassword       string
	EmbeddedRedisAddr   string
	Channel             string
	NotificationsKey    string
	NotificationsLength int
	JWTSecret           string
	JWTPublicKey        string
	PrincipalsClaim     string
	SiteClaim           string
	AllowedOrigins      []string
	DefaultHost         string
	PublishTokens       []string
	Admins              []string
	RulesFile           string
	LogLevel            slog.Level
	ShutdownTimeout     time.Duration
	ShutdownSpread      time.Duration
	QueueSize           int
	WriteTimeout        time.Duration
	ReadLimit           int64
	MaxMessageSize      int
	ControlChannel      string
	RevocationTTL       time.Duration
	MaxConnections      int
	MaxPerPrincipal     int
	ConnectRate         float64
	ConnectBurst        int
	PublishRate         float64
	PublishBurst        int
	ClientIPHeader      string
	ReplayConcurrency   int
	JWTAudience         string
	JWTIssuer           string
	JWTLeeway           time.Duration
	AdminRate           float64
	AdminBurst          int
	RESTRate            float64
	RESTBurst           int
	WSExpiryMode        wsgateway.ExpiryMode
	WSMuteGrace         time.Duration
	BadgeInterval       time.Duration
	HTTPReadTimeout     time.Duration
	HTTPWriteTimeout    time.Duration
	MaxConnsPerAddr     int
	AdminAddr           string
	DeliveryChannel     string
	InboxLength         int
	InboxTTL            time.Duration
	InboxCountCap       int
	IdempotencyWindow   time.Duration
	DedupWindow         time.Duration
	Spaces              bool
	SpacesChannel       string
	SpaceSendRate       float64
	SpaceSendBurst      int
	WebhookAllowPrivate bool
	WebhookMaxAge       time.Duration
	Console             bool
}

// setting binds one flag to its environment variable and its key in the
// configuration file (the flag name). Its usage is the README's "meaning"
// column: Markdown, where only backquotes are used (stripped for -h and
// the commented defaults file).
type setting struct {
	flag, env, def, usage string
	value
}

// value parses one setting's text into the config.
type value struct {
	set    func(string) error
	list   bool // comma-separated in flags and environment, a YAML list or a comma-separated string in a file
	secret bool // masked wherever the configuration is printed
}

// secret marks v as a secret.
func secret(v value) value { v.secret = true; return v }

func settings(c *config) []setting {
	str := func(dst *string) value { return value{set: func(v string) error { *dst = v; return nil }} }
	list := func(dst *[]string) value {
		return value{set: func(v string) error { *dst = splitList(v); return nil }, list: true}
	}
	num := func(dst *int, min int) value {
		return value{set: func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				return fmt.Errorf("want an integer >= %d", min)
			}
			*dst = n
			return nil
		}}
	}
	rate := func(dst *float64) value {
		return value{set: func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return errors.New("want a number (negative disables)")
			}
			*dst = f
			return nil
		}}
	}
	dur := func(dst *time.Duration) value {
		return value{set: func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return errors.New("want a non-negative duration such as 10s")
			}
			*dst = d
			return nil
		}}
	}
	// sdur is a duration where a negative value means "none".
	sdur := func(dst *time.Duration) value {
		return value{set: func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("want a duration such as 5s (negative: none)")
			}
			*dst = d
			return nil
		}}
	}
	boolean := func(dst *bool) value {
		return value{set: func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			*dst = b
			return nil
		}}
	}
	return []setting{
		{"addr", "NOTIFYD_ADDR", ":8080", "HTTP listen address (REST, websocket, health)", str(&c.Addr)},
		{"admin-addr", "NOTIFYD_ADMIN_ADDR", "", "admin listener (`/metrics`, `/healthz`, `/readyz`, `/debug/pprof/`); when set, `/metrics` leaves the public address. Keep it on a private network", str(&c.AdminAddr)},
		{"redis-url", "NOTIFYD_REDIS_URL", "", "`redis://[user:pass@]host:port/db` or `rediss://`; empty runs the embedded in-process Redis (not durable, not shared)", str(&c.RedisURL)},
		{"redis-addrs", "NOTIFYD_REDIS_ADDRS", "", "comma-separated `host:port`: Sentinel addresses when a master name is set, else Redis Cluster seed nodes (exclusive with the URL)", list(&c.RedisAddrs)},
		{"redis-master-name", "NOTIFYD_REDIS_MASTER_NAME", "", "Sentinel master name (with `NOTIFYD_REDIS_ADDRS`)", str(&c.RedisMasterName)},
		{"redis-password", "NOTIFYD_REDIS_PASSWORD", "", "password for the `NOTIFYD_REDIS_ADDRS` servers (a URL carries its own)", secret(str(&c.RedisPassword))},
		{"embedded-redis-addr", "NOTIFYD_EMBEDDED_REDIS_ADDR", "127.0.0.1:6399", "where the embedded Redis listens when no Redis is configured (port 0: any free port)", str(&c.EmbeddedRedisAddr)},
		{"channel", "NOTIFYD_CHANNEL", "chat:main", "pubsub channel (PyAMS `channel_name`)", str(&c.Channel)},
		{"notifications-key", "NOTIFYD_NOTIFICATIONS_KEY", "chat:notifications", "history lists are `<key>::<host>` (PyAMS `notifications_key`)", str(&c.NotificationsKey)},
		{"notifications-length", "NOTIFYD_NOTIFICATIONS_LENGTH", "50", "messages kept per site", num(&c.NotificationsLength, 1)},
		{"idempotency-window", "NOTIFYD_IDEMPOTENCY_WINDOW", "24h", "how long a publish retried with the same `Idempotency-Key` gets the first answer (a few hundred bytes of Redis per keyed publish)", dur(&c.IdempotencyWindow)},
		{"dedup-window", "NOTIFYD_DEDUP_WINDOW", "10m", "how long a message id is remembered, so that the same message (a bare PUBLISH seen by every gateway, a retry with its `id`) is stored and delivered once", dur(&c.DedupWindow)},
		{"jwt-secret", "NOTIFYD_JWT_SECRET", "", "HMAC secret, at least 32 bytes: accepts HS256/384/512", secret(str(&c.JWTSecret))},
		{"jwt-public-key", "NOTIFYD_JWT_PUBLIC_KEY", "", "PEM file of public keys: accepts RS*/PS* (RSA), ES* (ECDSA), EdDSA. Set exactly one of secret and key", str(&c.JWTPublicKey)},
		{"jwt-audience", "NOTIFYD_JWT_AUDIENCE", "", "when set, every token must carry an `aud` claim equal to it or listing it; empty: `aud` is not checked", str(&c.JWTAudience)},
		{"jwt-issuer", "NOTIFYD_JWT_ISSUER", "", "when set, every token must carry this exact `iss`; empty: `iss` is not checked", str(&c.JWTIssuer)},
		{"jwt-leeway", "NOTIFYD_JWT_LEEWAY", "5s", "clock skew tolerated on `exp`, `nbf` and `iat`, the same for REST, websockets and revocation: a token works until `exp` + leeway (an open websocket is closed or muted at that instant); `0` means the default, a negative value none", sdur(&c.JWTLeeway)},
		{"principals-claim", "NOTIFYD_PRINCIPALS_CLAIM", "principals", "claim (string or list of strings) with the bearer's groups and roles", str(&c.PrincipalsClaim)},
		{"jwt-site-claim", "NOTIFYD_JWT_SITE_CLAIM", "", "claim (string or list) naming the sites a token is valid for; when set, a token without it, or used for another site (websocket or REST), is refused like an invalid token; empty: tokens are valid for every site (PyAMS's behaviour)", str(&c.SiteClaim)},
		{"allowed-origins", "NOTIFYD_ALLOWED_ORIGINS", "", "comma-separated origins (`https://app.example.com`) allowed to open websockets and call the REST API from a browser; `*` allows any; empty allows same-origin browsers and clients that send no `Origin`", list(&c.AllowedOrigins)},
		{"default-host", "NOTIFYD_DEFAULT_HOST", "", "site of clients that send neither `Origin` nor `?host=`", str(&c.DefaultHost)},
		{"publish-tokens", "NOTIFYD_PUBLISH_TOKENS", "", "comma-separated tokens (16+ characters) accepted by `POST /api/chat/messages`; empty refuses every publish request", secret(list(&c.PublishTokens))},
		{"admins", "NOTIFYD_ADMINS", "", "comma-separated principals that receive `user.login` besides `system:admin`", list(&c.Admins)},
		{"rules", "NOTIFYD_RULES", "", "JSON rules file mapping categories to target principals (format under \"Category handlers and rules\" in README)", str(&c.RulesFile)},
		{"log-level", "NOTIFYD_LOG_LEVEL", "info", "`debug`, `info`, `warn` or `error` (JSON logs on stderr)", value{set: func(v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }}},
		{"shutdown-timeout", "NOTIFYD_SHUTDOWN_TIMEOUT", "10s", "longest graceful shutdown before connections are cut", dur(&c.ShutdownTimeout)},
		{"shutdown-spread", "NOTIFYD_SHUTDOWN_SPREAD", "1s", "websocket closes at shutdown are spread over this window", dur(&c.ShutdownSpread)},
		{"queue-size", "NOTIFYD_QUEUE_SIZE", "256", "messages queued per websocket while a write to it is blocked (the client does not read); a client that falls further behind is closed with 4000. While its socket takes writes (the gateway is short of CPU), 16 times as many", num(&c.QueueSize, 1)},
		{"write-timeout", "NOTIFYD_WRITE_TIMEOUT", "10s", "deadline of one websocket write: a client that takes nothing for between half of it and all of it is dropped", dur(&c.WriteTimeout)},
		{"read-limit", "NOTIFYD_READ_LIMIT", "65536", "largest inbound websocket frame (bytes); larger closes with 1009. A space `send` carries up to 16 KiB of text, JSON-escaped, plus attachments", value{set: func(v string) error {
			var n int
			if err := num(&n, 16).set(v); err != nil {
				return err
			}
			c.ReadLimit = int64(n)
			return nil
		}}},
		{"max-message-size", "NOTIFYD_MAX_MESSAGE_SIZE", "65536", "largest message (bytes) on publish and on the channel", num(&c.MaxMessageSize, 256)},
		{"delivery-channel", "NOTIFYD_DELIVERY_CHANNEL", "notifyd:delivery", "internal channel on which the store that wins a message publishes it for every gateway to deliver: the inbox and its single order. `off` turns the inbox off (`chat:main` is then delivered directly, as in earlier versions)", value{set: func(v string) error {
			if v == "off" {
				v = ""
			}
			c.DeliveryChannel = v
			return nil
		}}},
		{"inbox-length", "NOTIFYD_INBOX_LENGTH", "1000", "entries each principal's inbox index keeps per site", num(&c.InboxLength, 1)},
		{"inbox-ttl", "NOTIFYD_INBOX_TTL", "720h", "how long a stored message and its inbox entries are kept (30 days)", dur(&c.InboxTTL)},
		{"inbox-count-cap", "NOTIFYD_INBOX_COUNT_CAP", "1000", "unread and unseen counts stop at this figure (it bounds the work of a count)", num(&c.InboxCountCap, 1)},
		{"badge-interval", "NOTIFYD_BADGE_INTERVAL", "100ms", "shortest time between two inbox frames a connection gets for new messages (the latest counts follow with the next messages once it has passed, or alone a quarter of it later; reads and recounts go at once); negative: one after every batch", sdur(&c.BadgeInterval)},
		{"spaces", "NOTIFYD_SPACES", "true", "the chat: spaces, their websocket commands and REST routes, webhooks for bots (needs the inbox: off with `NOTIFYD_DELIVERY_CHANNEL=off`)", boolean(&c.Spaces)},
		{"spaces-channel", "NOTIFYD_SPACES_CHANNEL", "notifyd:spaces", "channel on which gateways tell each other of membership changes, typing and reactions", str(&c.SpacesChannel)},
		{"space-send-rate", "NOTIFYD_SPACE_SEND_RATE", "5", "space messages per second one user may send, websocket and REST together; more are refused (`rate_limited`, 429)", rate(&c.SpaceSendRate)},
		{"space-send-burst", "NOTIFYD_SPACE_SEND_BURST", "20", "burst of space messages per user", num(&c.SpaceSendBurst, 1)},
		{"webhook-allow-private", "NOTIFYD_WEBHOOK_ALLOW_PRIVATE", "false", "allow webhook URLs that resolve to loopback, private or link-local addresses (single-host setups and tests only: otherwise a bot could make notifyd call into your network)", boolean(&c.WebhookAllowPrivate)},
		{"webhook-max-age", "NOTIFYD_WEBHOOK_MAX_AGE", "10m", "how long a webhook delivery is retried (with backoff) before it is given up", dur(&c.WebhookMaxAge)},
		{"console", "NOTIFYD_CONSOLE", "true", "serve the live console at `/console/` (a page: paste a token to watch notifications, the badge and spaces live; a publisher token for the admin view)", boolean(&c.Console)},
		{"control-channel", "NOTIFYD_CONTROL_CHANNEL", "notifyd:control", "channel on which gateways tell each other to disconnect a principal", str(&c.ControlChannel)},
		{"revocation-ttl", "NOTIFYD_REVOCATION_TTL", "168h", "how long a revocation is remembered; at least your longest token lifetime", dur(&c.RevocationTTL)},
		{"max-connections", "NOTIFYD_MAX_CONNECTIONS", "10000", "websockets per gateway; more get 503 at the handshake (`-1` disables)", num(&c.MaxConnections, -1)},
		{"max-connections-per-principal", "NOTIFYD_MAX_CONNECTIONS_PER_PRINCIPAL", "32", "websockets per principal per gateway; more get 429 (`-1` disables)", num(&c.MaxPerPrincipal, -1)},
		{"connect-rate", "NOTIFYD_CONNECT_RATE", "5", "new websockets per second per client address; more get 429 (negative disables)", rate(&c.ConnectRate)},
		{"connect-burst", "NOTIFYD_CONNECT_BURST", "20", "burst of new websockets per client address", num(&c.ConnectBurst, 1)},
		{"publish-rate", "NOTIFYD_PUBLISH_RATE", "100", "`POST /api/chat/messages` requests per second per publisher token; more get 429 (negative disables)", rate(&c.PublishRate)},
		{"publish-burst", "NOTIFYD_PUBLISH_BURST", "200", "burst of publish requests per publisher token", num(&c.PublishBurst, 1)},
		{"admin-rate", "NOTIFYD_ADMIN_RATE", "100", "`POST /api/admin/disconnect` requests per second per publisher token, in a bucket of their own so a publish flood never delays a revocation; more get 429 (negative disables)", rate(&c.AdminRate)},
		{"admin-burst", "NOTIFYD_ADMIN_BURST", "200", "burst of admin requests per publisher token", num(&c.AdminBurst, 1)},
		{"rest-rate", "NOTIFYD_REST_RATE", "20", "`GET /api/chat/context` and `GET /api/chat/notifications` requests per second per authenticated principal, all its tokens together; more get 429 (negative disables)", rate(&c.RESTRate)},
		{"rest-burst", "NOTIFYD_REST_BURST", "40", "burst of REST requests per principal", num(&c.RESTBurst, 1)},
		{"ws-expiry-mode", "NOTIFYD_WS_EXPIRY_MODE", "mute", "at token expiry, a websocket that sent its token as the `accessToken` subprotocol (PyAMS's browser client) gets the logout frame and then nothing more, and its client closes it (`mute`); or it is closed with 4001 at once (`close`). Other websockets are always closed", value{set: func(v string) error {
			switch m := wsgateway.ExpiryMode(v); m {
			case wsgateway.ExpiryMute, wsgateway.ExpiryClose:
				c.WSExpiryMode = m
				return nil
			}
			return errors.New("want mute or close")
		}}},
		{"ws-mute-grace", "NOTIFYD_WS_MUTE_GRACE", "30s", "longest time a muted websocket stays open before the server closes it (4001)", dur(&c.WSMuteGrace)},
		{"http-read-timeout", "NOTIFYD_HTTP_READ_TIMEOUT", "10s", "longest time to receive a request body, on every route but `/ws/chat`", dur(&c.HTTPReadTimeout)},
		{"http-write-timeout", "NOTIFYD_HTTP_WRITE_TIMEOUT", "30s", "longest time to handle a request and write its answer, on every route but `/ws/chat`", dur(&c.HTTPWriteTimeout)},
		{"max-connections-per-addr", "NOTIFYD_MAX_CONNECTIONS_PER_ADDR", "512", "TCP connections (websockets and HTTP alike) one client address may hold at once (the TCP peer; IPv6 by /64); more are closed as soon as accepted. Behind a proxy every client shares its address: raise it or `-1` (disables)", num(&c.MaxConnsPerAddr, -1)},
		{"replay-concurrency", "NOTIFYD_REPLAY_CONCURRENCY", "4", "history reads in flight for `?since=` catch-ups; concurrent catch-ups of one site share one read", num(&c.ReplayConcurrency, 1)},
		{"client-ip-header", "NOTIFYD_CLIENT_IP_HEADER", "", "header carrying the client address behind a trusted proxy (e.g. `X-Forwarded-For`, rightmost entry); empty uses the TCP peer", str(&c.ClientIPHeader)},
	}
}

// configFile is the setting that names the configuration file. It is not
// in settings(): a file cannot name another file.
var configFile = setting{flag: "config", env: "NOTIFYD_CONFIG", usage: "YAML configuration file whose keys are the flag names " +
	"(`redis-url: redis://redis:6379/0`); flags and environment variables override it. " +
	"`notifyd config defaults` prints one with every setting, `notifyd config check` validates one. " +
	"Refused when it holds a secret and every user may read it"}

// source says where a setting's effective value came from.
type source struct {
	kind  string // "default", "file", "env" or "flag"
	where string // the file and line, the variable or the flag; empty for a default
}

func (s source) String() string {
	if s.where == "" {
		return s.kind
	}
	return s.kind + " " + s.where
}

// resolved is one setting's effective value and its source.
type resolved struct {
	setting
	value string
	from  source
}

// parseConfig reads args, falling back to getenv, then to the configuration
// file, then to defaults. Errors name the flag and the environment variable.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c, _, err := loadConfig(args, getenv, out)
	return c, err
}

// loadConfig is parseConfig that also returns every setting's effective
// value and source, in the order of settings(). Precedence: flag >
// environment (when not empty) > file > default.
func loadConfig(args []string, getenv func(string) string, out io.Writer) (*config, []resolved, error) {
	c := &config{}
	fs := flag.NewFlagSet("notifyd", flag.ContinueOnError)
	fs.SetOutput(out)
	all := settings(c)
	values := make(map[string]*string, len(all))
	for _, s := range append([]setting{configFile}, all...) {
		values[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", plainUsage(s.usage), s.env, s.def))
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	path := getenv(configFile.env)
	if explicit[configFile.flag] {
		path = *values[configFile.flag]
	}
	var file map[string]fileValue
	if path != "" {
		var err error
		if file, err = readConfigFile(path, all); err != nil {
			return nil, nil, err
		}
	}
	res := make([]resolved, 0, len(all))
	for _, s := range all {
		v, from := s.def, source{kind: "default"}
		if f, ok := file[s.flag]; ok {
			v, from = f.text, source{"file", fmt.Sprintf("%s line %d", path, f.line)}
		}
		if e := getenv(s.env); e != "" {
			v, from = e, source{"env", s.env}
		}
		if explicit[s.flag] {
			v, from = *values[s.flag], source{"flag", "-" + s.flag}
		}
		if err := s.set(v); err != nil {
			shown := strconv.Quote(v)
			if s.secret {
				shown = "(secret not shown)"
			}
			return nil, nil, fmt.Errorf("invalid %s (-%s / %s) from %s: %s: %w", s.flag, s.flag, s.env, from, shown, err)
		}
		res = append(res, resolved{s, v, from})
	}
	return c, res, c.check()
}

// plainUsage is a usage without its Markdown backquotes, for the terminal
// and file comments (the flag package would read a backquoted word as the
// name of the flag's value).
func plainUsage(u string) string { return strings.ReplaceAll(u, "`", "") }

func (c *config) check() error {
	switch {
	case c.JWTSecret == "" && c.JWTPublicKey == "":
		return errors.New("no token verification configured: set NOTIFYD_JWT_SECRET (-jwt-secret) or NOTIFYD_JWT_PUBLIC_KEY (-jwt-public-key)")
	case c.JWTSecret != "" && c.JWTPublicKey != "":
		return errors.New("set only one of NOTIFYD_JWT_SECRET and NOTIFYD_JWT_PUBLIC_KEY")
	case c.RedisURL != "" && len(c.RedisAddrs) > 0:
		return errors.New("set only one of NOTIFYD_REDIS_URL and NOTIFYD_REDIS_ADDRS")
	case c.RedisURL != "" && !validRedisURL(c.RedisURL):
		return errors.New("invalid NOTIFYD_REDIS_URL (-redis-url): want redis://[user:pass@]host:port/db or rediss://…")
	case c.RedisMasterName != "" && len(c.RedisAddrs) == 0:
		return errors.New("NOTIFYD_REDIS_MASTER_NAME needs NOTIFYD_REDIS_ADDRS (the Sentinel addresses)")
	case c.ControlChannel == "" || c.ControlChannel == c.Channel:
		return errors.New("NOTIFYD_CONTROL_CHANNEL (-control-channel) must be set and differ from NOTIFYD_CHANNEL")
	case c.DeliveryChannel != "" && (c.DeliveryChannel == c.Channel || c.DeliveryChannel == c.ControlChannel):
		return errors.New("NOTIFYD_DELIVERY_CHANNEL (-delivery-channel) must differ from NOTIFYD_CHANNEL and NOTIFYD_CONTROL_CHANNEL")
	case c.Spaces && c.DeliveryChannel != "" && (c.SpacesChannel == "" || c.SpacesChannel == c.Channel ||
		c.SpacesChannel == c.ControlChannel || c.SpacesChannel == c.DeliveryChannel):
		return errors.New("NOTIFYD_SPACES_CHANNEL (-spaces-channel) must be set and differ from the other channels")
	case c.InboxTTL == 0:
		return errors.New("NOTIFYD_INBOX_TTL (-inbox-ttl) must be positive")
	case c.Channel == "":
		return errors.New("NOTIFYD_CHANNEL (-channel) must not be empty")
	case c.NotificationsKey == "":
		return errors.New("NOTIFYD_NOTIFICATIONS_KEY (-notifications-key) must not be empty")
	case strings.ContainsAny(c.NotificationsKey, "{}"):
		return errors.New("NOTIFYD_NOTIFICATIONS_KEY (-notifications-key) must not contain { or }: notifyd adds its own Redis Cluster hash tag")
	}
	return nil
}

// validRedisURL reports whether go-redis accepts u. Its error is not
// returned: it may quote the URL, password included.
func validRedisURL(u string) bool {
	_, err := redis.ParseURL(u)
	return err == nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
