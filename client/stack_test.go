package client_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/client"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/pubsub"
	"github.com/notifyd/notifyd/site"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/wsgateway"
)

// The stack is notifyd's daemon in-process, wired from the real packages
// the way cmd/notifyd/components.go wires them (history with the inbox on,
// publisher, space service, gateway, subscriber, announcer, REST API) on a
// real redis-server: what a client of a running notifyd talks to.

const (
	stackSite   = "https://app.example.com"
	stackSecret = "client-stack-secret-0123456789abcdef"
)

type stack struct {
	srv    *httptest.Server
	conns  *trackingListener
	gw     *wsgateway.Gateway
	pub    *pubsub.Publisher
	spaces *space.Service
	hist   *history.Store
}

func startStack(tb testing.TB) *stack {
	tb.Helper()
	rdb := redistest.Client(tb, redistest.Start(tb).Addr())
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatalf("stack: %v", err)
		}
	}
	verifier, err := auth.NewVerifier(auth.Config{Secret: []byte(stackSecret)})
	must(err)
	sites, err := site.NewPolicy([]string{stackSite}, "")
	must(err)
	publishers, err := auth.NewPublisherTokens(nil)
	must(err)
	delivery := history.DefaultDeliveryChannel
	hist, err := history.New(rdb, history.Config{DeliveryChannel: delivery})
	must(err)
	pub, err := pubsub.NewPublisher(rdb, hist, pubsub.PublisherConfig{DeliveryChannel: delivery})
	must(err)
	announcer, err := pubsub.NewAnnouncer(rdb, pubsub.AnnouncerConfig{})
	must(err)
	spaces, err := space.New(rdb, pub, hist, space.Config{
		Prefix: func(host string) string { return "{" + hist.ListKey(host) + "}:" },
	})
	must(err)
	gw, err := wsgateway.New(wsgateway.Config{
		Auth: verifier, Sites: sites, History: hist, Inbox: hist, Spaces: spaces, ShutdownSpread: -1,
	})
	must(err)
	sub, err := pubsub.NewSubscriber(rdb, hist, gw, pubsub.SubscriberConfig{DeliveryChannel: delivery})
	must(err)
	routes, err := api.New(api.Config{
		Auth: verifier, PublisherTokens: publishers, Sites: sites, Publisher: pub, History: hist,
		Inbox: hist, Editor: hist, InboxEvents: announcer, Spaces: spaces, WebSocket: gw,
		Ready: func(context.Context) error { return nil },
	})
	must(err)

	s := &stack{gw: gw, pub: pub, spaces: spaces, hist: hist}
	s.srv = httptest.NewUnstartedServer(routes)
	s.conns = &trackingListener{Listener: s.srv.Listener, conns: make(map[net.Conn]struct{})}
	s.srv.Listener = s.conns
	s.srv.Start()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sub.Run(ctx) })
	wg.Go(func() { _ = spaces.Listen(ctx, gw) })
	tb.Cleanup(func() {
		shutdown, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		_ = gw.Shutdown(shutdown)
		s.srv.Close()
		cancel()
		wg.Wait()
	})
	poll.Until(tb, "the subscriber", sub.Ready)
	return s
}

// wsURL is the gateway's websocket endpoint.
func (s *stack) wsURL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws/chat" }

// token mints a user token of sub, named title.
func (s *stack) token(tb testing.TB, sub, title string) string {
	tb.Helper()
	tok, err := auth.Mint([]byte(stackSecret), sub, title, nil, time.Now(), time.Hour)
	if err != nil {
		tb.Fatalf("mint: %v", err)
	}
	return tok
}

// config is a client configuration of sub (titled title) on the stack's
// site, with short backoffs.
func (s *stack) config(tb testing.TB, sub, title string) client.Config {
	tok := s.token(tb, sub, title)
	return client.Config{
		URL: s.wsURL(), Origin: stackSite,
		Token:      func(context.Context) (string, error) { return tok, nil },
		BackoffMin: time.Millisecond, BackoffMax: 20 * time.Millisecond,
	}
}

// run runs a client of cfg until stop or the end of the test, and waits
// until it is live.
func (s *stack) run(tb testing.TB, cfg client.Config) (c *client.Client, stop func()) {
	tb.Helper()
	live := make(chan struct{}, 1)
	onConnect := cfg.OnConnect
	cfg.OnConnect = func(url string) {
		if onConnect != nil {
			onConnect(url)
		}
		select {
		case live <- struct{}{}:
		default:
		}
	}
	c, err := client.New(cfg)
	if err != nil {
		tb.Fatalf("client.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	tb.Cleanup(stop)
	select {
	case <-live:
	case <-time.After(15 * time.Second):
		tb.Fatalf("client of %s not connected", cfg.URL)
	}
	return c, stop
}

// notify publishes a notification titled title to principal and returns
// its id.
func (s *stack) notify(tb testing.TB, principal, title string) string {
	tb.Helper()
	m := &message.Message{
		Host: stackSite, Action: "notify", Category: "content.review", Title: title, Body: "Please review",
		Source: &message.Source{ID: "users:publisher"}, Target: &message.Target{Principals: []string{principal}},
	}
	if err := s.pub.Publish(context.Background(), m); err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return m.ID
}

// cut closes every TCP connection the server accepted, websockets
// included, as a network failure would.
func (s *stack) cut() { s.conns.closeAll() }

// trackingListener remembers the connections it accepted.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c] = struct{}{}
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		_ = c.Close()
	}
	clear(l.conns)
}

// exampleTB lets the runnable examples use the stack: the few testing.TB
// methods it calls, with a failure as a panic. The embedded nil TB makes
// any other call panic too.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (e *exampleTB) Helper()                        {}
func (e *exampleTB) Cleanup(f func())               { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (e *exampleTB) Skipf(format string, a ...any)  { panic(fmt.Sprintf(format, a...)) }
func (e *exampleTB) TempDir() string {
	dir, err := os.MkdirTemp("", "client-example-")
	if err != nil {
		panic(err)
	}
	e.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// close runs the cleanups, last first.
func (e *exampleTB) close() {
	for _, f := range slices.Backward(e.cleanups) {
		f()
	}
}
