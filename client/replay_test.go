package client

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
	"github.com/notifyd/notifyd/wsgateway"
)

// memHistory is a fixed site history, newest first.
type memHistory []*message.Message

func (h memHistory) List(context.Context, string) ([]*message.Message, error) { return h, nil }

func bobToken(t testing.TB) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return mint(t, "users:bob", time.Now(), time.Hour), nil }
}

// drainListeners returns once the listener calls queued so far have run
// (a marker queued after them has).
func drainListeners(t *testing.T, c *Client) {
	t.Helper()
	drained := make(chan struct{})
	c.emit(func() { close(drained) })
	recv(t, drained)
}

func TestCatchUpOnConnect(t *testing.T) {
	t.Parallel()
	m1, m2, m3 := msg("m1", "users:x", "users:bob"), msg("m2", "users:x", "users:bob"), msg("m3", "users:x", "users:bob")
	hidden := msg("hidden", "users:x", "users:carol")
	history := memHistory{m3, hidden, m2, m1}
	tests := []struct {
		name    string
		since   string
		gap     bool
		want    string
		wantDup uint64
	}{
		{"since a kept id replays what follows", m1.ID, false, "m2,m3", 0},
		{"since the newest replays nothing", m3.ID, false, "", 0},
		{"since an id no longer kept: gap, then everything kept", ids.New(time.Now()), true, "m1,m2,m3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startGateway(t, wsgateway.Config{History: history})
			rec := newRecorder()
			cfg := Config{URL: s.url(), Since: tt.since, Token: bobToken(t)}
			rec.wire(&cfg)
			c := runClient(t, cfg)
			// The gateway answers the first PING after the replay. The
			// listeners of the frames before that PONG were queued before it
			// was counted; a marker queued after them runs once they have
			// (waiting on Pongs alone raced with them).
			poll.Until(t, "first PONG", func() bool { return c.Stats().Pongs >= 1 })
			drainListeners(t, c)
			if got := strings.Join(rec.titles(), ","); got != tt.want {
				t.Fatalf("replayed %q, want %q", got, tt.want)
			}
			select {
			case since := <-rec.gaps:
				if !tt.gap || since != tt.since {
					t.Fatalf("OnGap(%q), want gap=%v for %q", since, tt.gap, tt.since)
				}
			default:
				if tt.gap {
					t.Fatal("no OnGap")
				}
			}
			if got := s.sinceList(); got[0] != tt.since {
				t.Fatalf("dialled with since %q, want %q", got[0], tt.since)
			}
			if st := c.Stats(); st.Duplicates != tt.wantDup {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// After a gap the gateway replays everything it keeps, including messages the
// client already has: the client must pass each to OnMessage once.
func TestGapReplayOverlapIsDeduplicated(t *testing.T) {
	t.Parallel()
	m1, m2, m3 := msg("m1", "users:x", "users:bob"), msg("m2", "users:x", "users:bob"), msg("m3", "users:x", "users:bob")
	a := startGateway(t, wsgateway.Config{})
	b := startGateway(t, wsgateway.Config{History: memHistory{m3, m1}}) // m2 is not kept
	rec := newRecorder()
	cfg := Config{URL: a.url(), Fallbacks: []string{b.url()}, Token: bobToken(t)}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	recv(t, rec.connects)
	deliver(a.gw, m1, m2)
	poll.Until(t, "condition", func() bool { return c.LastID() == m2.ID })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, rec.gaps); got != m2.ID {
		t.Fatalf("OnGap(%q), want %q", got, m2.ID)
	}
	poll.Until(t, "condition", func() bool { return c.Stats().Pongs >= 2 }) // after b's replay
	drainListeners(t, c)
	if got := strings.Join(rec.titles(), ","); got != "m1,m2,m3" {
		t.Fatalf("OnMessage got %q, want m1,m2,m3", got)
	}
	if st := c.Stats(); st.Duplicates != 1 || st.Gaps != 1 {
		t.Fatalf("stats %+v, want 1 duplicate and 1 gap", st)
	}
}

func TestRevokedConnectionRefreshesToken(t *testing.T) {
	t.Parallel()
	s := startGateway(t, wsgateway.Config{})
	rec := newRecorder()
	var mu sync.Mutex
	var refreshes []bool
	cfg := Config{URL: s.url(), Token: func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		refreshes = append(refreshes, Refresh(ctx))
		return mint(t, "users:bob", time.Now(), time.Hour), nil
	}}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	recv(t, rec.connects)
	if n := s.gw.Disconnect("users:bob"); n != 1 {
		t.Fatalf("Disconnect closed %d connections, want 1", n)
	}
	if err := recv(t, rec.disconnects); !errors.Is(err, ErrRevoked) {
		t.Fatalf("ended with %v, want ErrRevoked", err)
	}
	recv(t, rec.connects)
	mu.Lock()
	defer mu.Unlock()
	if len(refreshes) != 2 || refreshes[0] || !refreshes[1] {
		t.Fatalf("Token calls saw Refresh = %v, want [false true]", refreshes)
	}
	if st := c.Stats(); st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// flakyAuth fails its first Verify with auth.ErrUnavailable (the revocation
// list could not be read), then verifies for real.
type flakyAuth struct {
	real *auth.Verifier
	mu   sync.Mutex
	n    int
}

func (f *flakyAuth) Verify(ctx context.Context, token string) (auth.Identity, error) {
	f.mu.Lock()
	f.n++
	first := f.n == 1
	f.mu.Unlock()
	if first {
		return auth.Identity{}, auth.ErrUnavailable
	}
	return f.real.Verify(ctx, token)
}

func TestTryAgainLaterKeepsToken(t *testing.T) {
	t.Parallel()
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	s := startGateway(t, wsgateway.Config{Auth: &flakyAuth{real: v}})
	rec := newRecorder()
	var mu sync.Mutex
	var refreshes []bool
	cfg := Config{URL: s.url(), Token: func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		refreshes = append(refreshes, Refresh(ctx))
		return mint(t, "users:bob", time.Now(), time.Hour), nil
	}}
	rec.wire(&cfg)
	c := runClient(t, cfg)
	err = recv(t, rec.disconnects)
	if code := websocket.CloseStatus(err); code != protocol.CloseTryAgainLater || errors.Is(err, ErrTokenRefused) {
		t.Fatalf("first connection ended with %v (code %d), want 1013 without a refusal", err, code)
	}
	recv(t, rec.connects)
	mu.Lock()
	defer mu.Unlock()
	if len(refreshes) != 2 || refreshes[1] {
		t.Fatalf("Token calls saw Refresh = %v, want [false false]", refreshes)
	}
	if st := c.Stats(); st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
}
