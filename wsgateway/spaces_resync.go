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
				g.resyncUser(site, principal, cs)
			})
		}
	}
	wg.Wait()
}

// resyncUser reads the spaces of principal on site and makes them the
// spaces of conns (its connections there), reading again when a
// membership event overtook the read (see genBuckets).
func (g *Gateway) resyncUser(site, principal string, conns []*conn) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.SpacesTimeout)
	defer cancel()
	for range maxStaleReads {
		gen := g.hub.generation(site, principal)
		ids, err := g.cfg.Spaces.MemberOf(ctx, site, principal, MaxSpacesPerConn)
		if err != nil {
			g.stats.spaceErrs.Add(1)
			g.env.warns.WarnOrDebug(g.cfg.Logger, "spaces", "wsgateway: spaces resync failed", "err", err)
			return
		}
		if g.hub.resetSpaces(conns, ids, site, principal, gen) {
			return
		}
	}
	g.stats.spaceErrs.Add(1)
	g.env.warns.WarnOrDebug(g.cfg.Logger, "spaces", "wsgateway: spaces resync kept being overtaken by membership events",
		"principal", clip(principal))
}

// resetSpaces makes ids, read at membership generation gen, the spaces of
// each of conns (still indexed), keeping the subscriptions to spaces among
// ids. It reports false, and changes nothing, when a membership event of
// principal was applied since gen.
func (h *hub) resetSpaces(conns []*conn, ids []string, site, principal string, gen uint64) bool {
	keep := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		keep[id] = struct{}{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gens[genIndex(site, principal)] != gen {
		return false
	}
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
	return true
}

// settleSpaces reads the spaces of a just admitted connection again when a
// membership event of its principal was applied while they were read at
// connect (gen): the event may have been missed by the read.
func (g *Gateway) settleSpaces(c *conn, gen uint64) {
	if g.cfg.Spaces == nil || g.hub.generation(c.site, c.principal) == gen {
		return
	}
	g.resyncUser(c.site, c.principal, []*conn{c})
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
