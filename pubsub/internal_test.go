package pubsub

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	// The subscriber's delays: equal jitter, doubling from BackoffMin to BackoffMax.
	b := SubscriberConfig{BackoffMin: 100 * time.Millisecond, BackoffMax: 800 * time.Millisecond}.newBackoff()
	bases := []time.Duration{100, 200, 400, 800, 800}
	for round := range 2 {
		for i, base := range bases {
			base *= time.Millisecond
			d := b.Next()
			if d < base/2 || d > base {
				t.Errorf("round %d step %d: next() = %v, want within [%v, %v]", round, i, d, base/2, base)
			}
		}
		b.Reset()
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := truncate("abcdef", 3); got != "abc…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 3); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
}

// redisError is an error reply as go-redis returns it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

var _ redis.Error = redisError("")
