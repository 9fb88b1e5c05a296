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
	// Expires is the exp claim; every accepted token has one.
	Expires time.Time
	// SiteBound is true when the Verifier has a SiteClaim: the token is then
	// valid only for the sites listed in Sites.
	SiteBound bool
	// Sites are the sites (origins) of the site claim, when SiteBound.
	Sites []string
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
