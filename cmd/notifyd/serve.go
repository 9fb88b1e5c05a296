package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/handler"
)

// serve runs notifyd until ctx ends, then shuts down in order: readiness
// goes 503, the listener closes, websockets are closed (spread over
// ShutdownSpread), the subscription stops, the Redis client closes.
// When ready is not nil it receives the bound address once serving.
func serve(ctx context.Context, cfg *config, logOut io.Writer, ready chan<- string) error {
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	c, err := newComponents(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer c.redis.Close()
	return c.run(ctx, ready)
}

// run serves until ctx ends or the HTTP server or the subscriber fails,
// then shuts down in order and returns the failure, if any.
func (c *components) run(ctx context.Context, ready chan<- string) error {
	// The subscriber and the recheck outlive ctx: they stop after the
	// websockets are closed.
	subCtx, stopSub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSub()
	var wg sync.WaitGroup
	subErr := make(chan error, 1)
	wg.Go(func() { subErr <- c.subscriber.Run(subCtx) })
	wg.Go(func() { c.recheck.run(subCtx, c.gateway, c.revocations) })
	if c.spaces != nil {
		wg.Go(func() {
			if err := c.spaces.Listen(subCtx, c.gateway); err != nil {
				c.log.Error("space events stopped", "err", err)
			}
		})
		wg.Go(func() {
			if err := c.dispatcher.Run(subCtx); err != nil {
				c.log.Error("webhook dispatcher stopped", "err", err)
			}
		})
	}
	srvErr := make(chan error, 2)
	wg.Go(func() { srvErr <- c.server.Serve(c.listener) })
	if c.admin != nil {
		wg.Go(func() {
			if err := c.admin.serve(); err != nil {
				srvErr <- fmt.Errorf("admin listener: %w", err)
			}
		})
		c.log.Info("admin listener serving", "addr", c.admin.listener.Addr().String())
	}

	c.log.Info("notifyd serving", "addr", c.listener.Addr().String(), "version", version,
		"channel", c.cfg.Channel, "notifications_key", c.cfg.NotificationsKey,
		"embedded_redis", c.redis.embedded != nil, "categories", c.registry.Categories())
	if ready != nil {
		ready <- c.listener.Addr().String()
	}

	var runErr error
	select {
	case <-ctx.Done():
		c.log.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-srvErr:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-subErr:
		runErr = fmt.Errorf("subscriber: %w", err)
	}
	c.shutdown()
	stopSub()
	wg.Wait()
	c.log.Info("stopped")
	return runErr
}

// shutdown turns readiness to 503, stops the HTTP server and closes the
// websockets, within ShutdownTimeout.
func (c *components) shutdown() {
	c.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ShutdownTimeout)
	defer cancel()
	if err := c.server.Shutdown(ctx); err != nil {
		c.log.Warn("http shutdown", "err", err)
	}
	if c.admin != nil {
		if err := c.admin.shutdown(ctx); err != nil {
			c.log.Warn("admin listener shutdown", "err", err)
		}
	}
	if err := c.gateway.Shutdown(ctx); err != nil {
		c.log.Warn("websocket shutdown forced", "err", err)
	}
}

func newVerifier(cfg *config) (*auth.Verifier, error) {
	ac, err := authConfig(cfg)
	if err != nil {
		return nil, err
	}
	v, err := auth.NewVerifier(ac)
	if err != nil {
		return nil, fmt.Errorf("invalid NOTIFYD_JWT_SECRET / NOTIFYD_JWT_PUBLIC_KEY: %w", err)
	}
	return v, nil
}

// authConfig is the token configuration: the verifier's, and the guest
// tokens' minter's.
func authConfig(cfg *config) (auth.Config, error) {
	ac := auth.Config{
		PrincipalsClaim: cfg.PrincipalsClaim, SiteClaim: cfg.SiteClaim,
		Audience: cfg.JWTAudience, Issuer: cfg.JWTIssuer, Leeway: cfg.JWTLeeway,
	}
	if cfg.JWTSecret != "" {
		ac.Secret = []byte(cfg.JWTSecret)
	} else {
		data, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return ac, fmt.Errorf("read NOTIFYD_JWT_PUBLIC_KEY (-jwt-public-key): %w", err)
		}
		if ac.PublicKeys, err = auth.ParsePublicKeys(data); err != nil {
			return ac, fmt.Errorf("invalid NOTIFYD_JWT_PUBLIC_KEY (-jwt-public-key) %q: %w", cfg.JWTPublicKey, err)
		}
	}
	return ac, nil
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
