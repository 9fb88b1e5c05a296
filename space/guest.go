package space

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Invitation is a guest's access to one space: a token for a fresh guest
// principal, valid until Expires.
type Invitation struct {
	Token     string    `json:"token"`
	Principal string    `json:"principal"`
	Expires   time.Time `json:"expires"`
}

// Guest invites a guest named name into the space id (moderators of group
// spaces): a fresh principal "guest:<26 random base32 characters>" becomes
// a non-moderator member, and Config.Mint signs its token (sub the guest
// principal, name, principals [space:<id>]) valid for Config.GuestTTL (at
// most 24 h). A guest may not create spaces, open direct spaces, or be
// added to any other space. Without Config.Mint it fails with
// ErrNotConfigured. The guest stays a member after its token expires,
// until a moderator removes it.
func (s *Service) Guest(ctx context.Context, c Caller, id, name string) (Invitation, error) {
	const op = "guest"
	if s.cfg.Mint == nil {
		return Invitation{}, failure(op, ErrNotConfigured, "no signing key for guest tokens")
	}
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return Invitation{}, err
	}
	if err := s.allowManage(op, c); err != nil {
		return Invitation{}, err
	}
	if err := checkLine(op, "name", name, MaxName, true); err != nil {
		return Invitation{}, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	principal := guestPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	if _, err := s.join(ctx, op, c, id, principal, false); err != nil {
		return Invitation{}, err
	}
	ttl := s.cfg.GuestTTL
	// No space principal in the token: like every member's, the guest's
	// space principal comes from its membership, so that its removal
	// takes effect at once.
	token, err := s.cfg.Mint(c.Host, principal, name, nil, ttl)
	if err != nil {
		s.stats.errors.Add(1)
		// Without a token the guest cannot come: take it out again.
		if _, uerr := s.run(context.WithoutCancel(ctx), op, leaveLua, c.Host, s.key(c.Host, "s:", id), id, c.Principal, principal); uerr != nil {
			s.log.Warn("space: guest left in a space after a failed mint", "host", c.Host, "space", id, "principal", principal, "err", uerr)
		} else {
			s.publishEvent(ctx, event{Type: eventMember, Host: c.Host, Space: id, Principal: principal})
		}
		return Invitation{}, failure(op, ErrUnavailable, "mint: "+err.Error())
	}
	return Invitation{Token: token, Principal: principal, Expires: s.cfg.Now().Add(ttl)}, nil
}
