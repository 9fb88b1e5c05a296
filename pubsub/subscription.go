package pubsub

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// subscription owns the redis.PubSub of a Subscriber: the read loop makes
// and replaces it, Run closes it for good to stop the loop. It also holds
// whether the subscription is confirmed (Ready).
type subscription struct {
	// immutable after newSubscription
	rdb      redis.UniversalClient
	channels []string // the data channel, the control channel, the delivery channel if any
	log      *slog.Logger

	ready atomic.Bool // every channel confirmed on the current connection

	mu     sync.Mutex    // guards the fields below
	ps     *redis.PubSub // current PubSub: made by the read loop, closed by close
	closed bool          // Run is stopping: no new PubSub may be made
}

func newSubscription(rdb redis.UniversalClient, log *slog.Logger, channels ...string) *subscription {
	return &subscription{rdb: rdb, channels: channels, log: log}
}

// open makes a new PubSub and subscribes. It returns nil once close was
// called. A failed SUBSCRIBE is left to the receive loop: go-redis
// remembers the channels and retries on every receive.
func (s *subscription) open(ctx context.Context) *redis.PubSub {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	ps := s.rdb.Subscribe(ctx) // no channel: does not dial
	s.ps = ps
	s.mu.Unlock()
	if err := ps.Subscribe(ctx, s.channels...); err != nil {
		s.log.Debug("pubsub: subscribe failed, will retry", "err", err)
	}
	return ps
}

// reopen closes the current PubSub (and its connection) and opens a new one.
func (s *subscription) reopen(ctx context.Context) *redis.PubSub {
	s.mu.Lock()
	old := s.ps
	s.ps = nil
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return s.open(ctx)
}

// close stops the PubSub for good; a receive blocked on it returns at once.
func (s *subscription) close() {
	s.mu.Lock()
	s.closed = true
	ps := s.ps
	s.ps = nil
	s.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
}
