package pubsub

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/message"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := backoff{min: 100 * time.Millisecond, max: 800 * time.Millisecond}
	bases := []time.Duration{100, 200, 400, 800, 800}
	for round := range 2 {
		for i, base := range bases {
			base *= time.Millisecond
			d := b.next()
			if d < base/2 || d > base {
				t.Errorf("round %d step %d: next() = %v, want within [%v, %v]", round, i, d, base/2, base)
			}
		}
		b.reset()
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

func TestPermanent(t *testing.T) {
	t.Parallel()
	redisErr := func(s string) error { return fmt.Errorf("%w: x: %w", ErrUnavailable, redisError(s)) }
	tests := []struct {
		err  error
		want bool
	}{
		{redisErr("WRONGTYPE Operation against a key holding the wrong kind of value script: 1, on @user_script:1."), true},
		{redisErr("ERR user_script:1: Script attempted to access nonexistent global variable 'x'"), true},
		{redisErr("NOREPLICAS Not enough good replicas to write. script: 1, on @user_script:1."), false},
		{redisErr("READONLY You can't write against a read only replica."), false},
		{redisErr("OOM command not allowed when used memory > 'maxmemory'."), false},
		{redisErr("ERR max number of clients reached"), false},
		{errors.New("dial tcp: connection refused"), false},
		{fmt.Errorf("x: %w", &message.FieldError{Field: "id", Reason: "is required"}), true},
	}
	for _, tt := range tests {
		if got := permanent(tt.err); got != tt.want {
			t.Errorf("permanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// redisError is an error reply as go-redis returns it.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

var _ redis.Error = redisError("")
