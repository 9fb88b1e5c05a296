package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/message"
)

type result struct {
	published int
	expected  int
	delivered atomic.Int64
	connected int
	elapsed   time.Duration

	mu        sync.Mutex // guards latencies
	latencies []time.Duration
}

func (r *result) record(d time.Duration) {
	r.delivered.Add(1)
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
}

func measure(ctx context.Context, o options) (*result, error) {
	res := &result{}
	wsURL := "ws" + strings.TrimPrefix(o.gateway, "http") + "/ws/chat"
	clientsCtx, stopClients := context.WithCancel(ctx)
	defer stopClients()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopClients()
	// Every client is the Go SDK (package client), as a service would be:
	// it reconnects with since on its own; OnMessage records the latency.
	var connected atomic.Int64
	for i := range o.clients {
		tok, err := auth.Mint([]byte(o.secret), fmt.Sprintf("users:load-%d", i), "", []string{"group:load"}, time.Now(), time.Hour)
		if err != nil {
			return nil, err
		}
		var once sync.Once
		c, err := client.New(client.Config{
			URL: wsURL, Origin: o.origin,
			Token:     func(context.Context) (string, error) { return tok, nil },
			OnConnect: func(string) { once.Do(func() { connected.Add(1) }) },
			OnMessage: func(_ *message.Message, raw []byte) { res.recordFrame(raw) },
		})
		if err != nil {
			return nil, err
		}
		wg.Go(func() { _ = c.Run(clientsCtx) })
	}
	for dl := time.Now().Add(30 * time.Second); connected.Load() < int64(o.clients); {
		if time.Now().After(dl) {
			return nil, fmt.Errorf("%d of %d clients connected after 30s (raise NOTIFYD_CONNECT_RATE/BURST and NOTIFYD_MAX_CONNECTIONS_PER_ADDR for load tests)", connected.Load(), o.clients)
		}
		time.Sleep(20 * time.Millisecond) // waiting for the fleet to connect, bounded above
	}
	res.connected = int(connected.Load())

	rdb := redis.NewClient(&redis.Options{Addr: o.redis, PoolSize: 4})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis %s: %w", o.redis, err)
	}

	interval := time.Second / time.Duration(o.rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	deadline := start.Add(o.duration)
	for n := 0; time.Now().Before(deadline); n++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		target, fanout := "group:load", o.clients
		if n%2 == 0 {
			target, fanout = fmt.Sprintf("users:load-%d", n%o.clients), 1
		}
		if err := rdb.Publish(ctx, o.channel, payload(o.origin, target, n)).Err(); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		res.published++
		res.expected += fanout
	}
	res.elapsed = time.Since(start)
	drainUntil := time.Now().Add(o.drain)
	for time.Now().Before(drainUntil) && res.delivered.Load() < int64(res.expected) {
		time.Sleep(20 * time.Millisecond) // waiting for stragglers, bounded by -drain
	}
	return res, nil
}

// payload is a PyAMS-style message with the send time in an extra key.
func payload(host, target string, n int) string {
	now := time.Now()
	return `{"host": "` + host + `", "channel": "chat:main", "action": "notify", "category": "load", ` +
		`"status": "info", "title": "load ` + strconv.Itoa(n) + `", "message": "x", "image": null, ` +
		`"source": {"id": "users:loader", "title": "Loader"}, "target": {"principals": ["` + target + `"]}, ` +
		`"url": null, "modal": false, "timestamp": "` + now.UTC().Format("2006-01-02T15:04:05.000000+00:00") + `", ` +
		`"load_sent": ` + strconv.FormatInt(now.UnixNano(), 10) + `}`
}

var sentKey = []byte(`"load_sent":`)

// recordFrame records the latency of a load message from its send time.
func (r *result) recordFrame(data []byte) {
	i := bytes.Index(data, sentKey)
	if i < 0 {
		return
	}
	rest := data[i+len(sentKey):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(rest[:end])), 10, 64)
	if err != nil {
		return
	}
	r.record(time.Since(time.Unix(0, ns)))
}

func (r *result) print(w io.Writer, o options) {
	r.mu.Lock()
	lat := slices.Clone(r.latencies)
	r.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	delivered := r.delivered.Load()
	fmt.Fprintf(w, "clients %d, published %d msgs in %v (%.0f msg/s; half to one user, half to all %d)\n",
		r.connected, r.published, r.elapsed.Round(time.Millisecond), float64(r.published)/r.elapsed.Seconds(), o.clients)
	fmt.Fprintf(w, "deliveries expected %d, delivered %d (%.2f%%), %.0f deliveries/s\n",
		r.expected, delivered, 100*float64(delivered)/float64(max(1, r.expected)), float64(delivered)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency publish->client: p50 %v  p90 %v  p99 %v  max %v\n",
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
}
