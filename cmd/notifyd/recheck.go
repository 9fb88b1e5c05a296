package main

import (
	"context"
	"log/slog"

	"github.com/notifyd/notifyd/auth"
)

// revocationRecheck is the resubscribe -> recheck policy. Revocations are
// announced on the control channel; one announced while this gateway was
// not subscribed was missed, so after every resubscription (not the first
// subscription) the revocation of every open connection is checked again.
// The subscriber's read loop only signals (onSubscribed must return at
// once); run does the sweep.
type revocationRecheck struct {
	due chan struct{} // holds one token while a sweep is due
	log *slog.Logger
}

// rechecker is the gateway: it closes the connections whose principal was
// revoked after their token was issued, and reports how many.
type rechecker interface {
	RecheckRevocations(ctx context.Context, store auth.RevocationStore) (int, error)
}

func newRevocationRecheck(log *slog.Logger) *revocationRecheck {
	return &revocationRecheck{due: make(chan struct{}, 1), log: log}
}

// onSubscribed is the subscriber's OnSubscribed: a resubscription makes a
// sweep due.
func (r *revocationRecheck) onSubscribed(_ context.Context, reconnect bool) {
	if !reconnect {
		return
	}
	select {
	case r.due <- struct{}{}:
	default: // a sweep is already due
	}
}

// run sweeps gw's connections against store once per due sweep, until ctx
// ends.
func (r *revocationRecheck) run(ctx context.Context, gw rechecker, store auth.RevocationStore) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.due:
		}
		n, err := gw.RecheckRevocations(ctx, store)
		if err != nil {
			r.log.Warn("revocation recheck after resubscribe failed", "err", err, "closed", n)
			continue
		}
		r.log.Info("revocations rechecked after resubscribe", "closed", n)
	}
}
