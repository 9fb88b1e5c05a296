package wsgateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// storeByPrincipal is a revocation store with one revocation time per
// principal.
type storeByPrincipal struct {
	at  map[string]time.Time
	err error
}

func (s storeByPrincipal) RevokedAt(_ context.Context, p string) (time.Time, bool, error) {
	at, ok := s.at[p]
	return at, ok, s.err
}

func TestRecheckRevocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	alice1 := e.connect(t, siteA, "users:alice")
	alice2 := e.connect(t, siteB, "users:alice")
	bob := e.connect(t, siteA, "users:bob")
	carol := e.connect(t, siteA, "users:carol")
	dave := e.connect(t, siteA, "users:dave")
	now := time.Now()
	store := storeByPrincipal{at: map[string]time.Time{
		"users:alice": now.Add(time.Second), // after her tokens were issued: closed
		"users:carol": now.Add(-time.Hour),  // before her token was issued: kept
		// before his token's iat, but within the verifier's leeway (5 s): a
		// token with that iat could have been accepted then, so it is closed
		"users:dave": now.Add(-2 * time.Second),
	}}
	if _, err := e.g.RecheckRevocations(context.Background(), storeByPrincipal{err: errors.New("redis down")}); err == nil {
		t.Fatal("a store error was not returned")
	}
	n, err := e.g.RecheckRevocations(context.Background(), store)
	if err != nil || n != 3 {
		t.Fatalf("RecheckRevocations = %d, %v; want 3 closed", n, err)
	}
	expectClose(t, alice1, protocol.CloseRevoked, "")
	expectClose(t, alice2, protocol.CloseRevoked, "")
	expectClose(t, dave, protocol.CloseRevoked, "")
	poll.Until(t, "condition", func() bool { return e.g.Count() == 2 })
	for name, c := range map[string]string{"users:bob": "for bob", "users:carol": "for carol"} {
		m := newMessage(siteA, "users:system", c, name)
		e.g.Deliver(m, m.PushJSON())
	}
	if got := readText(t, bob); got == "" {
		t.Fatal("bob got nothing")
	}
	if got := readText(t, carol); got == "" {
		t.Fatal("carol got nothing")
	}
	if got := e.g.Stats().Disconnects[DisconnectRevoked]; got != 3 {
		t.Fatalf("revoked disconnects = %d, want 3", got)
	}
}
