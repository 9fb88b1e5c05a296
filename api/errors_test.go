package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/site"
)

// catalogue lists every entry of errors.go's catalogue.
func catalogue() []*apiError {
	return []*apiError{
		errNoSite, errBadLimit, errBadSince, errMalformedBody, errInvalidMessage, errUnreadableBody,
		errUnknownField, errNoPrincipal, errBadPrincipal, errBadSite,
		errAuthRequired, errNotPublisher, errOriginForbidden, errNotFound, errMethodNotAllowed,
		errBodyTooLarge, errMessageTooLarge, errRateLimited, errInternal, errUnavailable, errNotReady,
	}
}

func TestCatalogueIsNumbered(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for _, e := range catalogue() {
		if seen[e.code] {
			t.Errorf("code %d used twice", e.code)
		}
		seen[e.code] = true
		if e.code/100 != e.status || http.StatusText(e.status) == "" || e.message == "" {
			t.Errorf("entry %d: status %d message %q", e.code, e.status, e.message)
		}
	}
}

func TestToAPIError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		err   error
		want  *apiError
		field string
	}{
		{"catalogue entry", errBadLimit, errBadLimit, ""},
		{"wrapped entry", fmt.Errorf("x: %w", errUnavailable.with(errBackend)), errUnavailable, ""},
		{"field error", fmt.Errorf("x: %w", &message.FieldError{Field: "source.id", Reason: "is required"}), errInvalidMessage, "source.id"},
		{"malformed", fmt.Errorf("%w: eof", message.ErrMalformed), errMalformedBody, ""},
		{"too large", message.ErrTooLarge, errMessageTooLarge, ""},
		{"max bytes", &http.MaxBytesError{Limit: 1}, errBodyTooLarge, ""},
		{"expired", fmt.Errorf("%w: exp", auth.ErrExpired), errAuthRequired, ""},
		{"revoked", fmt.Errorf("%w: users:jdoe", auth.ErrRevoked), errAuthRequired, ""},
		{"revocations unavailable", fmt.Errorf("%w: %v", auth.ErrUnavailable, errBackend), errUnavailable, ""},
		{"origin", site.ErrOriginNotAllowed, errOriginForbidden, ""},
		{"unknown", errBackend, errInternal, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := toAPIError(c.err)
			if got.code != c.want.code || got.field != c.field {
				t.Fatalf("got %d field %q, want %d field %q", got.code, got.field, c.want.code, c.field)
			}
			if !errors.Is(c.err, got) && !errors.Is(got, c.err) {
				t.Fatalf("cause %v lost", c.err)
			}
		})
	}
}

func TestPublishAndAuthFailureMapping(t *testing.T) {
	t.Parallel()
	if toAPIError(publishFailure(errBackend)).code != errUnavailable.code {
		t.Error("a backend error must be unavailable")
	}
	if toAPIError(publishFailure(&message.FieldError{Field: "title"})).code != errInvalidMessage.code {
		t.Error("a field error must stay invalid")
	}
	if authFailure(auth.ErrInvalidToken).code != errAuthRequired.code || authFailure(errBackend).code != errUnavailable.code ||
		authFailure(auth.ErrRevoked).code != errAuthRequired.code || authFailure(auth.ErrUnavailable).code != errUnavailable.code {
		t.Error("auth failures misclassified")
	}
	if !errors.Is(errUnavailable.with(errBackend), errBackend) {
		t.Error("with must keep the cause for errors.Is")
	}
}

// TestFailureLogClipsPath: the request path (client-controlled, up to the
// header limit) is logged clipped.
func TestFailureLogClipsPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	long := "/" + strings.Repeat("p", 8000)
	f.do(t, http.MethodGet, long, "").wantStatus(t, http.StatusNotFound)
	logs := f.logs.String()
	if !strings.Contains(logs, "path=/ppp") || strings.Contains(logs, strings.Repeat("p", maxLoggedPathBytes+1)) {
		t.Fatalf("path not clipped to %d bytes: %d bytes of logs", maxLoggedPathBytes, len(logs))
	}
}
