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
}

// setting binds one flag to its environment variable.
type setting struct {
	flag, env, def, usage string
	set                   func(string) error
}

func settings(c *config) []setting {
	str := func(dst *string) func(string) error { return func(v string) error { *dst = v; return nil } }
	list := func(dst *[]string) func(string) error {
		return func(v string) error { *dst = splitList(v); return nil }
	}
	num := func(dst *int, min int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				return fmt.Errorf("want an integer >= %d", min)
			}
			*dst = n
			return nil
		}
	}
	rate := func(dst *float64) func(string) error {
		return func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return errors.New("want a number (negative disables)")
			}
			*dst = f
			return nil
		}
	}
	dur := func(dst *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return errors.New("want a non-negative duration such as 10s")
			}
			*dst = d
			return nil
		}
	}
	// sdur is a duration where a negative value means "none".
	sdur := func(dst *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New("want a duration such as 5s (negative: none)")
			}
			*dst = d
			return nil
		}
	}
	return []setting{
		{"addr", "NOTIFYD_ADDR", ":8080", "HTTP listen address", str(&c.Addr)},
		{"admin-addr", "NOTIFYD_ADMIN_ADDR", "", "listen address of the admin listener (/metrics, /healthz, /readyz, /debug/pprof/); when set, /metrics leaves the public address; keep it on a private network", str(&c.AdminAddr)},
		{"redis-url", "NOTIFYD_REDIS_URL", "", "Redis URL (redis:// or rediss://); empty runs an embedded in-process Redis that keeps nothing", str(&c.RedisURL)},
		{"redis-addrs", "NOTIFYD_REDIS_ADDRS", "", "comma-separated host:port list: Sentinel addresses with -redis-master-name, else Redis Cluster seed nodes", list(&c.RedisAddrs)},
		{"redis-master-name", "NOTIFYD_REDIS_MASTER_NAME", "", "Sentinel master name (with NOTIFYD_REDIS_ADDRS)", str(&c.RedisMasterName)},
		{"redis-password", "NOTIFYD_REDIS_PASSWORD", "", "password for NOTIFYD_REDIS_ADDRS servers (a URL carries its own)", str(&c.RedisPassword)},
		{"embedded-redis-addr", "NOTIFYD_EMBEDDED_REDIS_ADDR", "127.0.0.1:6399", "listen address of the embedded Redis used when no Redis URL is set (port 0 picks a free one)", str(&c.EmbeddedRedisAddr)},
		{"channel", "NOTIFYD_CHANNEL", "chat:main", "Redis pubsub channel (PyAMS channel_name)", str(&c.Channel)},
		{"notifications-key", "NOTIFYD_NOTIFICATIONS_KEY", "chat:notifications", "prefix of the per-site history lists <key>::<host>", str(&c.NotificationsKey)},
		{"notifications-length", "NOTIFYD_NOTIFICATIONS_LENGTH", "50", "messages kept per site history list", num(&c.NotificationsLength, 1)},
		{"idempotency-window", "NOTIFYD_IDEMPOTENCY_WINDOW", "24h", "how long a publish retried with the same Idempotency-Key gets the first answer", dur(&c.IdempotencyWindow)},
		{"dedup-window", "NOTIFYD_DEDUP_WINDOW", "10m", "how long a message id is remembered so that the same message is stored and delivered once", dur(&c.DedupWindow)},
		{"jwt-secret", "NOTIFYD_JWT_SECRET", "", "HMAC secret (>= 32 bytes) verifying HS256/384/512 tokens", str(&c.JWTSecret)},
		{"jwt-public-key", "NOTIFYD_JWT_PUBLIC_KEY", "", "PEM file of public keys verifying RS/PS/ES/EdDSA tokens", str(&c.JWTPublicKey)},
		{"jwt-audience", "NOTIFYD_JWT_AUDIENCE", "", "when set, every token must carry an aud claim equal to it or listing it; empty: aud is not checked", str(&c.JWTAudience)},
		{"jwt-issuer", "NOTIFYD_JWT_ISSUER", "", "when set, every token must carry this exact iss; empty: iss is not checked", str(&c.JWTIssuer)},
		{"jwt-leeway", "NOTIFYD_JWT_LEEWAY", "5s", "clock skew tolerated on exp, nbf and iat, the same for REST, websockets and revocations (negative: none)", sdur(&c.JWTLeeway)},
		{"principals-claim", "NOTIFYD_PRINCIPALS_CLAIM", "principals", "token claim listing the bearer's extra principals", str(&c.PrincipalsClaim)},
		{"jwt-site-claim", "NOTIFYD_JWT_SITE_CLAIM", "", "token claim listing the sites (origins) a token is valid for; when set, tokens without it or used for another site are refused; empty: tokens are valid for every site", str(&c.SiteClaim)},
		{"allowed-origins", "NOTIFYD_ALLOWED_ORIGINS", "", "comma-separated browser origins allowed to connect; * allows any; empty allows same-origin and non-browser clients", list(&c.AllowedOrigins)},
		{"default-host", "NOTIFYD_DEFAULT_HOST", "", "site of clients that send neither Origin nor ?host=", str(&c.DefaultHost)},
		{"publish-tokens", "NOTIFYD_PUBLISH_TOKENS", "", "comma-separated tokens allowed to POST /api/chat/messages (each >= 16 characters)", list(&c.PublishTokens)},
		{"admins", "NOTIFYD_ADMINS", "", "comma-separated principals that receive user.login besides system:admin", list(&c.Admins)},
		{"rules", "NOTIFYD_RULES", "", "JSON rules file mapping categories to target principals", str(&c.RulesFile)},
		{"log-level", "NOTIFYD_LOG_LEVEL", "info", "debug, info, warn or error", func(v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{"shutdown-timeout", "NOTIFYD_SHUTDOWN_TIMEOUT", "10s", "longest graceful shutdown before connections are cut", dur(&c.ShutdownTimeout)},
		{"shutdown-spread", "NOTIFYD_SHUTDOWN_SPREAD", "1s", "window over which websocket closes are spread at shutdown", dur(&c.ShutdownSpread)},
		{"queue-size", "NOTIFYD_QUEUE_SIZE", "256", "messages queued per websocket before it is closed as a slow consumer (4000)", num(&c.QueueSize, 1)},
		{"write-timeout", "NOTIFYD_WRITE_TIMEOUT", "10s", "deadline of one websocket write", dur(&c.WriteTimeout)},
		{"read-limit", "NOTIFYD_READ_LIMIT", "4096", "largest inbound websocket frame in bytes (larger: close 1009)", func(v string) error {
			var n int
			if err := num(&n, 16)(v); err != nil {
				return err
			}
			c.ReadLimit = int64(n)
			return nil
		}},
		{"max-message-size", "NOTIFYD_MAX_MESSAGE_SIZE", "65536", "largest message in bytes, on publish and on the channel", num(&c.MaxMessageSize, 256)},
		{"delivery-channel", "NOTIFYD_DELIVERY_CHANNEL", "notifyd:delivery", "internal channel on which the store that wins a message publishes it for every gateway to deliver (the inbox); empty turns the inbox off (chat:main is then delivered directly, as before)", str(&c.DeliveryChannel)},
		{"inbox-length", "NOTIFYD_INBOX_LENGTH", "1000", "entries each principal's inbox index keeps per site", num(&c.InboxLength, 1)},
		{"inbox-ttl", "NOTIFYD_INBOX_TTL", "720h", "how long a stored message and its inbox entries are kept", dur(&c.InboxTTL)},
		{"inbox-count-cap", "NOTIFYD_INBOX_COUNT_CAP", "1000", "unread and unseen counts stop at this figure (bounds the work of a count)", num(&c.InboxCountCap, 1)},
		{"control-channel", "NOTIFYD_CONTROL_CHANNEL", "notifyd:control", "pubsub channel gateways use to tell each other to disconnect a principal", str(&c.ControlChannel)},
		{"revocation-ttl", "NOTIFYD_REVOCATION_TTL", "168h", "how long a revocation is remembered; set it at least to your longest token lifetime", dur(&c.RevocationTTL)},
		{"max-connections", "NOTIFYD_MAX_CONNECTIONS", "10000", "websockets per gateway (more: 503 at the handshake; -1 disables)", num(&c.MaxConnections, -1)},
		{"max-connections-per-principal", "NOTIFYD_MAX_CONNECTIONS_PER_PRINCIPAL", "32", "websockets per principal per gateway (more: 429; -1 disables)", num(&c.MaxPerPrincipal, -1)},
		{"connect-rate", "NOTIFYD_CONNECT_RATE", "5", "new websockets per second per client address (more: 429; negative disables)", rate(&c.ConnectRate)},
		{"connect-burst", "NOTIFYD_CONNECT_BURST", "20", "burst of new websockets per client address", num(&c.ConnectBurst, 1)},
		{"publish-rate", "NOTIFYD_PUBLISH_RATE", "100", "publish requests per second per publisher token (POST /api/chat/messages; more: 429; negative disables)", rate(&c.PublishRate)},
		{"publish-burst", "NOTIFYD_PUBLISH_BURST", "200", "burst of publish requests per publisher token", num(&c.PublishBurst, 1)},
		{"admin-rate", "NOTIFYD_ADMIN_RATE", "100", "POST /api/admin/disconnect requests per second per publisher token, apart from publishing (more: 429; negative disables)", rate(&c.AdminRate)},
		{"admin-burst", "NOTIFYD_ADMIN_BURST", "200", "burst of admin requests per publisher token", num(&c.AdminBurst, 1)},
		{"rest-rate", "NOTIFYD_REST_RATE", "20", "GET /api/chat/context and /api/chat/notifications requests per second per principal (more: 429; negative disables)", rate(&c.RESTRate)},
		{"rest-burst", "NOTIFYD_REST_BURST", "40", "burst of REST requests per principal", num(&c.RESTBurst, 1)},
		{"ws-expiry-mode", "NOTIFYD_WS_EXPIRY_MODE", "mute", "at token expiry, a websocket that sent its token as the accessToken subprotocol (PyAMS) gets the logout frame and then nothing (mute; its client closes it) or is closed with 4001 (close)", func(v string) error {
			switch m := wsgateway.ExpiryMode(v); m {
			case wsgateway.ExpiryMute, wsgateway.ExpiryClose:
				c.WSExpiryMode = m
				return nil
			}
			return errors.New("want mute or close")
		}},
		{"ws-mute-grace", "NOTIFYD_WS_MUTE_GRACE", "30s", "longest time a muted websocket stays open before the server closes it (4001)", dur(&c.WSMuteGrace)},
		{"http-read-timeout", "NOTIFYD_HTTP_READ_TIMEOUT", "10s", "longest time to receive a request body, for every route but /ws/chat", dur(&c.HTTPReadTimeout)},
		{"http-write-timeout", "NOTIFYD_HTTP_WRITE_TIMEOUT", "30s", "longest time to handle a request and write its answer, for every route but /ws/chat", dur(&c.HTTPWriteTimeout)},
		{"max-connections-per-addr", "NOTIFYD_MAX_CONNECTIONS_PER_ADDR", "512", "TCP connections (websockets and HTTP) one client address (TCP peer; IPv6 by /64) may hold at once; more are closed at accept (-1 disables; raise it behind a proxy, whose address all clients share)", num(&c.MaxConnsPerAddr, -1)},
		{"replay-concurrency", "NOTIFYD_REPLAY_CONCURRENCY", "4", "history reads in flight for ?since= catch-ups (concurrent catch-ups of one site share a read)", num(&c.ReplayConcurrency, 1)},
		{"client-ip-header", "NOTIFYD_CLIENT_IP_HEADER", "", "header naming the client address behind a trusted proxy (e.g. X-Forwarded-For; its rightmost entry is used); empty uses the TCP peer", str(&c.ClientIPHeader)},
	}
}

// parseConfig reads args, falling back to getenv, then to defaults. Errors
// name the flag and the environment variable.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("notifyd", flag.ContinueOnError)
	fs.SetOutput(out)
	all := settings(c)
	values := make(map[string]*string, len(all))
	for _, s := range all {
		values[s.flag] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	for _, s := range all {
		v, from := s.def, "default"
		if e := getenv(s.env); e != "" {
			v, from = e, s.env
		}
		if explicit[s.flag] {
			v, from = *values[s.flag], "-"+s.flag
		}
		if err := s.set(v); err != nil {
			return nil, fmt.Errorf("invalid %s (-%s / %s) from %s: %q: %w", s.flag, s.flag, s.env, from, v, err)
		}
	}
	return c, c.check()
}

func (c *config) check() error {
	switch {
	case c.JWTSecret == "" && c.JWTPublicKey == "":
		return errors.New("no token verification configured: set NOTIFYD_JWT_SECRET (-jwt-secret) or NOTIFYD_JWT_PUBLIC_KEY (-jwt-public-key)")
	case c.JWTSecret != "" && c.JWTPublicKey != "":
		return errors.New("set only one of NOTIFYD_JWT_SECRET and NOTIFYD_JWT_PUBLIC_KEY")
	case c.RedisURL != "" && len(c.RedisAddrs) > 0:
		return errors.New("set only one of NOTIFYD_REDIS_URL and NOTIFYD_REDIS_ADDRS")
	case c.RedisMasterName != "" && len(c.RedisAddrs) == 0:
		return errors.New("NOTIFYD_REDIS_MASTER_NAME needs NOTIFYD_REDIS_ADDRS (the Sentinel addresses)")
	case c.ControlChannel == "" || c.ControlChannel == c.Channel:
		return errors.New("NOTIFYD_CONTROL_CHANNEL (-control-channel) must be set and differ from NOTIFYD_CHANNEL")
	case c.DeliveryChannel != "" && (c.DeliveryChannel == c.Channel || c.DeliveryChannel == c.ControlChannel):
		return errors.New("NOTIFYD_DELIVERY_CHANNEL (-delivery-channel) must differ from NOTIFYD_CHANNEL and NOTIFYD_CONTROL_CHANNEL")
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

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
