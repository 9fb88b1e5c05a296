package webhook

import "errors"

// Errors of the package; test them with errors.Is. The api package maps
// them to HTTP statuses.
var (
	// ErrInvalid: a registration, an event or an argument is invalid; the
	// wrapping error names the field.
	ErrInvalid = errors.New("webhook: invalid")
	// ErrForbiddenAddress: a webhook URL resolves to a loopback, private,
	// link-local or other non-public address and Config.AllowPrivate is off.
	ErrForbiddenAddress = errors.New("webhook: forbidden address")
	// ErrNotFound: no registration of that owner has that id on that site.
	ErrNotFound = errors.New("webhook: not found")
	// ErrTooMany: the owner already has Config.MaxPerOwner registrations on
	// the site.
	ErrTooMany = errors.New("webhook: too many registrations")
	// ErrUnavailable: Redis failed (unless the caller's context ended first).
	ErrUnavailable = errors.New("webhook: redis unavailable")
	// ErrSignature: Verify refused a request (missing or malformed headers,
	// a timestamp outside the tolerance, or a signature that does not match).
	ErrSignature = errors.New("webhook: bad signature")
)
