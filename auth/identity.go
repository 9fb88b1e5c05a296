package auth

import (
	"fmt"
	"strings"
	"time"
)

// ErrWrongSite: the token is bound to other sites than the one requested. It
// matches ErrInvalidToken, so callers refuse it like any invalid token.
var ErrWrongSite = fmt.Errorf("%w: not valid for this site", ErrInvalidToken)

// Well-known principals carried by every verified identity (PyAMS's names).
const (
	Everyone      = "system.Everyone"
	Authenticated = "system.Authenticated"
)

// Identity is who a verified token says its bearer is.
type Identity struct {
	// Principal is the token's sub claim.
	Principal string
	// Title is the token's name claim, or Principal when absent.
	Title string
	// Principals are Principal, system.Everyone, system.Authenticated and the
	// strings of the principals claim, without duplicates, in that order.
	Principals []string
	// IssuedAt is the iat claim (zero when absent).
	IssuedAt time.Time
	// Expires is the exp claim; every accepted token has one. The token is
	// accepted until ValidUntil, a little later.
	Expires time.Time
	// Leeway is the clock skew the Verifier tolerated (Config.Leeway after
	// defaults); ValidUntil and RevokedBy apply it.
	Leeway time.Duration
	// SiteBound is true when the Verifier has a SiteClaim: the token is then
	// valid only for the sites listed in Sites.
	SiteBound bool
	// Sites are the sites (origins) of the site claim, when SiteBound.
	Sites []string
}

// ValidUntil returns the instant from which Verify refuses the token as
// expired: Expires plus Leeway. A connection authenticated by the token must
// end then, not at Expires, so that it closes exactly when REST starts
// refusing the same token. It is zero when Expires is.
func (id Identity) ValidUntil() time.Time {
	if id.Expires.IsZero() {
		return time.Time{}
	}
	return id.Expires.Add(id.Leeway)
}

// RevokedBy reports whether a revocation of the identity's principal at the
// instant at refuses its token: the token has no iat, or its iat is at or
// before at+Leeway. Verify accepts an iat up to Leeway ahead of its clock, so
// a token whose iat was in the future within the leeway when the revocation
// happened was valid then, and must not survive it. The price: a token
// issued within Leeway after a revocation is refused too; its holder gets a
// new one.
func (id Identity) RevokedBy(at time.Time) bool {
	return id.IssuedAt.IsZero() || !id.IssuedAt.After(at.Add(id.Leeway))
}

// CheckSite returns nil when the identity may use site, and an error
// matching ErrWrongSite (hence ErrInvalidToken) otherwise. An identity that is
// not site-bound may use any site. Sites compare case-insensitively and
// without a trailing slash.
func (id Identity) CheckSite(site string) error {
	if !id.SiteBound {
		return nil
	}
	for _, s := range id.Sites {
		if strings.EqualFold(strings.TrimSuffix(s, "/"), strings.TrimSuffix(site, "/")) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrWrongSite, site)
}
