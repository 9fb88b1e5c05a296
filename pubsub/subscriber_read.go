package pubsub

import (
	"context"
	"errors"
	"net"
	"os"

	"github.com/redis/go-redis/v9"
)

// errNoPong is why the read loop replaces a connection that answered neither a
// message nor a PING for two health-check intervals: the TCP connection may
// be dead without either side having noticed.
var errNoPong = errors.New("pubsub: no reply to PING within the health-check interval")

// readLoop owns the PubSub. It only reads: every payload goes into out
// without blocking (a full queue drops it); decoding and Redis writes happen
// elsewhere.
//
// go-redis (pubsub.go, v9.23) behaviour this relies on: ReceiveTimeout with a
// timeout keeps the connection on a read timeout; on any other error it
// closes the connection and immediately redials and re-sends SUBSCRIBE for
// the channels it holds, and when that redial fails the next Receive dials
// again. Confirmations arrive as *redis.Subscription messages through
// Receive, one per (re)subscription. A dead peer that never answers is not
// detected by go-redis itself, hence the PING below.
func (s *Subscriber) readLoop(ctx context.Context, out chan<- string) {
	defer s.ready.Store(false)
	ps := s.subscribe(ctx)
	if ps == nil {
		return
	}
	bo := backoff{min: s.cfg.BackoffMin, max: s.cfg.BackoffMax}
	confirmed := false   // a confirmation was seen before
	pingPending := false // a PING was sent and nothing was read since
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.cfg.HealthCheckInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) && !pingPending {
				if err = ps.Ping(ctx); err == nil {
					pingPending = true
					continue
				}
				// The PING could not be written: go-redis has dropped the
				// connection and redials on the next receive.
			}
			pingPending = false
			if isTimeout(err) {
				// Neither a message nor the PONG came back.
				s.connectionLost(errNoPong)
				if ps = s.resubscribe(ctx); ps == nil {
					return
				}
			} else {
				s.connectionLost(err)
			}
			if !sleep(ctx, bo.next()) {
				return
			}
			continue
		}
		pingPending = false
		switch v := msg.(type) {
		case *redis.Message:
			if v.Channel != s.cfg.Channel {
				continue
			}
			s.stats.received.Add(1)
			select {
			case out <- v.Payload: // a string: go-redis allocated it for us, nothing aliases it
			default:
				s.drop(DropQueueFull, nil, v.Payload)
			}
		case *redis.Subscription:
			if v.Kind == "subscribe" && v.Channel == s.cfg.Channel {
				bo.reset()
				s.subscribed(ctx, confirmed)
				confirmed = true
			}
		}
	}
}

// subscribe makes a new PubSub, records it for closePubSub and subscribes.
// It returns nil when Run is stopping. A failed SUBSCRIBE is left to the
// receive loop: go-redis remembers the channel and retries on every receive.
func (s *Subscriber) subscribe(ctx context.Context) *redis.PubSub {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	ps := s.rdb.Subscribe(ctx) // no channel: does not dial
	s.ps = ps
	s.mu.Unlock()
	if err := ps.Subscribe(ctx, s.cfg.Channel); err != nil {
		s.log.Debug("pubsub: subscribe failed, will retry", "err", err)
	}
	return ps
}

// resubscribe closes the current PubSub (and its connection) and makes a new one.
func (s *Subscriber) resubscribe(ctx context.Context) *redis.PubSub {
	s.mu.Lock()
	old := s.ps
	s.ps = nil
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return s.subscribe(ctx)
}

// closePubSub stops the read loop's PubSub for good; a receive blocked on it
// returns at once.
func (s *Subscriber) closePubSub() {
	s.mu.Lock()
	s.closed = true
	ps := s.ps
	s.ps = nil
	s.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
}

func (s *Subscriber) subscribed(ctx context.Context, reconnect bool) {
	s.ready.Store(true)
	if reconnect {
		s.stats.reconnects.Add(1)
	}
	s.log.Info("pubsub: subscribed", "reconnect", reconnect)
	if s.cfg.OnSubscribed != nil {
		s.cfg.OnSubscribed(ctx, reconnect)
	}
}

func (s *Subscriber) connectionLost(err error) {
	s.ready.Store(false)
	s.limiter.warn(s.log, "connection", "pubsub: subscription lost, reconnecting", "err", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
