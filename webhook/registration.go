package webhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd/site"
)

// Limits of a registration.
const (
	// MinSecret and MaxSecret bound the length in bytes of a secret.
	MinSecret = 16
	MaxSecret = 256
	// MaxSpaces bounds the space ids of a registration.
	MaxSpaces = 100
	// MaxSpaceID bounds the length of a space id.
	MaxSpaceID = 128
	// MaxOwner bounds the length of an owner.
	MaxOwner = 256
	// AllSpaces is the Spaces entry that watches every space of the site.
	AllSpaces = "*"
)

// Registration is one webhook: where to POST the new messages of which
// spaces of a site, and with which secret to sign them.
type Registration struct {
	ID      string   `json:"id"`      // assigned by Register
	Host    string   `json:"host"`    // the site (scheme://host[:port]) whose spaces it watches
	Owner   string   `json:"owner"`   // who registered it (publisher identity); List/Delete are scoped to it
	URL     string   `json:"url"`     // http or https, no user info
	Spaces  []string `json:"spaces"`  // space ids, or ["*"] for every space of Host
	Secret  string   `json:"-"`       // never returned after creation
	Created string   `json:"created"` // RFC 3339 UTC
}

// record is a Registration as stored in Redis, with its secret.
type record struct {
	Registration
	Secret string `json:"secret"`
}

func encodeRecord(r Registration) ([]byte, error) {
	return json.Marshal(record{Registration: r, Secret: r.Secret})
}

func decodeRecord(b []byte) (Registration, error) {
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Registration{}, err
	}
	rec.Registration.Secret = rec.Secret
	return rec.Registration, nil
}

// watches reports whether r wants the messages of space.
func (r Registration) watches(space string) bool {
	return slices.Contains(r.Spaces, AllSpaces) || slices.Contains(r.Spaces, space)
}

// normalizeHost checks a site and returns it normalized.
func normalizeHost(host string) (string, error) {
	if host == "" || len(host) > site.MaxLength {
		return "", fmt.Errorf("%w: host is empty or longer than %d bytes", ErrInvalid, site.MaxLength)
	}
	n, err := site.Normalize(host)
	if err != nil || strings.ContainsAny(n, "{}") {
		return "", fmt.Errorf("%w: host %q is not scheme://host[:port]", ErrInvalid, host)
	}
	return n, nil
}

func checkOwner(owner string) error {
	if owner == "" || len(owner) > MaxOwner || !utf8.ValidString(owner) {
		return fmt.Errorf("%w: owner is empty, longer than %d bytes or not UTF-8", ErrInvalid, MaxOwner)
	}
	return nil
}

// checkFields validates every field of r but the URL's addresses and
// returns r normalized: host, de-duplicated spaces.
func checkFields(r Registration) (Registration, error) {
	host, err := normalizeHost(r.Host)
	if err != nil {
		return r, err
	}
	r.Host = host
	if err := checkOwner(r.Owner); err != nil {
		return r, err
	}
	if n := len(r.Secret); n < MinSecret || n > MaxSecret {
		return r, fmt.Errorf("%w: secret is %d bytes, want %d to %d", ErrInvalid, n, MinSecret, MaxSecret)
	}
	if len(r.Spaces) == 0 || len(r.Spaces) > MaxSpaces {
		return r, fmt.Errorf("%w: spaces has %d entries, want 1 to %d or [\"*\"]", ErrInvalid, len(r.Spaces), MaxSpaces)
	}
	spaces := make([]string, 0, len(r.Spaces))
	for _, sp := range r.Spaces {
		if sp == "" || len(sp) > MaxSpaceID || !utf8.ValidString(sp) || strings.ContainsFunc(sp, isControl) {
			return r, fmt.Errorf("%w: spaces: id %q is empty, longer than %d bytes or not printable", ErrInvalid, sp, MaxSpaceID)
		}
		if !slices.Contains(spaces, sp) {
			spaces = append(spaces, sp)
		}
	}
	if slices.Contains(spaces, AllSpaces) && len(spaces) > 1 {
		return r, fmt.Errorf("%w: spaces: \"*\" must be alone", ErrInvalid)
	}
	r.Spaces = spaces
	return r, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Register validates r, assigns its ID and Created time and stores it. It
// returns the stored registration, its Secret included (the only time it
// is returned). Validation: Host a site, Owner 1..MaxOwner bytes, URL http
// or https without user info, Secret MinSecret..MaxSecret bytes, Spaces 1
// to MaxSpaces ids or ["*"]; unless Config.AllowPrivate, the URL's host
// must resolve only to public addresses. Errors match ErrInvalid or
// ErrForbiddenAddress (naming the field), ErrTooMany, ErrUnavailable.
func (s *Store) Register(ctx context.Context, r Registration) (Registration, error) {
	r, err := checkFields(r)
	if err != nil {
		return Registration{}, err
	}
	if r.URL, err = checkURL(ctx, r.URL, s.cfg.AllowPrivate, s.cfg.LookupIP); err != nil {
		return Registration{}, err
	}
	r.ID = randomID()
	r.Created = s.cfg.Now().UTC().Format(time.RFC3339)
	b, err := encodeRecord(r)
	if err != nil {
		return Registration{}, fmt.Errorf("webhook: encode registration: %w", err)
	}
	k := s.keys.site(r.Host)
	ok, err := registerScript.Run(ctx, s.rdb, []string{k.regs, k.owner(r.Owner)},
		s.cfg.MaxPerOwner, r.ID, b).Int()
	if err != nil {
		return Registration{}, s.fail(ctx, "register", err)
	}
	if ok == 0 {
		return Registration{}, fmt.Errorf("%w: owner %q has %d on %s", ErrTooMany, r.Owner, s.cfg.MaxPerOwner, r.Host)
	}
	s.cache.forget(r.Host)
	return r, nil
}

// List returns the registrations of owner on host, without their secrets,
// oldest first.
func (s *Store) List(ctx context.Context, host, owner string) ([]Registration, error) {
	host, err := normalizeHost(host)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(owner); err != nil {
		return nil, err
	}
	k := s.keys.site(host)
	vals, err := listScript.Run(ctx, s.rdb, []string{k.regs, k.owner(owner)}).Slice()
	if err != nil {
		return nil, s.fail(ctx, "list", err)
	}
	out := make([]Registration, 0, len(vals))
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		r, err := decodeRecord([]byte(str))
		if err != nil {
			continue
		}
		r.Secret = ""
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Registration) int {
		return strings.Compare(a.Created+a.ID, b.Created+b.ID)
	})
	return out, nil
}

// Delete removes owner's registration id on host; ErrNotFound when there is
// none. Its queued deliveries are dropped when their turn comes.
func (s *Store) Delete(ctx context.Context, host, owner, id string) error {
	host, err := normalizeHost(host)
	if err != nil {
		return err
	}
	if err := checkOwner(owner); err != nil {
		return err
	}
	k := s.keys.site(host)
	n, err := deleteScript.Run(ctx, s.rdb, []string{k.regs, k.owner(owner)}, id).Int()
	if err != nil {
		return s.fail(ctx, "delete", err)
	}
	s.cache.forget(host)
	if n == 0 {
		return fmt.Errorf("%w: webhook %q", ErrNotFound, id)
	}
	return nil
}

// randomID is 26 lower-case base32 characters, 130 random bits.
func randomID() string { return strings.ToLower(rand.Text()) }
