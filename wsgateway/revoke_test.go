package wsgateway

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

func TestDisconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	alice := []*websocket.Conn{
		e.connect(t, siteA, "users:alice"),
		e.connect(t, siteA, "users:alice"),
		e.connect(t, siteB, "users:alice"),
	}
	bob := e.connect(t, siteA, "users:bob")
	// carol carries the principal users:alice but is not alice.
	carol := e.connect(t, siteA, "users:carol", "users:alice")

	if n := e.g.Disconnect("users:alice"); n != len(alice) {
		t.Errorf("Disconnect = %d, want %d", n, len(alice))
	}
	var wg sync.WaitGroup
	for _, c := range alice {
		wg.Go(func() { expectClose(t, c, protocol.CloseRevoked, protocol.ReasonDisconnected) })
	}
	wg.Wait()
	poll.Until(t, "condition", func() bool { return e.g.Count() == 2 })
	for sub, c := range map[string]*websocket.Conn{"users:bob": bob, "users:carol": carol} {
		m := newMessage(siteA, "users:zed", "still here", sub)
		e.g.Deliver(m, m.PushJSON())
		if got := readText(t, c); got != string(m.PushJSON()) {
			t.Errorf("%s got %s, want the message", sub, got)
		}
	}
	if got := e.g.Stats().Disconnects[DisconnectRevoked]; got != uint64(len(alice)) {
		t.Errorf("revoked disconnects = %d, want %d", got, len(alice))
	}
	if n := e.g.Disconnect("users:alice"); n != 0 {
		t.Errorf("second Disconnect = %d, want 0", n)
	}
	if n := e.g.Disconnect(""); n != 0 {
		t.Errorf(`Disconnect("") = %d, want 0`, n)
	}
	// A new token connects (refusing old tokens is the Authenticator's job).
	e.connect(t, siteA, "users:alice")
}

// revocations is an auth.RevocationStore.
type revocations struct {
	at  time.Time
	err error
}

func (r revocations) RevokedAt(context.Context, string) (time.Time, bool, error) {
	return r.at, !r.at.IsZero(), r.err
}

// failingAuth fails every Verify with err.
type failingAuth struct{ err error }

func (a failingAuth) Verify(context.Context, string) (auth.Identity, error) {
	return auth.Identity{}, a.err
}

func TestAuthenticatorErrors(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		auth       Authenticator
		wantLogout bool
		code       websocket.StatusCode
		reason     string
		rejected   RejectReason
	}{
		{"revoked", auth.Revocable{Verifier: verifier, Store: revocations{at: time.Now().Add(time.Hour)}},
			true, protocol.CloseUnauthorized, protocol.ReasonRevoked, RejectRevoked},
		{"revocation list unavailable", auth.Revocable{Verifier: verifier, Store: revocations{err: errors.New("redis down")}},
			false, protocol.CloseTryAgainLater, protocol.ReasonUnavailable, RejectUnavailable},
		{"unknown error", failingAuth{errors.New("identity provider down")},
			false, protocol.CloseTryAgainLater, protocol.ReasonUnavailable, RejectUnavailable},
		{"wrapped invalid", failingAuth{errors.Join(errors.New("x"), auth.ErrInvalidToken)},
			true, protocol.CloseUnauthorized, protocol.ReasonUnauthorized, RejectToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{cfg: Config{Auth: tt.auth}})
			c, _, err := e.dialAs(t, "users:alice", nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if tt.wantLogout {
				if got := readText(t, c); got != string(protocol.LogoutFrame) {
					t.Fatalf("first frame %s, want the logout frame", got)
				}
			}
			expectClose(t, c, tt.code, tt.reason) // fails on a logout frame that is not wanted
			poll.Until(t, "condition", func() bool { return e.g.Stats().Rejected[tt.rejected] == 1 })
			if s := e.g.Stats(); s.Accepted != 0 {
				t.Errorf("accepted = %d, want 0", s.Accepted)
			}
		})
	}
}

// gatedAuth verifies with a real Verifier, but only once gate is closed, and
// reports every call on entered.
type gatedAuth struct {
	v       *auth.Verifier
	entered chan struct{}
	gate    chan struct{}
}

func (a *gatedAuth) Verify(ctx context.Context, token string) (auth.Identity, error) {
	a.entered <- struct{}{}
	<-a.gate
	return a.v.Verify(ctx, token)
}

// TestDisconnectDuringHandshake: a token verified before Disconnect, whose
// connection registers after it, is refused: it must not escape revocation.
func TestDisconnectDuringHandshake(t *testing.T) {
	t.Parallel()
	verifier, err := auth.NewVerifier(auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	ga := &gatedAuth{v: verifier, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	e := newEnv(t, envOptions{cfg: Config{Auth: ga}})
	type result struct {
		c   *websocket.Conn
		err error
	}
	done := make(chan result, 1)
	token := mint(t, "users:alice", time.Hour)
	go func() {
		c, _, err := e.dial(t, dialOptions{query: "host=" + siteA, subprotocols: []string{protocol.SubProtocol, token}})
		done <- result{c, err}
	}()
	<-ga.entered
	if n := e.g.Disconnect("users:alice"); n != 0 {
		t.Errorf("Disconnect = %d, want 0 (nothing registered yet)", n)
	}
	close(ga.gate)
	r := <-done
	if r.err != nil {
		t.Fatalf("dial: %v", r.err)
	}
	if got := readText(t, r.c); got != string(protocol.LogoutFrame) {
		t.Fatalf("first frame %s, want the logout frame", got)
	}
	expectClose(t, r.c, protocol.CloseUnauthorized, protocol.ReasonRevoked)
	poll.Until(t, "condition", func() bool { return e.g.Stats().Rejected[RejectRevoked] == 1 })
	if s := e.g.Stats(); s.Accepted != 0 || s.Connections != 0 {
		t.Errorf("accepted %d, connections %d; want 0, 0", s.Accepted, s.Connections)
	}
	// The record does not outlive the handshakes it was for.
	e.connect(t, siteA, "users:alice")
}

func TestSites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	if got := e.g.Sites(); len(got) != 0 {
		t.Errorf("Sites = %v, want none", got)
	}
	b := e.connect(t, siteB, "users:b")
	e.connect(t, siteA, "users:a1")
	a2 := e.connect(t, siteA, "users:a2")
	if got, want := e.g.Sites(), []string{siteA, siteB}; !slices.Equal(got, want) {
		t.Errorf("Sites = %v, want %v", got, want)
	}
	e.g.Disconnect("users:b")
	expectClose(t, b, protocol.CloseRevoked, "") // completes the close handshake
	poll.Until(t, "condition", func() bool { return slices.Equal(e.g.Sites(), []string{siteA}) })
	a2.CloseNow()
	if got := e.g.Sites(); !slices.Equal(got, []string{siteA}) {
		t.Errorf("Sites = %v, want [%s] while a1 is connected", got, siteA)
	}
}
