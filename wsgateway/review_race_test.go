package wsgateway

import (
	"context"
	"strings"
	"testing"
)

// raceSpaces: IsMember answers from the store, then the member is removed
// (and the leave event applied) before the gateway indexes the
// subscription: the interleaving of a removal with a subscribe (found by
// review: the subscription used to be indexed from the stale read).
type raceSpaces struct {
	*fakeSpaces
	victim string
}

func (r *raceSpaces) IsMember(ctx context.Context, host, id, principal string) (bool, bool, error) {
	m, mod, err := r.fakeSpaces.IsMember(ctx, host, id, principal)
	if principal == r.victim {
		r.fakeSpaces.remove(host, id, principal)
		r.fakeSpaces.g.SpaceMember(host, id, principal, false, false)
	}
	return m, mod, err
}

func TestSubscribeRacingARemoval(t *testing.T) {
	f := newFakeSpaces()
	rs := &raceSpaces{fakeSpaces: f, victim: "bob"}
	e := newEnv(t, envOptions{allowed: []string{siteA, siteB}, cfg: Config{Spaces: rs}})
	f.g = e.g
	f.add(strings.ToLower(siteA), "s1", false, "alice", "bob")
	a := e.connectToken(t, "alice")
	b := e.connectToken(t, "bob")
	// The removal overtakes bob's membership read: the read is made again
	// and finds him gone.
	wantAnswer(t, command(t, b, `{"action":"subscribe","rid":"b","space":"s1"}`), "error", "b", "not_found")
	wantAnswer(t, command(t, a, `{"action":"subscribe","rid":"a","space":"s1"}`), "ok", "a", "")
	wantAnswer(t, command(t, a, `{"action":"send","rid":"m","space":"s1","kind":"chat","body":"secret"}`), "ok", "m", "")
	marker(t, e, "bob", b) // bob, removed, got nothing of the space
}

// resyncSpaces: MemberOf reads the store, then the member is removed and
// the leave event applied before resetSpaces uses the stale read.
type resyncSpaces struct {
	*fakeSpaces
	arm    chan struct{}
	victim string
}

func (r *resyncSpaces) MemberOf(ctx context.Context, host, principal string, n int) ([]string, error) {
	ids, err := r.fakeSpaces.MemberOf(ctx, host, principal, n)
	select {
	case <-r.arm:
		if principal == r.victim {
			r.fakeSpaces.remove(host, "s1", principal)
			r.fakeSpaces.g.SpaceMember(host, "s1", principal, false, false)
		}
	default:
	}
	return ids, err
}

func TestResyncRacingARemoval(t *testing.T) {
	f := newFakeSpaces()
	rs := &resyncSpaces{fakeSpaces: f, arm: make(chan struct{}), victim: "bob"}
	e := newEnv(t, envOptions{allowed: []string{siteA, siteB}, cfg: Config{Spaces: rs}})
	f.g = e.g
	f.add(strings.ToLower(siteA), "s1", false, "alice", "bob")
	a := e.connectToken(t, "alice")
	b := e.connectToken(t, "bob")
	close(rs.arm)
	e.g.SpacesResync() // the listener's resubscription
	wantAnswer(t, command(t, a, `{"action":"send","rid":"m","space":"s1","kind":"chat","body":"x"}`), "ok", "m", "")
	marker(t, e, "bob", b) // fails if anything was queued to bob before the marker
}
