package wsgateway

import (
	"context"
	"fmt"
	"time"

	"github.com/notifyd/notifyd/auth"
)

// RecheckRevocations asks store about the principal of every connection and
// closes with protocol.CloseRevoked those whose token was issued at or before that
// principal's revocation (or has no iat), as auth.Revocable would refuse it
// now. It returns how many it closed.
//
// Revocation orders travel on a pubsub channel, so one published while this
// gateway was not subscribed (a Redis failover, a cut subscription) never
// reached it: call RecheckRevocations after every resubscribe. It reads the
// store once per distinct principal and never blocks on a socket. A store
// error stops the sweep and is returned; the caller may try again later.
func (g *Gateway) RecheckRevocations(ctx context.Context, store auth.RevocationStore) (int, error) {
	byPrincipal := g.hub.byPrincipal()
	closed := 0
	for p, conns := range byPrincipal {
		at, revoked, err := store.RevokedAt(ctx, p)
		if err != nil {
			return closed, fmt.Errorf("wsgateway: recheck revocations: %w", err)
		}
		if !revoked {
			continue
		}
		cutoff := at.Truncate(time.Second)
		n := 0
		for _, c := range conns {
			if (c.issuedAt.IsZero() || !c.issuedAt.After(cutoff)) && c.stop(stopRevoked) {
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

// byPrincipal returns the registered connections grouped by their own
// principal (the token's sub).
func (h *hub) byPrincipal() map[string][]*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[string][]*conn)
	for c := range h.all {
		if c.indexed && c.principal != "" {
			out[c.principal] = append(out[c.principal], c)
		}
	}
	return out
}
