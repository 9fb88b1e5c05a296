package pubsub

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/notifyd/notifyd/internal/backoff"
	"github.com/redis/go-redis/v9"
)

// errNoPong is why the read loop replaces a connection that answered neither a
// message nor a PING for two health-check intervals: the TCP connection may
// be dead without either side having noticed.
var errNoPong = errors.New("pubsub: no reply to PING within the health-check interval")

// readLoop owns the PubSub. It only reads: every data payload goes into out
// and every control payload into ctl, without blocking (a full queue drops
// it); decoding and Redis writes happen elsewhere.
//
// go-redis (pubsub.go, v9.23) behaviour this relies on: ReceiveTimeout with a
// timeout keeps the connection on a read timeout; on any other error it
// closes the connection and immediately redials and re-sends SUBSCRIBE for
// the channels it holds, and when that redial fails the next Receive dials
// again. Confirmations arrive as *redis.Subscription messages through
// Receive, one per channel and (re)subscription. A dead peer that never
// answers is not detected by go-redis itself, hence the PING below.
func (s *Subscriber) readLoop(ctx context.Context, out chan<- item, ctl chan<- string) {
	defer s.ready.Store(false)
	ps := s.subscribe(ctx)
	if ps == nil {
		return
	}
	bo := s.cfg.newBackoff()
	var (
		confirmed   bool      // both channels were confirmed before
		dataOK      bool      // the data channel is confirmed on this connection
		controlOK   bool      // the control channel is confirmed on this connection
		pingPending bool      // a PING was sent and nothing was read since
		lastRead    time.Time // when the connection last delivered anything
		lostAt      time.Time // lastRead when the subscription was lost; zero while subscribed
	)
	lost := func(err error) {
		dataOK, controlOK, pingPending = false, false, false
		if confirmed && lostAt.IsZero() {
			lostAt = lastRead
		}
		s.connectionLost(err)
	}
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
			if isTimeout(err) {
				// Neither a message nor the PONG came back.
				lost(errNoPong)
				if ps = s.resubscribe(ctx); ps == nil {
					return
				}
			} else {
				lost(err)
				var reply redis.Error
				if errors.As(err, &reply) {
					// Redis answered with an error (e.g. NOPERM on SUBSCRIBE):
					// the connection is healthy, so go-redis will not redial
					// and resubscribe by itself. Start over on a new PubSub.
					if ps = s.resubscribe(ctx); ps == nil {
						return
					}
				}
			}
			if !backoff.Sleep(ctx, bo.Next()) {
				return
			}
			continue
		}
		pingPending = false
		lastRead = time.Now()
		switch v := msg.(type) {
		case *redis.Message:
			switch v.Channel {
			case s.cfg.Channel:
				s.stats.received.Add(1)
				s.enqueue(out, v.Payload)
			case s.cfg.ControlChannel:
				s.stats.control.Add(1)
				select {
				case ctl <- v.Payload:
				default:
					s.stats.controlDropped.Add(1)
					s.limiter.Warn(s.log, "control_dropped", "pubsub: control message dropped",
						"reason", "queue full", "payload", truncate(v.Payload, logPayloadBytes))
				}
			}
		case *redis.Subscription:
			if v.Kind != "subscribe" || (dataOK && controlOK) {
				continue
			}
			dataOK = dataOK || v.Channel == s.cfg.Channel
			controlOK = controlOK || v.Channel == s.cfg.ControlChannel
			if !dataOK || !controlOK {
				continue
			}
			bo.Reset()
			s.subscribed(ctx, confirmed)
			if confirmed {
				s.requestFill(out, lostAt)
			}
			confirmed, lostAt = true, time.Time{}
		}
	}
}

// enqueue puts a data payload on out without blocking. Payloads never take
// the queue's last slot, kept for the gap-fill marker: the read loop is the
// only sender, so len(out) below QueueSize leaves room for this payload.
func (s *Subscriber) enqueue(out chan<- item, payload string) {
	if len(out) >= s.cfg.QueueSize {
		s.drop(DropQueueFull, nil, payload)
		return
	}
	select {
	case out <- item{payload: payload}: // a string: go-redis allocated it for us, nothing aliases it
	default:
		s.drop(DropQueueFull, nil, payload)
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
	if err := ps.Subscribe(ctx, s.cfg.Channel, s.cfg.ControlChannel); err != nil {
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
	s.limiter.Warn(s.log, "connection", "pubsub: subscription lost, reconnecting", "err", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
