package hatest

import (
	"context"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/leaktest"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// waitTimeout bounds every wait: failovers take seconds, so this is generous
// even on a loaded two-core machine.
const waitTimeout = 30 * time.Second

// holdsWithin calls cond every few milliseconds until it holds (true) or
// waitTimeout has passed (false).
func holdsWithin(cond func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// clientOptions are the options cmd/notifyd builds from NOTIFYD_REDIS_ADDRS
// and NOTIFYD_REDIS_MASTER_NAME, with timeouts short enough that a dead
// server shows as an error quickly: a test waits seconds, not minutes.
func clientOptions(addrs []string, masterName string) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:              addrs,
		MasterName:         masterName,
		DialTimeout:        500 * time.Millisecond,
		ReadTimeout:        time.Second,
		WriteTimeout:       time.Second,
		PoolTimeout:        time.Second,
		MaxRetries:         1,
		MinRetryBackoff:    time.Millisecond,
		MaxRetryBackoff:    10 * time.Millisecond,
		DialerRetries:      1,
		DialerRetryTimeout: 10 * time.Millisecond,
	}
}

// newClient returns redis.NewUniversalClient(opts), closed at cleanup.
func newClient(t testing.TB, opts *redis.UniversalOptions) redis.UniversalClient {
	t.Helper()
	rdb := redis.NewUniversalClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// newFailoverClusterClient returns a Cluster client that notices a
// failover. go-redis reloads the slot map on MOVED, or when it is older
// than ClusterStateReloadInterval (60s by default), but not when a master
// refuses connections (redis/go-redis#3979), and UniversalOptions cannot set
// the interval. So a client made by NewUniversalClient keeps dialing a dead
// master for up to a minute after its replica took over; this one reloads
// within a fraction of a second.
func newFailoverClusterClient(t testing.TB, addrs []string) redis.UniversalClient {
	t.Helper()
	opts := clientOptions(addrs, "").Cluster()
	opts.ClusterStateReloadInterval = 250 * time.Millisecond
	rdb := redis.NewClusterClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
