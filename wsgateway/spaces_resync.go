package wsgateway

import (
	"context"
	"strings"
	"sync"
)

// resyncConcurrency bounds the MemberOf calls of one SpacesResync.
const resyncConcurrency = 4

// SpacesResync re-reads the spaces of every connected user (one
// Spaces.MemberOf per site and user, resyncConcurrency at a time) and makes
// each connection's spaces exactly those: membership events published while
// the gateway was not subscribed to them are applied late, not never. A
// subscription survives for the spaces its user still belongs to. It
// blocks until done; the space event listener calls it after each
// (re)subscription.
func (g *Gateway) SpacesResync() {
	if g.cfg.Spaces == nil {
		return
	}
	users := g.hub.byPrincipal()
	sem := make(chan struct{}, resyncConcurrency)
	var wg sync.WaitGroup
	for principal, conns := range users {
		bySite := make(map[string][]*conn)
		for _, c := range conns {
			bySite[c.site] = append(bySite[c.site], c)
		}
		for site, cs := range bySite {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), g.cfg.SpacesTimeout)
				defer cancel()
				ids, err := g.cfg.Spaces.MemberOf(ctx, site, principal, MaxSpacesPerConn)
				if err != nil {
					g.stats.spaceErrs.Add(1)
					g.env.warns.WarnOrDebug(g.cfg.Logger, "spaces", "wsgateway: spaces resync failed", "err", err)
					return
				}
				g.hub.resetSpaces(cs, ids)
			})
		}
	}
	wg.Wait()
}

// resetSpaces makes ids the spaces of each of conns (still indexed),
// keeping the subscriptions to spaces among ids.
func (h *hub) resetSpaces(conns []*conn, ids []string) {
	keep := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		keep[id] = struct{}{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range conns {
		if _, ok := h.all[c]; !ok {
			continue
		}
		for id := range c.spaces {
			if _, ok := keep[id]; !ok {
				delete(c.spaces, id)
				h.unindexSpaceLocked(c.site, id, c)
			}
		}
		for _, id := range ids {
			h.joinLocked(c, id, false)
		}
	}
}

// loadSpaces reads the spaces of a connecting user (at most
// MaxSpacesPerConn). A failure is counted and logged: the connection
// starts without them (subscribe asks Redis again).
func (g *Gateway) loadSpaces(ctx context.Context, host, principal string) spaceSet {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.SpacesTimeout)
	defer cancel()
	ids, err := g.cfg.Spaces.MemberOf(ctx, strings.ToLower(host), principal, MaxSpacesPerConn)
	if err != nil {
		g.stats.spaceErrs.Add(1)
		g.env.warns.WarnOrDebug(g.cfg.Logger, "spaces", "wsgateway: reading a user's spaces failed", "err", err)
		return nil
	}
	if len(ids) == 0 {
		return nil
	}
	set := make(spaceSet, len(ids))
	for _, id := range ids {
		set[id] = false
	}
	return set
}
