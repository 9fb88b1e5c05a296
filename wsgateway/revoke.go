package wsgateway

import (
	"context"
	"fmt"

	"github.com/notifyd/notifyd/auth"
)

// Disconnect closes every connection whose identity principal (the token's
// sub) is principal with protocol.CloseRevoked, and returns how many it
// closed; connections already closing for another reason are not counted. A
// connection of principal whose token was verified before this call but that
// is not registered yet is refused when it tries to register (logout frame,
// protocol.CloseUnauthorized). Disconnect only signals the writers: it never
// blocks on a socket. It satisfies pubsub.ControlSink.
//
// Disconnect does not refuse future tokens: the revocation store consulted
// by the Authenticator (auth.Revocable) does.
func (g *Gateway) Disconnect(principal string) int {
	if principal == "" {
		return 0
	}
	g.hub.disconnect(principal) // first: a handshake that misses the scan below is refused at admit
	n := 0
	for _, c := range g.calls.of(principal) {
		if c.stop(stopRevoked) {
			n++
		}
	}
	g.cfg.Logger.Info("wsgateway: principal disconnected", "principal", principal, "connections", n)
	return n
}

// RecheckRevocations asks store about the principal of every connection and
// closes with protocol.CloseRevoked those whose token was issued at or before
// that principal's revocation (or has no iat), as auth.Revocable would refuse
// it now. It returns how many it closed.
//
// Revocation orders travel on a pubsub channel, so one published while this
// gateway was not subscribed (a Redis failover, a cut subscription) never
// reached it: call RecheckRevocations after every resubscribe. It reads the
// store once per distinct principal and never blocks on a socket. A store
// error stops the sweep and is returned; the caller may try again later.
func (g *Gateway) RecheckRevocations(ctx context.Context, store auth.RevocationStore) (int, error) {
	closed := 0
	for p, conns := range g.hub.byPrincipal() {
		at, revoked, err := store.RevokedAt(ctx, p)
		if err != nil {
			return closed, fmt.Errorf("wsgateway: recheck revocations: %w", err)
		}
		if !revoked {
			continue
		}
		n := 0
		for _, c := range conns {
			// The verifier's rule (auth.Identity.RevokedBy): a token issued
			// up to the leeway after the revocation is refused too.
			tok := auth.Identity{IssuedAt: c.issuedAt, Leeway: c.leeway}
			if tok.RevokedBy(at) && c.stop(stopRevoked) {
				n++
			}
		}
		if n > 0 {
			g.cfg.Logger.Info("wsgateway: revoked principal disconnected on recheck", "principal", p, "connections", n)
			closed += n
		}
	}
	return closed, nil
}
