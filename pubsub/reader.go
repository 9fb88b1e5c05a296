package pubsub

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/backoff"
)

// errNoPong is why the read loop replaces a connection that answered neither a
// message nor a PING for two health-check intervals: the TCP connection may
// be dead without either side having noticed.
var errNoPong = errors.New("pubsub: no reply to PING within the health-check interval")

// item is what the read loop queues for the dispatcher: a data payload, or
// the marker of a gap fill requested at that point of the stream.
type item struct {
	payload  string
	fill     bool
	delivery bool // payload comes from the delivery channel
}

// reader is the read loop's state. It owns the redis.PubSub (through sub)
// and only reads: every data payload goes into out and every control
// payload into ctl, without blocking (a full queue drops it); decoding and
// Redis writes happen elsewhere.
type reader struct {
	// immutable after newReader
	cfg   SubscriberConfig
	sub   *subscription
	fills *fillQueue // nil: no gap fills (no history)
	rep   *reporter
	out   *itemQueue
	ctl   chan<- string

	// owned by the read loop
	bo   backoff.Backoff
	link link
}

// link is what the read loop knows of its subscription.
type link struct {
	channels    []string  // every channel the subscription needs
	confirmed   bool      // every channel was confirmed before (on any connection)
	ok          []bool    // ok[i]: channels[i] is confirmed on this connection
	pingPending bool      // a PING was sent and nothing was read since
	lastRead    time.Time // when the connection last delivered anything
	lostAt      time.Time // lastRead when the subscription was lost; zero while subscribed
}

// heard records that the connection delivered something.
func (l *link) heard(now time.Time) {
	l.pingPending, l.lastRead = false, now
}

// lost records that the connection broke: nothing is confirmed on the next
// one, and the subscription, if it was up, was lost when it last delivered.
func (l *link) lost() {
	clear(l.ok)
	l.pingPending = false
	if l.confirmed && l.lostAt.IsZero() {
		l.lostAt = l.lastRead
	}
}

// confirm records a subscription confirmation. It reports complete when it
// completes the subscription to every channel on this connection, with
// resubscribed true when they were confirmed before, on this or an earlier
// connection, and lostAt the moment that earlier subscription was lost.
func (l *link) confirm(v *redis.Subscription) (complete, resubscribed bool, lostAt time.Time) {
	if v.Kind != "subscribe" || l.complete() {
		return false, false, time.Time{}
	}
	for i, c := range l.channels {
		l.ok[i] = l.ok[i] || v.Channel == c
	}
	if !l.complete() {
		return false, false, time.Time{}
	}
	resubscribed, lostAt = l.confirmed, l.lostAt
	l.confirmed, l.lostAt = true, time.Time{}
	return true, resubscribed, lostAt
}

// complete reports whether every channel is confirmed on this connection.
func (l *link) complete() bool {
	for _, ok := range l.ok {
		if !ok {
			return false
		}
	}
	return true
}

func newReader(cfg SubscriberConfig, sub *subscription, fills *fillQueue, rep *reporter,
	out *itemQueue, ctl chan<- string) *reader {
	channels := cfg.channels()
	return &reader{cfg: cfg, sub: sub, fills: fills, rep: rep, out: out, ctl: ctl, bo: cfg.newBackoff(),
		link: link{channels: channels, ok: make([]bool, len(channels))}}
}

// run reads until ctx is done or the subscription is closed.
//
// go-redis (pubsub.go, v9.23) behaviour this relies on: ReceiveTimeout with a
// timeout keeps the connection on a read timeout; on any other error it
// closes the connection and immediately redials and re-sends SUBSCRIBE for
// the channels it holds, and when that redial fails the next Receive dials
// again. Confirmations arrive as *redis.Subscription messages through
// Receive, one per channel and (re)subscription. A dead peer that never
// answers is not detected by go-redis itself, hence the PING in recover.
func (r *reader) run(ctx context.Context) {
	defer r.sub.ready.Store(false)
	ps := r.sub.open(ctx)
	for ps != nil {
		msg, err := ps.ReceiveTimeout(ctx, r.cfg.HealthCheckInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			ps = r.recover(ctx, ps, err)
			continue
		}
		r.link.heard(time.Now())
		switch v := msg.(type) {
		case *redis.Message:
			r.route(v)
		case *redis.Subscription:
			r.confirm(ctx, v)
		}
	}
}

// recover handles a receive error: after a quiet health-check interval it
// sends a PING; otherwise the subscription is lost, and the loop backs off
// before it receives again. It returns the PubSub to receive from next, nil
// when the loop must stop.
func (r *reader) recover(ctx context.Context, ps *redis.PubSub, err error) *redis.PubSub {
	if isTimeout(err) && !r.link.pingPending {
		if err = ps.Ping(ctx); err == nil {
			r.link.pingPending = true
			return ps
		}
		// The PING could not be written: go-redis has dropped the
		// connection and redials on the next receive.
	}
	var reply redis.Error
	switch {
	case isTimeout(err):
		// Neither a message nor the PONG came back.
		r.lost(errNoPong)
		ps = r.sub.reopen(ctx)
	case errors.As(err, &reply):
		// Redis answered with an error (e.g. NOPERM on SUBSCRIBE): the
		// connection is healthy, so go-redis will not redial and
		// resubscribe by itself. Start over on a new PubSub.
		r.lost(err)
		ps = r.sub.reopen(ctx)
	default:
		r.lost(err)
	}
	if ps == nil || !backoff.Sleep(ctx, r.bo.Next()) {
		return nil
	}
	return ps
}

// route queues a payload for the dispatcher, by channel.
func (r *reader) route(v *redis.Message) {
	switch v.Channel {
	case r.cfg.Channel:
		r.rep.stats.received.Add(1)
		r.enqueue(item{payload: v.Payload})
	case r.cfg.DeliveryChannel: // never "" here: go-redis has no such channel
		r.rep.stats.deliveries.Add(1)
		r.enqueue(item{payload: v.Payload, delivery: true})
	case r.cfg.ControlChannel:
		r.rep.stats.control.Add(1)
		select {
		case r.ctl <- v.Payload:
		default:
			r.rep.stats.controlDropped.Add(1)
			r.rep.warn("control_dropped", "pubsub: control message dropped",
				"reason", "queue full", "payload", truncate(v.Payload, logPayloadBytes))
		}
	}
}

// enqueue puts a data or delivery payload on out without blocking; a
// full queue (QueueSize payloads or QueueBytes bytes) drops it. The
// payload is a string: go-redis allocated it for us, nothing aliases it.
func (r *reader) enqueue(it item) {
	if !r.out.push(it) {
		r.rep.drop(DropQueueFull, nil, it.payload)
	}
}

// confirm handles a subscription confirmation: once every channel is
// confirmed the subscriber is ready, and after a resubscription (not the
// first subscription) a gap fill is requested.
func (r *reader) confirm(ctx context.Context, v *redis.Subscription) {
	complete, resubscribed, lostAt := r.link.confirm(v)
	if !complete {
		return
	}
	r.bo.Reset()
	r.sub.ready.Store(true)
	if resubscribed {
		r.rep.stats.reconnects.Add(1)
	}
	r.rep.log.Info("pubsub: subscribed", "reconnect", resubscribed)
	if r.cfg.OnSubscribed != nil {
		r.cfg.OnSubscribed(ctx, resubscribed)
	}
	if resubscribed && r.fills != nil {
		r.fills.request(r.out, lostAt)
	}
}

// lost marks the subscriber not ready and notes when the subscription was
// lost.
func (r *reader) lost(err error) {
	r.link.lost()
	r.sub.ready.Store(false)
	r.rep.warn("connection", "pubsub: subscription lost, reconnecting", "err", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
