package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/console"
	"github.com/notifyd/notifyd/handler"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/clientip"
	"github.com/notifyd/notifyd/internal/httpguard"
	"github.com/notifyd/notifyd/internal/metrics"
	"github.com/notifyd/notifyd/pubsub"
	"github.com/notifyd/notifyd/site"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/webhook"
	"github.com/notifyd/notifyd/wsgateway"
)

// components are the parts of a running notifyd, built by newComponents
// one step at a time, each step from the configuration and the parts built
// before it. Immutable once built, except draining.
type components struct {
	cfg *config
	log *slog.Logger

	// access: tokens, publisher tokens, sites, categories
	verifier   *auth.Verifier
	publishers *auth.PublisherTokens
	sites      *site.Policy
	registry   *handler.Registry
	warnings   []string // configuration risks, logged at start and shown by /readyz

	// Redis and what lives on it
	redis       *redisConn
	history     *history.Store
	publisher   *pubsub.Publisher
	revocations *pubsub.Revocations
	announcer   *pubsub.Announcer // inbox counts and preferences to every gateway
	authn       auth.Revocable    // every token check also consults the revocations

	// the chat (nil when spaces are off)
	spaces     *space.Service
	webhooks   *webhook.Store
	dispatcher *webhook.Dispatcher

	// delivery
	recheck    *revocationRecheck
	gateway    *wsgateway.Gateway
	subscriber *pubsub.Subscriber

	// HTTP
	server   *http.Server
	guard    *httpguard.Listener // caps connections per client address
	listener net.Listener
	admin    *adminServer // nil unless NOTIFYD_ADMIN_ADDR is set
	draining atomic.Bool  // readiness answers 503 once set
}

// newComponents builds every part, connects Redis and listens. On error,
// what it opened is closed.
func newComponents(ctx context.Context, cfg *config, log *slog.Logger) (*components, error) {
	c := &components{cfg: cfg, log: log}
	// config: a failure of the step is a configuration error (exit 2);
	// the others (Redis unreachable, address in use) are failures (exit 1).
	steps := []struct {
		run    func(context.Context) error
		config bool
	}{
		{c.buildAccess, true}, {c.connectRedis, false}, {c.buildStores, true},
		{c.buildSpaces, true}, {c.buildGateway, true}, {c.buildSubscriber, true}, {c.buildHTTP, false},
	}
	for _, step := range steps {
		if err := step.run(ctx); err != nil {
			if c.redis != nil {
				_ = c.redis.Close()
			}
			if step.config {
				err = configError{err}
			}
			return nil, err
		}
	}
	return c, nil
}

// buildAccess builds what decides who may do what: the token verifier, the
// publisher tokens, the site policy and the category handlers.
func (c *components) buildAccess(context.Context) error {
	var err error
	if c.verifier, err = newVerifier(c.cfg); err != nil {
		return err
	}
	if c.publishers, err = auth.NewPublisherTokens(c.cfg.PublishTokens); err != nil {
		return fmt.Errorf("invalid NOTIFYD_PUBLISH_TOKENS (-publish-tokens): %w", err)
	}
	if c.publishers.Len() == 0 {
		c.log.Warn("no NOTIFYD_PUBLISH_TOKENS: POST /api/chat/messages refuses every request")
	}
	if c.sites, err = site.NewPolicy(c.cfg.AllowedOrigins, c.cfg.DefaultHost); err != nil {
		return fmt.Errorf("invalid NOTIFYD_ALLOWED_ORIGINS or NOTIFYD_DEFAULT_HOST: %w", err)
	}
	c.registry, err = newRegistry(c.cfg, c.log)
	if w := multiSiteWarning(c.cfg); w != "" {
		c.log.Warn(w)
		c.warnings = append(c.warnings, w)
	}
	return err
}

// multiSiteWarning names the risk of serving several sites with tokens that
// are not bound to a site: a user of one site may read another's broadcasts
// with ?host=. Empty when the risk does not apply.
func multiSiteWarning(cfg *config) string {
	many := len(cfg.AllowedOrigins) > 1 || slices.Contains(cfg.AllowedOrigins, "*")
	if !many || cfg.SiteClaim != "" {
		return ""
	}
	return "several sites are allowed (NOTIFYD_ALLOWED_ORIGINS) but tokens are not bound to a site: " +
		"a user of one site can read another site's broadcasts and role messages with ?host=; " +
		"set NOTIFYD_JWT_SITE_CLAIM (tokens listing their sites) or run one deployment per site"
}

func (c *components) connectRedis(ctx context.Context) error {
	var err error
	c.redis, err = connectRedis(ctx, c.cfg, c.log)
	return err
}

// buildStores builds what lives in Redis: the history, the publisher that
// writes it, and the revocations.
func (c *components) buildStores(context.Context) error {
	log := c.log.With("component", "pubsub")
	rdb := c.redis.client
	var err error
	c.history, err = history.New(rdb, history.Config{
		Key: c.cfg.NotificationsKey, Length: c.cfg.NotificationsLength, MaxMessageSize: c.cfg.MaxMessageSize,
		IdempotencyWindow: c.cfg.IdempotencyWindow, DedupWindow: c.cfg.DedupWindow,
		DeliveryChannel: c.cfg.DeliveryChannel, InboxLength: c.cfg.InboxLength, InboxTTL: c.cfg.InboxTTL,
		CountCap: c.cfg.InboxCountCap,
		Logger:   c.log.With("component", "history"),
	})
	if err != nil {
		return err
	}
	c.publisher, err = pubsub.NewPublisher(rdb, c.history, pubsub.PublisherConfig{
		Channel: c.cfg.Channel, DeliveryChannel: c.cfg.DeliveryChannel, MaxMessageSize: c.cfg.MaxMessageSize,
		Resolver: c.registry, Logger: log,
	})
	if err != nil {
		return err
	}
	c.revocations, err = pubsub.NewRevocations(rdb, pubsub.RevocationsConfig{
		TTL: c.cfg.RevocationTTL, ControlChannel: c.cfg.ControlChannel, Logger: log,
	})
	if err != nil {
		return err
	}
	c.authn = auth.Revocable{Verifier: c.verifier, Store: c.revocations}
	c.announcer, err = pubsub.NewAnnouncer(rdb, pubsub.AnnouncerConfig{ControlChannel: c.cfg.ControlChannel, Logger: log})
	return err
}

// inboxOn reports whether the per-user inbox is configured (a delivery
// channel is set): the history store then serves the inbox routes, replay
// and live counts.
func (c *components) inboxOn() bool { return c.cfg.DeliveryChannel != "" }

// buildGateway builds the websocket gateway.
func (c *components) buildGateway(context.Context) error {
	var err error
	cfg := wsgateway.Config{
		Auth: c.authn, Sites: c.sites, History: c.history,
		QueueSize: c.cfg.QueueSize, WriteTimeout: c.cfg.WriteTimeout,
		ReadLimit: c.cfg.ReadLimit, ShutdownSpread: c.cfg.ShutdownSpread,
		MaxConnections: c.cfg.MaxConnections, MaxConnectionsPerPrincipal: c.cfg.MaxPerPrincipal,
		ConnectRate: c.cfg.ConnectRate, ConnectBurst: c.cfg.ConnectBurst, ClientIPHeader: c.cfg.ClientIPHeader,
		ReplayConcurrency: c.cfg.ReplayConcurrency,
		ExpiryMode:        c.cfg.WSExpiryMode, MuteGrace: c.cfg.WSMuteGrace,
		BadgeInterval: c.cfg.BadgeInterval,
		Logger:        c.log.With("component", "wsgateway"),
	}
	if c.inboxOn() { // a nil *history.Store in the interface would not read as "off"
		cfg.Inbox = c.history
	}
	if c.spaces != nil {
		cfg.Spaces = c.spaces
	}
	c.gateway, err = wsgateway.New(cfg)
	return err
}

// buildSubscriber builds the subscriber that feeds the gateway, and the
// revocation recheck it triggers after each resubscription.
func (c *components) buildSubscriber(context.Context) error {
	c.recheck = newRevocationRecheck(c.log)
	var err error
	c.subscriber, err = pubsub.NewSubscriber(c.redis.client, c.history, c.gateway, pubsub.SubscriberConfig{
		Channel: c.cfg.Channel, ControlChannel: c.cfg.ControlChannel, DeliveryChannel: c.cfg.DeliveryChannel,
		MaxMessageSize: c.cfg.MaxMessageSize, Resolver: c.registry, OnSubscribed: c.recheck.onSubscribed,
		Logger: c.log.With("component", "pubsub"),
	})
	return err
}

// buildHTTP builds the REST API and the metrics around the gateway, and
// listens.
func (c *components) buildHTTP(context.Context) error {
	requests := api.NewRecorder() // REST requests and publish outcomes, for the metrics
	apiCfg := c.apiConfig()
	apiCfg.Recorder = requests
	routes, err := newRoutes(apiCfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on NOTIFYD_ADDR %q: %w", c.cfg.Addr, err)
	}
	c.guard = httpguard.NewListener(ln, c.cfg.MaxConnsPerAddr, clientip.AddrKey)
	c.listener = c.guard
	mux := http.NewServeMux()
	metricsHandler := metrics.Handler(newCollector(c.gateway, c.subscriber, c.history, c.registry, c.guard, requests, c.spaces, c.dispatcher))
	if c.cfg.AdminAddr == "" {
		mux.Handle("GET /metrics", metricsHandler)
	} else if c.admin, err = newAdminServer(c.cfg.AdminAddr, metricsHandler, routes, c.log); err != nil {
		_ = ln.Close()
		return err
	}
	if c.cfg.Console {
		// A page, not an API: outside the router and its OpenAPI document.
		h := console.Handler(console.Config{})
		mux.Handle("GET /console", h)
		mux.Handle("GET /console/", h)
	}
	mux.Handle("/", routes)
	// Every route but the websocket gets read and write deadlines: a client
	// that sends headers and then nothing cannot hold its socket.
	deadlines := httpguard.Deadlines(c.cfg.HTTPReadTimeout, c.cfg.HTTPWriteTimeout, api.PathWebSocket, api.PathSSE)
	c.server = &http.Server{
		Handler:           deadlines(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// ready is the readiness check: not draining, subscribed, Redis answers.
func (c *components) ready(ctx context.Context) error {
	switch {
	case c.draining.Load():
		return errors.New("shutting down")
	case !c.subscriber.Ready():
		return errors.New("not subscribed to redis")
	}
	return c.redis.client.Ping(ctx).Err()
}

// newRoutes is api.New with its errors marked as configuration errors.
func newRoutes(cfg api.Config) (http.Handler, error) {
	h, err := api.New(cfg)
	if err != nil {
		return nil, configError{err}
	}
	return h, nil
}

// apiConfig is the REST API's configuration.
func (c *components) apiConfig() api.Config {
	cfg := api.Config{
		Auth: c.authn, PublisherTokens: c.publishers, Sites: c.sites,
		Publisher: c.publisher, History: c.history, Categories: c.registry,
		Revoker: c.revocations, PublishRate: c.cfg.PublishRate, PublishBurst: c.cfg.PublishBurst,
		AdminRate: c.cfg.AdminRate, AdminBurst: c.cfg.AdminBurst, RESTRate: c.cfg.RESTRate, RESTBurst: c.cfg.RESTBurst,
		Ready: c.ready, Warnings: c.warnings, Sessions: c.gateway.Count, WebSocket: c.gateway, SSE: http.HandlerFunc(c.gateway.ServeSSE),
		MaxBodyBytes: int64(c.cfg.MaxMessageSize) + 1024,
		Version:      version, Logger: c.log.With("component", "api"),
	}
	if c.inboxOn() {
		cfg.Inbox, cfg.Editor, cfg.InboxEvents = c.history, c.history, c.announcer
	}
	if c.spaces != nil {
		cfg.Spaces, cfg.Webhooks = c.spaces, c.webhooks
	}
	return cfg
}
