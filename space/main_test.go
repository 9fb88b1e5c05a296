package space_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/leaktest"
	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/pubsub"
	"github.com/notifyd/notifyd/space"
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// The concrete types cmd/notifyd wires satisfy the interfaces.
var (
	_ space.Publisher = (*pubsub.Publisher)(nil)
	_ space.History   = (*history.Store)(nil)
)

const host = "https://chat.example.com"

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Service on a real history and publisher, wired as cmd/notifyd
// does: the history publishes deliveries, the publisher stores through it.
type env struct {
	rdb   redis.UniversalClient
	hist  *history.Store
	pub   *pubsub.Publisher
	svc   *space.Service
	clock *clock
	cfg   space.Config
	names names
}

// names are a test's unique key and channels.
type names struct{ key, delivery, events string }

func newNames(t testing.TB) names {
	p := "test:" + strings.NewReplacer("/", ":", " ", "_").Replace(t.Name())
	return names{key: p, delivery: p + ":delivery", events: p + ":spaces"}
}

// newEnv builds an env on rdb; tweak edits the Config before New.
func newEnv(t testing.TB, rdb redis.UniversalClient, tweak func(*space.Config)) *env {
	t.Helper()
	n := newNames(t)
	h, err := history.New(rdb, history.Config{Key: n.key, DeliveryChannel: n.delivery})
	if err != nil {
		t.Fatalf("history.New: %v", err)
	}
	pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{DeliveryChannel: n.delivery})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	e := &env{rdb: rdb, hist: h, pub: pub, clock: newClock(), names: n}
	e.cfg = space.Config{
		Prefix:  func(host string) string { return "{" + h.ListKey(host) + "}:" },
		Channel: n.events,
		Now:     e.clock.Now,
	}
	if tweak != nil {
		tweak(&e.cfg)
	}
	svc, err := space.New(rdb, pub, h, e.cfg)
	if err != nil {
		t.Fatalf("space.New: %v", err)
	}
	e.svc = svc
	return e
}

// forEachBackend runs f on miniredis and on a real redis-server.
func forEachBackend(t *testing.T, f func(t *testing.T, rdb *redis.Client, srv *redistest.Server)) {
	for _, b := range redistest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rdb, srv := b.New(t)
			f(t, rdb, srv)
		})
	}
}

func caller(p string) space.Caller {
	return space.Caller{Host: host, Principal: p, Title: strings.ToUpper(p[:1]) + p[1:]}
}

var (
	alice = caller("alice")
	bob   = caller("bob")
	carol = caller("carol")
	dave  = caller("dave")
)

func ctx(t testing.TB) context.Context { return t.Context() }

// mustCreate creates a group space of alice with members.
func (e *env) mustCreate(t testing.TB, title string, members ...string) space.Space {
	t.Helper()
	sp, err := e.svc.Create(ctx(t), alice, title, "", members)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return sp
}

func (e *env) mustSend(t testing.TB, c space.Caller, id string, m protocol.Send) protocol.SpaceMessage {
	t.Helper()
	sm, err := e.svc.Send(ctx(t), c, id, m, space.SendOptions{})
	if err != nil {
		t.Fatalf("Send as %s: %v", c.Principal, err)
	}
	e.clock.Advance(time.Millisecond)
	return sm
}

func chat(body string) protocol.Send { return protocol.Send{Kind: protocol.KindChat, Body: body} }

// wantErr fails unless errors.Is(err, want) (want nil: err must be nil).
func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v, want nil", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// bodies returns the bodies of msgs in order.
func bodies(msgs []protocol.SpaceMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
	}
	return out
}

func principals(ms []space.Member) []string {
	var out []string
	for _, m := range ms {
		p := m.Principal
		if m.Moderator {
			p += "*"
		}
		out = append(out, p)
	}
	return out
}

func spaceIDs(sps []space.Space) []string {
	var out []string
	for _, s := range sps {
		out = append(out, s.ID)
	}
	return out
}

func equal[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// nopPublisher and nopHistory are for tests that never publish nor read.
type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, *message.Message) error { return errors.New("nop") }

type nopHistory struct{}

func (nopHistory) Page(context.Context, history.Reader, history.PageOptions) (history.Page, error) {
	return history.Page{}, errors.New("nop")
}

func (nopHistory) Update(context.Context, string, string, func(*message.Message) error) (*message.Message, error) {
	return nil, errors.New("nop")
}

func (nopHistory) Retract(context.Context, string, string) (*message.Message, error) {
	return nil, errors.New("nop")
}
