// Command notifyd-chaos proves notifyd's delivery guarantees under faults.
// It starts its own redis-server (append-only, fsync always) and two notifyd
// gateways as subprocesses on free loopback ports, connects clients built
// on client (split across the gateways, each with its own
// principal and one of four shared groups), publishes a steady stream
// through POST /api/chat/messages (alternating gateways) and bare PUBLISH
// (PyAMS's JSON, no id), and injects each fault in turn:
//
//	baseline       no fault
//	redis-restart  redis-server stopped, restarted 2s later on the same port
//	pubsub-kill    CLIENT KILL TYPE pubsub (every gateway loses its subscription)
//	sigterm        the busiest gateway gets SIGTERM; restarted once clients moved
//	sigkill        same with SIGKILL
//	slow-client    a client that never reads is flooded: it must be cut (4000), nobody else hurt
//	garbage        invalid JSON, wrong types, huge and invalid UTF-8 payloads amid valid ones
//	revoke         POST /api/admin/disconnect for a principal connected to both gateways
//	attack         slow bodies and tokenless upgrade floods against gateway1 while real users are probed
//	order          clients' connections cut at random instants (reconnect with since): each client's order must be the site's seq order (needs the inbox)
//
// Alongside the fleet, in every phase, chat users (-chat-users) in shared
// spaces created over REST send through the websocket send command and
// POST /api/spaces/{id}/messages while the fault runs; each holds one
// websocket, subscribes to its spaces and, on every reconnect, fills the
// gap from the space's history. A second table says, per phase, how many
// sends were ok'd and whether every member got each exactly once (live or
// by the fill), in its sender's order, and no non-member got anything or
// was let in (see chat.go).
//
// For each phase it prints a Markdown table row: messages published,
// deliveries owed (computed exactly from each message's targets with
// message.VisibleTo), delivered (live or replayed), lost, duplicated, and the
// time to recover. It exits 1 when a phase breaks a guarantee (see judge),
// 2 when the run could not be set up.
//
//	go run ./cmd/notifyd-chaos            # full run, about 2 minutes
//	go run ./cmd/notifyd-chaos -quick     # CI-sized
//
// Everything listens on 127.0.0.1 only, and the run is bounded by -timeout.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const (
	chaosSite   = "http://chaos.example"
	slowSite    = "http://slow.example"
	chaosSecret = "notifyd-chaos-secret-0123456789abcdef"
)

// chaos is one run's processes, clients and books.
type chaos struct {
	opts     options
	dir      string
	site     string
	slowSite string
	secret   []byte
	tokens   []string

	redis  *redisServer
	rdb    *redis.Client
	gws    []*gateway
	hc     *http.Client // REST calls
	wsHTTP *http.Client // websocket handshakes
	fleet  *fleet
	chat   *chat // nil: -chat-users 0
	ledger *ledger
	pub    *publisher
	log    *slog.Logger
	races  []int // data races already reported, per gateway
	stderr io.Writer
}

// run is main without process globals, so the test can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return 2
	}
	specs, err := selectFaults(opts.faults)
	if err != nil {
		fmt.Fprintln(stderr, "notifyd-chaos:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	// go-redis logs every failed dial through a package-level logger; the
	// faults make many on purpose, and the table reports their effect.
	redis.SetLogger(quietRedis{})
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	c := &chaos{opts: opts, site: chaosSite, slowSite: slowSite, secret: []byte(chaosSecret), ledger: &ledger{}, log: log, stderr: stderr}
	ok := false
	defer func() { c.teardown(ok && !opts.keep) }()
	if err := c.setup(ctx); err != nil {
		fmt.Fprintln(stderr, "notifyd-chaos: setup:", err)
		if c.dir != "" {
			fmt.Fprintln(stderr, "notifyd-chaos: logs kept in", c.dir)
		}
		return 2
	}
	var results []result
	for i, spec := range specs {
		if ctx.Err() != nil {
			break
		}
		results = append(results, c.runPhase(ctx, i+1, spec))
	}
	failed := report(stdout, results, c, len(specs))
	ok = failed == 0 && ctx.Err() == nil
	if !ok || opts.keep {
		fmt.Fprintln(stderr, "notifyd-chaos: logs kept in", c.dir)
	}
	if !ok {
		return 1
	}
	return 0
}

// setup starts Redis, both gateways and the clients.
func (c *chaos) setup(ctx context.Context) error {
	redisBin := c.opts.redisServer
	if redisBin == "" {
		var err error
		if redisBin, err = exec.LookPath("redis-server"); err != nil {
			return fmt.Errorf("redis-server not in PATH (or pass -redis-server): %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "notifyd-chaos-")
	if err != nil {
		return err
	}
	c.dir = dir
	bin := c.opts.notifyd
	if bin == "" {
		c.log.Info("building notifyd")
		if bin, err = buildNotifyd(ctx, dir, c.opts.race); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.redis = newRedisServer(redisBin, dir, port)
	if err := c.redis.startAndWait(ctx); err != nil {
		return err
	}
	c.rdb = c.redis.newClient()

	// One publisher token per 50 msg/s, used in turn, keeps the stream under
	// the per-token publish rate limit (100/s by default) on each gateway.
	for i := range c.opts.rate/50 + 1 {
		c.tokens = append(c.tokens, fmt.Sprintf("chaos-publisher-token-%03d", i))
	}
	env := gatewayEnv{
		redisURL: "redis://" + c.redis.addr(), secret: chaosSecret, publishTokens: c.tokens,
		origins:       []string{c.site, c.slowSite},
		historyLength: c.opts.history,
		// A slow client's blocked write is abandoned after this; the 10s
		// default would outlast a phase.
		writeTimeout:    2 * time.Second,
		shutdownSpread:  500 * time.Millisecond,
		shutdownTimeout: 5 * time.Second,
		// Room for the whole fleet on one gateway (sigterm, sigkill), the
		// revocation and slow clients, and the probes, little more: the
		// attack fault shows that attackers cannot take that room.
		maxConnections: c.opts.clients + c.opts.chat.users + 60,
		maxPerAddr:     attackCap(c.opts.clients),
	}
	var urls []string
	for i := range 2 {
		port, err := freePort()
		if err != nil {
			return err
		}
		g := newGateway(bin, dir, i, port, env)
		c.gws = append(c.gws, g)
		c.races = append(c.races, 0)
		if err := g.startAndWait(ctx); err != nil {
			return err
		}
		urls = append(urls, g.wsURL())
	}
	c.hc = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	c.wsHTTP = &http.Client{Transport: &http.Transport{}}

	clientLog := slog.New(slog.DiscardHandler)
	if c.opts.verbose {
		clientLog = c.log
	}
	c.fleet, err = newFleet(c.opts.clients, urls, c.site, c.secret, c.wsHTTP, clientLog)
	if err != nil {
		return err
	}
	c.pub = &publisher{
		site: c.site, channel: c.opts.channel, gws: c.gws, tokens: c.tokens, rdb: c.rdb, hc: c.hc,
		ledger: c.ledger, clients: c.fleet.clients, rate: c.opts.rate, workers: 64,
		rng: rand.New(rand.NewPCG(c.opts.seed, c.opts.seed>>1|1)),
	}
	c.fleet.start(ctx)
	if c.opts.chat.users > 0 {
		c.chat = newChat(c.opts.chat, c.site, c.secret, c.tokens[len(c.tokens)-1], c.gws, c.hc, c.log, c.opts.seed)
		if err := c.chat.setup(ctx); err != nil {
			return fmt.Errorf("chat: %w", err)
		}
		c.chat.start(ctx)
	}
	if err := c.fleet.waitConnected(ctx, 60*time.Second); err != nil {
		return fmt.Errorf("%w: %d of %d", err, c.fleet.connected(), c.opts.clients)
	}
	if c.chat != nil {
		if err := poll(ctx, 60*time.Second, func() bool { return c.chat.ready() == len(c.chat.users) }, "chat users ready"); err != nil {
			return fmt.Errorf("%w: %d of %d", err, c.chat.ready(), len(c.chat.users))
		}
	}
	c.log.Info("ready", "clients", c.opts.clients, "per_gateway", c.fleet.perGateway(), "chat_users", c.opts.chat.users, "dir", dir)
	return nil
}

// teardown stops everything it started; removeDir drops the temp dir.
func (c *chaos) teardown(removeDir bool) {
	if c.fleet != nil {
		c.fleet.stop()
	}
	if c.chat != nil {
		c.chat.stop()
	}
	for _, g := range c.gws {
		_, _ = g.stop(10 * time.Second)
	}
	if c.rdb != nil {
		_ = c.rdb.Close()
	}
	if c.redis != nil {
		_, _ = c.redis.stop(10 * time.Second)
	}
	for _, hc := range []*http.Client{c.hc, c.wsHTTP} {
		if hc != nil {
			hc.CloseIdleConnections()
		}
	}
	if removeDir && c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// quietRedis discards go-redis's internal logs.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
