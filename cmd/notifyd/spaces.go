package main

import (
	"context"
	"errors"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/webhook"
)

// spacesOn reports whether the chat runs: it is configured and the inbox,
// which holds a space's history, is on.
func (c *components) spacesOn() bool { return c.cfg.Spaces && c.inboxOn() }

// buildSpaces builds the chat (issue 10): the webhook store and its
// dispatcher, and the space service, which publishes through the daemon's
// publisher and reads the space's history from the inbox store.
func (c *components) buildSpaces(context.Context) error {
	if !c.spacesOn() {
		if c.cfg.Spaces {
			c.log.Info("spaces are off: they need the inbox (NOTIFYD_DELIVERY_CHANNEL)")
		}
		return nil
	}
	rdb := c.redis.client
	whCfg := webhook.Config{
		AllowPrivate: c.cfg.WebhookAllowPrivate, MaxAge: c.cfg.WebhookMaxAge,
		Logger: c.log.With("component", "webhook"),
	}
	var err error
	if c.webhooks, err = webhook.NewStore(rdb, whCfg); err != nil {
		return err
	}
	if c.dispatcher, err = webhook.NewDispatcher(rdb, c.webhooks, whCfg); err != nil {
		return err
	}
	if c.cfg.WebhookAllowPrivate {
		w := "NOTIFYD_WEBHOOK_ALLOW_PRIVATE=true: bots may register webhooks into private networks (single-host setups and tests only)"
		c.log.Warn(w)
		c.warnings = append(c.warnings, w)
	}
	var mint func(host, sub, name string, principals []string, ttl time.Duration) (string, error)
	ac, err := authConfig(c.cfg)
	if err != nil {
		return err
	}
	switch m, err := auth.NewMinter(ac); {
	case err == nil:
		mint = func(host, sub, name string, principals []string, ttl time.Duration) (string, error) {
			return m.Mint(sub, name, principals, host, time.Now(), ttl)
		}
	case !errors.Is(err, auth.ErrCannotSign):
		return err
	}
	hist := c.history
	c.spaces, err = space.New(rdb, c.publisher, hist, space.Config{
		Prefix:    func(host string) string { return "{" + hist.ListKey(host) + "}:" },
		Channel:   c.cfg.SpacesChannel,
		SendRate:  c.cfg.SpaceSendRate,
		SendBurst: c.cfg.SpaceSendBurst,
		// The space records live as long as the messages they describe.
		MessageTTL:     c.cfg.InboxTTL,
		MaxMessageSize: c.cfg.MaxMessageSize,
		Mint:           mint,
		OnMessage:      c.enqueueWebhooks,
		Logger:         c.log.With("component", "space"),
	})
	return err
}

// enqueueWebhooks queues a new space message for the bots' webhooks. A
// failure is logged: the message is stored and delivered, only its
// webhooks are lost.
func (c *components) enqueueWebhooks(ctx context.Context, host, sp, id string, event []byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := c.webhooks.Enqueue(ctx, webhook.Event{Host: host, Space: sp, ID: id, Body: event}); err != nil {
		c.log.Warn("webhook enqueue failed: the message's webhooks are lost", "host", host, "space", sp, "id", id, "err", err)
	}
}
