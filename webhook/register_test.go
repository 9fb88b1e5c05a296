package webhook_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/webhook"
)

func TestForbidden(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true,
		"192.168.1.1": true, "169.254.169.254": true, "fe80::1": true, "fc00::1": true, "fd12::1": true,
		"0.0.0.0": true, "::": true, "0.1.2.3": true, "224.0.0.1": true, "ff02::1": true, "100.64.0.1": true,
		"100.127.255.255": true, "255.255.255.255": true, "198.18.0.1": true, "::ffff:10.0.0.1": true,
		"::ffff:127.0.0.1": true, "64:ff9b::a00:1": true, "64:ff9b::7f00:1": true,
		"8.8.8.8": false, "203.0.113.7": false, "100.128.0.1": false, "172.32.0.1": false,
		"2001:4860:4860::8888": false, "::ffff:8.8.8.8": false, "64:ff9b::808:808": false,
	} {
		if got := webhook.Forbidden(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Forbidden(%s) = %v, want %v", addr, got, want)
		}
	}
}

// fakeDNS answers LookupIP from a table; other names do not resolve.
func fakeDNS(table map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		a, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var out []netip.Addr
		for _, s := range strings.Split(a, ",") {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, rdb *redis.Client) {
		cfg := fastConfig(t)
		cfg.AllowPrivate = false
		cfg.LookupIP = fakeDNS(map[string]string{
			"bot.example.com": "203.0.113.7", "rebind.example.com": "203.0.113.7,10.0.0.1",
			"localhost": "127.0.0.1", "metadata.internal": "169.254.169.254",
		})
		s := newStore(t, rdb, cfg)
		valid := webhook.Registration{Host: testHost, Owner: testOwner, URL: "https://bot.example.com/hook",
			Spaces: []string{"s1"}, Secret: testSecret}
		tests := []struct {
			name   string
			change func(r *webhook.Registration)
			want   error
		}{
			{"valid", func(*webhook.Registration) {}, nil},
			{"all spaces", func(r *webhook.Registration) { r.Spaces = []string{"*"} }, nil},
			{"host empty", func(r *webhook.Registration) { r.Host = "" }, webhook.ErrInvalid},
			{"host not a site", func(r *webhook.Registration) { r.Host = "app.example.com/x" }, webhook.ErrInvalid},
			{"owner empty", func(r *webhook.Registration) { r.Owner = "" }, webhook.ErrInvalid},
			{"url empty", func(r *webhook.Registration) { r.URL = "" }, webhook.ErrInvalid},
			{"url ftp", func(r *webhook.Registration) { r.URL = "ftp://bot.example.com/" }, webhook.ErrInvalid},
			{"url user info", func(r *webhook.Registration) { r.URL = "https://u:p@bot.example.com/" }, webhook.ErrInvalid},
			{"url no host", func(r *webhook.Registration) { r.URL = "https:///hook" }, webhook.ErrInvalid},
			{"url too long", func(r *webhook.Registration) { r.URL += strings.Repeat("a", 2048) }, webhook.ErrInvalid},
			{"url does not resolve", func(r *webhook.Registration) { r.URL = "https://nx.example.com/" }, webhook.ErrInvalid},
			{"secret short", func(r *webhook.Registration) { r.Secret = "short" }, webhook.ErrInvalid},
			{"secret long", func(r *webhook.Registration) { r.Secret = strings.Repeat("s", 257) }, webhook.ErrInvalid},
			{"spaces none", func(r *webhook.Registration) { r.Spaces = nil }, webhook.ErrInvalid},
			{"spaces too many", func(r *webhook.Registration) { r.Spaces = make([]string, 101) }, webhook.ErrInvalid},
			{"space empty", func(r *webhook.Registration) { r.Spaces = []string{""} }, webhook.ErrInvalid},
			{"star with others", func(r *webhook.Registration) { r.Spaces = []string{"*", "s1"} }, webhook.ErrInvalid},
			{"loopback literal", func(r *webhook.Registration) { r.URL = "http://127.0.0.1:8080/" }, webhook.ErrForbiddenAddress},
			{"ipv6 loopback", func(r *webhook.Registration) { r.URL = "http://[::1]/" }, webhook.ErrForbiddenAddress},
			{"private literal", func(r *webhook.Registration) { r.URL = "https://10.2.3.4/" }, webhook.ErrForbiddenAddress},
			{"cgnat literal", func(r *webhook.Registration) { r.URL = "https://100.64.0.9/" }, webhook.ErrForbiddenAddress},
			{"localhost", func(r *webhook.Registration) { r.URL = "http://localhost:9000/" }, webhook.ErrForbiddenAddress},
			{"link-local by name", func(r *webhook.Registration) { r.URL = "http://metadata.internal/" }, webhook.ErrForbiddenAddress},
			{"one private address of several", func(r *webhook.Registration) { r.URL = "https://rebind.example.com/" }, webhook.ErrForbiddenAddress},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := valid
				tt.change(&r)
				got, err := s.Register(context.Background(), r)
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("Register = %v, want %v", err, tt.want)
				}
				if err == nil && (got.ID == "" || got.Created == "" || got.Secret != testSecret) {
					t.Fatalf("Register = %+v, want id, created and secret", got)
				}
			})
		}
	})
}

func TestAllowPrivate(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.Backends()[0].New(t)
	s := newStore(t, rdb, fastConfig(t)) // AllowPrivate
	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://localhost/", "http://10.0.0.1/", "http://[::1]:9/"} {
		if _, err := s.Register(context.Background(), webhook.Registration{
			Host: testHost, Owner: testOwner, URL: u, Spaces: []string{"s1"}, Secret: testSecret,
		}); err != nil {
			t.Errorf("Register(%s) with AllowPrivate: %v", u, err)
		}
	}
}

func TestListDeleteScopedToOwner(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, rdb *redis.Client) {
		cfg := fastConfig(t)
		cfg.MaxPerOwner = 2
		cfg.Now = func() time.Time { return time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC) }
		s := newStore(t, rdb, cfg)
		ctx := context.Background()
		a := register(t, s, "http://127.0.0.1:1/a", "s1", "s2", "s1")
		register(t, s, "http://127.0.0.1:1/b", "*")
		if _, err := s.Register(ctx, webhook.Registration{Host: testHost, Owner: testOwner,
			URL: "http://127.0.0.1:1/c", Spaces: []string{"s1"}, Secret: testSecret}); !errors.Is(err, webhook.ErrTooMany) {
			t.Fatalf("third Register = %v, want ErrTooMany", err)
		}
		other, err := s.Register(ctx, webhook.Registration{Host: "HTTPS://App.Example.com", Owner: "publisher:other",
			URL: "http://127.0.0.1:1/o", Spaces: []string{"s1"}, Secret: testSecret})
		if err != nil || other.Host != testHost {
			t.Fatalf("Register other = %+v, %v; want host normalized", other, err)
		}
		list, err := s.List(ctx, testHost, testOwner)
		if err != nil || len(list) != 2 {
			t.Fatalf("List = %+v, %v; want 2", list, err)
		}
		for _, r := range list {
			if r.Secret != "" || r.Owner != testOwner || r.Created != "2026-12-01T06:00:00Z" {
				t.Fatalf("List entry %+v: want no secret, the owner, the creation time", r)
			}
		}
		if i := slices.IndexFunc(list, func(r webhook.Registration) bool { return r.ID == a.ID }); i < 0 ||
			!slices.Equal(list[i].Spaces, []string{"s1", "s2"}) {
			t.Fatalf("List = %+v, want %s with spaces [s1 s2]", list, a.ID)
		}
		if err := s.Delete(ctx, testHost, "publisher:other", a.ID); !errors.Is(err, webhook.ErrNotFound) {
			t.Fatalf("Delete by another owner = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, testHost, testOwner, a.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := s.Delete(ctx, testHost, testOwner, a.ID); !errors.Is(err, webhook.ErrNotFound) {
			t.Fatalf("Delete again = %v, want ErrNotFound", err)
		}
		if list, _ := s.List(ctx, testHost, testOwner); len(list) != 1 {
			t.Fatalf("List after Delete = %+v, want 1", list)
		}
	})
}

func TestEnqueueMatchesSpacesOnce(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, rdb *redis.Client) {
		s := newStore(t, rdb, fastConfig(t))
		register(t, s, "http://127.0.0.1:1/a", "s1")
		register(t, s, "http://127.0.0.1:1/b", "*")
		for _, tt := range []struct {
			space, id string
			want      int
		}{
			{"s1", "m1", 2}, {"s2", "m2", 1}, {"s1", "m1", 0}, // the same message again: nothing
		} {
			if n := enqueue(t, s, tt.space, tt.id); n != tt.want {
				t.Errorf("Enqueue(%s, %s) = %d, want %d", tt.space, tt.id, n, tt.want)
			}
		}
		other := newStore(t, rdb, fastConfig(t)) // another gateway
		if n := enqueue(t, other, "s1", "m1"); n != 0 {
			t.Errorf("Enqueue of m1 on another gateway = %d, want 0", n)
		}
		if n, err := s.Enqueue(context.Background(), webhook.Event{Host: testHost, Space: "s1"}); n != 0 || !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("Enqueue without id = %d, %v; want ErrInvalid", n, err)
		}
		if n, err := rdb.XLen(context.Background(), "{"+testKey(t)+"}:jobs").Result(); err != nil || n != 3 {
			t.Errorf("XLEN = %d, %v; want 3", n, err)
		}
	})
}

func TestConfigErrorsNameTheField(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.Backends()[0].New(t)
	for field, cfg := range map[string]webhook.Config{
		"Key":         {Key: "a{b}"},
		"ClaimIdle":   {Timeout: 2 * time.Second, ClaimIdle: time.Second},
		"BackoffMax":  {BackoffMin: time.Second, BackoffMax: time.Millisecond},
		"Concurrency": {Concurrency: -1},
		"MaxAge":      {MaxAge: -time.Second},
	} {
		if _, err := webhook.NewStore(rdb, cfg); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("NewStore with a bad %s = %v, want an error naming it", field, err)
		}
	}
}
