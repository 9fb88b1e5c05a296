package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/handler"
	"github.com/notifyd/notifyd/internal/metrics"
	"github.com/notifyd/notifyd/pubsub"
	"github.com/notifyd/notifyd/site"
	"github.com/notifyd/notifyd/wsgateway"
)

// serve runs notifyd until ctx ends, then shuts down in order: readiness
// goes 503, the listener closes, websockets are closed (spread over
// ShutdownSpread), the subscription stops, the Redis client closes.
// When ready is not nil it receives the bound address once serving.
func serve(ctx context.Context, cfg *config, logOut io.Writer, ready chan<- string) error {
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))

	verifier, err := newVerifier(cfg)
	if err != nil {
		return err
	}
	publishers, err := auth.NewPublisherTokens(cfg.PublishTokens)
	if err != nil {
		return fmt.Errorf("invalid NOTIFYD_PUBLISH_TOKENS (-publish-tokens): %w", err)
	}
	if publishers.Len() == 0 {
		log.Warn("no NOTIFYD_PUBLISH_TOKENS: POST /api/chat/messages refuses every request")
	}
	sites, err := site.NewPolicy(cfg.AllowedOrigins, cfg.DefaultHost)
	if err != nil {
		return fmt.Errorf("invalid NOTIFYD_ALLOWED_ORIGINS or NOTIFYD_DEFAULT_HOST: %w", err)
	}
	registry, err := newRegistry(cfg, log)
	if err != nil {
		return err
	}

	rc, err := connectRedis(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer rc.Close()

	// After a resubscribe, revocations announced while this gateway was not
	// listening are applied by a sweep (see recheckLoop). The read loop only
	// signals it.
	resubscribed := make(chan struct{}, 1)
	broker, err := pubsub.New(rc.client, pubsub.Config{
		Channel: cfg.Channel, ControlChannel: cfg.ControlChannel,
		NotificationsKey: cfg.NotificationsKey, NotificationsLength: cfg.NotificationsLength,
		MaxMessageSize: cfg.MaxMessageSize, Resolver: registry,
		Logger:      log.With("component", "pubsub"),
		Revocations: pubsub.RevocationsConfig{TTL: cfg.RevocationTTL},
		Subscriber: pubsub.SubscriberConfig{OnSubscribed: func(_ context.Context, reconnect bool) {
			if reconnect {
				select {
				case resubscribed <- struct{}{}:
				default: // a sweep is already due
				}
			}
		}},
	})
	if err != nil {
		return err
	}
	// Every token check (websocket and REST) also consults the revocation list.
	authn := auth.Revocable{Verifier: verifier, Store: broker.Revocations}
	gw, err := wsgateway.New(wsgateway.Config{
		Auth: authn, Sites: sites, History: broker.History,
		QueueSize: cfg.QueueSize, WriteTimeout: cfg.WriteTimeout,
		ReadLimit: cfg.ReadLimit, ShutdownSpread: cfg.ShutdownSpread,
		MaxConnections: cfg.MaxConnections, MaxConnectionsPerPrincipal: cfg.MaxPerPrincipal,
		ConnectRate: cfg.ConnectRate, ConnectBurst: cfg.ConnectBurst, ClientIPHeader: cfg.ClientIPHeader,
		ReplayConcurrency: cfg.ReplayConcurrency,
		Logger:            log.With("component", "wsgateway"),
	})
	if err != nil {
		return err
	}
	sub, err := broker.NewSubscriber(gw)
	if err != nil {
		return err
	}

	var draining atomic.Bool
	routes, err := api.New(api.Config{
		Auth: authn, PublisherTokens: publishers, Sites: sites,
		Publisher: broker.Publisher, History: broker.History, Categories: registry,
		Revoker: broker.Revocations, PublishRate: cfg.PublishRate, PublishBurst: cfg.PublishBurst,
		Ready: func(ctx context.Context) error {
			switch {
			case draining.Load():
				return errors.New("shutting down")
			case !sub.Ready():
				return errors.New("not subscribed to redis")
			}
			return rc.client.Ping(ctx).Err()
		},
		Sessions: gw.Count, WebSocket: gw, MaxBodyBytes: int64(cfg.MaxMessageSize) + 1024,
		Version: version, Logger: log.With("component", "api"),
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on NOTIFYD_ADDR %q: %w", cfg.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(newCollector(gw, sub, broker.History, registry)))
	mux.Handle("/", routes)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	subCtx, stopSub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSub()
	var wg sync.WaitGroup
	subErr := make(chan error, 1)
	wg.Go(func() { subErr <- sub.Run(subCtx) })
	wg.Go(func() { recheckLoop(subCtx, resubscribed, gw, broker.Revocations, log) })
	srvErr := make(chan error, 1)
	wg.Go(func() { srvErr <- srv.Serve(ln) })

	log.Info("notifyd serving", "addr", ln.Addr().String(), "version", version,
		"channel", cfg.Channel, "notifications_key", cfg.NotificationsKey,
		"embedded_redis", rc.embedded != nil, "categories", registry.Categories())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-srvErr:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-subErr:
		runErr = fmt.Errorf("subscriber: %w", err)
	}

	draining.Store(true)
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := gw.Shutdown(shutCtx); err != nil {
		log.Warn("websocket shutdown forced", "err", err)
	}
	stopSub()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

func newVerifier(cfg *config) (*auth.Verifier, error) {
	ac := auth.Config{PrincipalsClaim: cfg.PrincipalsClaim, SiteClaim: cfg.SiteClaim, Leeway: 30 * time.Second}
	if cfg.JWTSecret != "" {
		ac.Secret = []byte(cfg.JWTSecret)
	} else {
		data, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("read NOTIFYD_JWT_PUBLIC_KEY (-jwt-public-key): %w", err)
		}
		if ac.PublicKeys, err = auth.ParsePublicKeys(data); err != nil {
			return nil, fmt.Errorf("invalid NOTIFYD_JWT_PUBLIC_KEY (-jwt-public-key) %q: %w", cfg.JWTPublicKey, err)
		}
	}
	v, err := auth.NewVerifier(ac)
	if err != nil {
		return nil, fmt.Errorf("invalid NOTIFYD_JWT_SECRET / NOTIFYD_JWT_PUBLIC_KEY: %w", err)
	}
	return v, nil
}

func newRegistry(cfg *config, log *slog.Logger) (*handler.Registry, error) {
	reg := handler.NewRegistry(handler.Config{Logger: log.With("component", "handler")})
	if err := reg.Register(handler.LoginCategory, handler.Login{Admins: cfg.Admins}); err != nil {
		return nil, err
	}
	if cfg.RulesFile != "" {
		rules, err := handler.LoadRules(cfg.RulesFile)
		if err != nil {
			return nil, fmt.Errorf("invalid NOTIFYD_RULES (-rules) %q: %w", cfg.RulesFile, err)
		}
		if err := reg.RegisterRules(rules); err != nil {
			return nil, fmt.Errorf("invalid NOTIFYD_RULES (-rules) %q: %w", cfg.RulesFile, err)
		}
	}
	return reg, nil
}

// recheckLoop closes the connections of principals revoked while the
// gateway was not subscribed, once after each resubscribe, until ctx ends.
func recheckLoop(ctx context.Context, resubscribed <-chan struct{}, gw *wsgateway.Gateway, store auth.RevocationStore, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-resubscribed:
		}
		n, err := gw.RecheckRevocations(ctx, store)
		if err != nil {
			log.Warn("revocation recheck after resubscribe failed", "err", err, "closed", n)
			continue
		}
		log.Info("revocations rechecked after resubscribe", "closed", n)
	}
}
