package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// redisConn is the Redis client notifyd uses and, in embedded mode, the
// in-process server behind it.
type redisConn struct {
	client   redis.UniversalClient
	embedded *miniredis.Miniredis // nil unless no Redis URL was configured
}

// connectRedis opens the configured Redis, or starts an embedded in-process
// one on a loopback port when none is configured, and checks it answers.
func connectRedis(ctx context.Context, c *config, log *slog.Logger) (*redisConn, error) {
	rc := &redisConn{}
	if len(c.RedisAddrs) > 0 {
		// Sentinel with a master name, Cluster without (even with one seed
		// address), all behind redis.UniversalClient.
		uo := &redis.UniversalOptions{Addrs: c.RedisAddrs, MasterName: c.RedisMasterName, Password: c.RedisPassword}
		mode := "sentinel"
		if c.RedisMasterName == "" {
			mode = "cluster"
			co := uo.Cluster()
			// go-redis reloads the slot map every 60 s by default and not when
			// a master refuses connections, so after a replica takes over,
			// writes for that shard would fail for up to a minute.
			co.ClusterStateReloadInterval = time.Second
			rc.client = redis.NewClusterClient(co)
		} else {
			rc.client = redis.NewFailoverClient(uo.Failover())
		}
		log.Info("redis", "mode", mode, "addrs", c.RedisAddrs, "master_name", c.RedisMasterName)
		rc.ping(ctx, log)
		return rc, nil
	}
	var opts *redis.Options
	if c.RedisURL == "" {
		rc.embedded = miniredis.NewMiniRedis()
		if err := rc.embedded.StartAddr(c.EmbeddedRedisAddr); err != nil {
			return nil, fmt.Errorf("start embedded redis on NOTIFYD_EMBEDDED_REDIS_ADDR %q: %w", c.EmbeddedRedisAddr, err)
		}
		log.Warn("no NOTIFYD_REDIS_URL: running on an embedded in-process Redis; history is not durable and not shared with other gateways",
			"addr", rc.embedded.Addr())
		opts = &redis.Options{Addr: rc.embedded.Addr()}
	} else {
		var err error
		if opts, err = redis.ParseURL(c.RedisURL); err != nil {
			return nil, fmt.Errorf("invalid NOTIFYD_REDIS_URL (-redis-url): %w", err)
		}
	}
	rc.client = redis.NewClient(opts)
	rc.ping(ctx, log)
	return rc, nil
}

// ping checks Redis once. Failure is not fatal: the subscriber reconnects
// and /readyz reports not ready until it has.
func (rc *redisConn) ping(ctx context.Context, log *slog.Logger) {
	if err := rc.client.Ping(ctx).Err(); err != nil {
		log.Warn("redis not reachable at start; will keep retrying", "err", err)
	}
}

// Close closes the client, then the embedded server if any.
func (rc *redisConn) Close() error {
	err := rc.client.Close()
	if rc.embedded != nil {
		rc.embedded.Close()
	}
	return err
}
