package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/redis/go-redis/v9"
)

func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := StartSentinel(t)
	t.Logf("sentinel setup up in %v", time.Since(start))
	if got := s.MasterAddr(); got != s.Master().Addr() {
		t.Fatalf("sentinels report master %s, want %s", got, s.Master().Addr())
	}
	ctx := context.Background()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:      s.MasterName(),
		SentinelAddrs:   s.SentinelAddrs(),
		DialTimeout:     time.Second,
		ReadTimeout:     time.Second,
		MaxRetries:      1,
		MinRetryBackoff: time.Millisecond,
		MaxRetryBackoff: 10 * time.Millisecond,
		DialerRetries:   1,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.WaitReplicaSynced()

	s.KillMaster()
	killed := time.Now()
	addr := s.WaitFailover(30 * time.Second)
	t.Logf("failover to %s %v after the kill", addr, time.Since(killed))
	if addr != s.Replica().Addr() {
		t.Fatalf("new master %s, want the replica %s", addr, s.Replica().Addr())
	}
	poll.Until(t, "the replicated value through the failover client", func() bool {
		v, err := rdb.Get(ctx, "k").Result()
		return err == nil && v == "v"
	})
	if err := rdb.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatalf("SET on the new master: %v", err)
	}
}
