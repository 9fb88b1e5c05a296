package auth

import "time"

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
}
