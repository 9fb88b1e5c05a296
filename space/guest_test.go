package space_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/internal/redistest"
	"github.com/notifyd/notifyd/space"
)

// minted is one Mint call.
type minted struct {
	host, sub, name string
	principals      []string
	ttl             time.Duration
}

func TestGuest(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	var calls []minted
	fail := false
	e := newEnv(t, rdb, func(c *space.Config) {
		c.Mint = func(host, sub, name string, principals []string, ttl time.Duration) (string, error) {
			if fail {
				return "", errors.New("no key")
			}
			calls = append(calls, minted{host, sub, name, principals, ttl})
			return "token-" + sub, nil
		}
	})
	c := ctx(t)
	sp := e.mustCreate(t, "Team", "bob")
	other := e.mustCreate(t, "Other", "bob")

	_, err := e.svc.Guest(c, bob, sp.ID, "John Doe")
	wantErr(t, "Guest by a non-moderator", err, space.ErrForbidden)
	_, err = e.svc.Guest(c, dave, sp.ID, "John Doe")
	wantErr(t, "Guest by a non-member", err, space.ErrNotFound)
	_, err = e.svc.Guest(c, alice, sp.ID, "")
	wantErr(t, "Guest without name", err, space.ErrInvalid)
	_, err = e.svc.Guest(c, alice, sp.ID, strings.Repeat("n", space.MaxName+1))
	wantErr(t, "Guest name too long", err, space.ErrInvalid)

	inv, err := e.svc.Guest(c, alice, sp.ID, "John Doe")
	wantErr(t, "Guest", err, nil)
	if !strings.HasPrefix(inv.Principal, "guest:") || len(inv.Principal) < len("guest:")+20 || inv.Token != "token-"+inv.Principal ||
		!inv.Expires.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("invitation %+v", inv)
	}
	if len(calls) != 1 || calls[0].host != alice.Host || calls[0].sub != inv.Principal || calls[0].name != "John Doe" ||
		len(calls[0].principals) != 0 || calls[0].ttl != 24*time.Hour {
		t.Fatalf("Mint calls %+v", calls)
	}
	inv2, _ := e.svc.Guest(c, alice, sp.ID, "John Doe")
	if inv2.Principal == inv.Principal {
		t.Fatal("two invitations share a principal")
	}
	ms, _ := e.svc.Members(c, alice, sp.ID)
	if !slices.Contains(principals(ms), inv.Principal) {
		t.Fatalf("guest not a plain member: %v", principals(ms))
	}

	// The guest takes part in its space, and nothing else.
	g := space.Caller{Host: host, Principal: inv.Principal, Title: "John Doe"}
	e.mustSend(t, g, sp.ID, chat("hello"))
	_, err = e.svc.Create(c, g, "Mine", "", nil)
	wantErr(t, "Create by a guest", err, space.ErrForbidden)
	_, _, err = e.svc.Direct(c, g, "alice")
	wantErr(t, "Direct by a guest", err, space.ErrForbidden)
	_, _, err = e.svc.Direct(c, alice, inv.Principal)
	wantErr(t, "Direct with a guest", err, space.ErrForbidden)
	_, err = e.svc.AddMember(c, alice, other.ID, inv.Principal, false)
	wantErr(t, "AddMember of a guest", err, space.ErrForbidden)
	_, err = e.svc.Create(c, alice, "With guest", "", []string{inv.Principal})
	wantErr(t, "Create with a guest", err, space.ErrForbidden)
	_, err = e.svc.Guest(c, g, sp.ID, "Friend")
	wantErr(t, "Guest by a guest", err, space.ErrForbidden)
	_, err = e.svc.Get(c, g, other.ID)
	wantErr(t, "Get another space as a guest", err, space.ErrNotFound)

	// A failed mint leaves no guest behind.
	fail = true
	before, _ := e.svc.Members(c, alice, sp.ID)
	_, err = e.svc.Guest(c, alice, sp.ID, "Jane")
	wantErr(t, "Guest with a failing Mint", err, space.ErrUnavailable)
	after, _ := e.svc.Members(c, alice, sp.ID)
	equal(t, "members after a failed mint", principals(after), principals(before))
}

func TestGuestConfig(t *testing.T) {
	rdb, _ := redistest.Backends()[0].New(t)
	e := newEnv(t, rdb, nil)
	sp := e.mustCreate(t, "Team")
	_, err := e.svc.Guest(ctx(t), alice, sp.ID, "John")
	wantErr(t, "Guest without Mint", err, space.ErrNotConfigured)

	var ttl time.Duration
	e = newEnv(t, rdb, func(c *space.Config) {
		c.GuestTTL = time.Hour
		c.Mint = func(_, _, _ string, _ []string, d time.Duration) (string, error) { ttl = d; return "t", nil }
	})
	sp = e.mustCreate(t, "Team")
	inv, err := e.svc.Guest(ctx(t), alice, sp.ID, "John")
	wantErr(t, "Guest", err, nil)
	if ttl != time.Hour || !inv.Expires.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("ttl %v, expires %v", ttl, inv.Expires)
	}
}
