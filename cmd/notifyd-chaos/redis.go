package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is the chaos run's own redis-server on a loopback port. It
// runs with the append-only file fsynced on every write
// (--appendonly yes --appendfsync always) so that history and revocations
// survive the redis-restart fault, as they would on a production Redis
// configured for durability; a non-persistent Redis would come back empty
// and every replay would report a gap.
type redisServer struct {
	*proc
	port int
}

func newRedisServer(bin, dir string, port int) *redisServer {
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--logfile", "", // to stdout, which proc appends to the log file
	}
	return &redisServer{proc: newProc("redis-server", bin, args, nil, filepath.Join(dir, "redis.log")), port: port}
}

func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// startAndWait starts the server and waits until it answers PING and has
// loaded its append-only file.
func (r *redisServer) startAndWait(ctx context.Context) error {
	if err := r.start(); err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	defer rdb.Close()
	return poll(ctx, 20*time.Second, func() bool { return rdb.Ping(ctx).Err() == nil }, "redis-server on "+r.addr())
}

// newClient returns a client with short timeouts and no retries: a command
// that fails during a fault is reported as not accepted, not retried.
func (r *redisServer) newClient() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: r.addr(), MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, PoolSize: 64,
	})
}

// poll calls cond every 20ms until it holds, ctx ends or timeout passes.
func poll(ctx context.Context, timeout time.Duration, cond func() bool, what string) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready within %v", what, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
