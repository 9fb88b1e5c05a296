// Command notifyd-load measures a running notifyd gateway: it opens many
// websocket clients, publishes PyAMS messages on the Redis channel at a fixed
// rate (half to one user, half to a group every client is in), and reports
// delivery counts, throughput and end-to-end latency percentiles.
//
//	notifyd-load -gateway http://127.0.0.1:8080 -redis 127.0.0.1:6379 -secret $NOTIFYD_JWT_SECRET
//
// It only talks to loopback addresses, and every run is bounded by -duration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"time"
)

type options struct {
	gateway  string
	redis    string
	channel  string
	secret   string
	origin   string
	clients  int
	rate     int
	duration time.Duration
	drain    time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "notifyd-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("notifyd-load", flag.ContinueOnError)
	fs.StringVar(&o.gateway, "gateway", "http://127.0.0.1:8080", "notifyd base URL (loopback only)")
	fs.StringVar(&o.redis, "redis", "127.0.0.1:6399", "Redis host:port the gateway subscribes to (loopback only)")
	fs.StringVar(&o.channel, "channel", "chat:main", "pubsub channel")
	fs.StringVar(&o.secret, "secret", os.Getenv("NOTIFYD_JWT_SECRET"), "JWT secret of the gateway (env NOTIFYD_JWT_SECRET)")
	fs.StringVar(&o.origin, "origin", "http://load.example", "Origin of the clients, i.e. the site; must be allowed by the gateway")
	fs.IntVar(&o.clients, "clients", 1000, "websocket clients")
	fs.IntVar(&o.rate, "rate", 1000, "messages published per second")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "publishing time")
	fs.DurationVar(&o.drain, "drain", 3*time.Second, "wait for late deliveries after publishing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopbackOnly(o.gateway, o.redis); err != nil {
		return err
	}
	if o.clients < 1 || o.rate < 1 || o.duration <= 0 || o.duration > 10*time.Minute {
		return errors.New("want -clients >= 1, -rate >= 1 and 0 < -duration <= 10m")
	}
	res, err := measure(ctx, o)
	if err != nil {
		return err
	}
	res.print(out, o)
	return nil
}

// loopbackOnly refuses targets outside 127.0.0.0/8 and ::1: this tool
// generates load and must never be pointed at another machine.
func loopbackOnly(gateway, redisAddr string) error {
	u, err := url.Parse(gateway)
	if err != nil {
		return fmt.Errorf("-gateway: %w", err)
	}
	for _, host := range []string{u.Hostname(), hostOf(redisAddr)} {
		if host == "localhost" {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%q is not a loopback address", host)
		}
	}
	return nil
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}
