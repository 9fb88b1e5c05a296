package api

import (
	"net/http"
	"testing"
	"time"
)

// withRESTLimit sets the per-principal REST rate and burst.
func withRESTLimit(rate float64, burst int) func(*Config) {
	return func(c *Config) { c.RESTRate, c.RESTBurst = rate, burst }
}

func TestRESTRateLimitPerPrincipal(t *testing.T) {
	t.Parallel()
	const burst = 4
	clock := &testClock{t: fixedNow()}
	f := newFixture(t, withRESTLimit(2, burst), func(c *Config) { c.Now = clock.now })
	jdoe := bearer(mint(t, "users:jdoe", "John"))
	// Context and notifications share the principal's bucket.
	for i := range burst {
		path := PathNotifications
		if i%2 == 0 {
			path = PathContext
		}
		f.do(t, http.MethodGet, path, "", jdoe...).wantStatus(t, http.StatusOK)
	}
	f.do(t, http.MethodGet, PathNotifications, "", jdoe...).wantRateLimited(t)
	f.do(t, http.MethodGet, PathContext, "", jdoe...).wantRateLimited(t)
	// The bucket is the principal's, not the token's: a fresh token of the
	// same principal is limited too.
	f.do(t, http.MethodGet, PathContext, "", bearer(mint(t, "users:jdoe", "John", "group:x"))...).wantRateLimited(t)
	// Another principal has its own bucket.
	f.do(t, http.MethodGet, PathNotifications, "", bearer(mint(t, "users:jane", ""))...).wantStatus(t, http.StatusOK)
	// Refused callers never reach the limiter and cannot spend an allowance.
	for range burst + 1 {
		f.do(t, http.MethodGet, PathNotifications, "").wantError(t, http.StatusUnauthorized, "authentication required")
	}
	clock.add(500 * time.Millisecond) // one token at 2/s
	f.do(t, http.MethodGet, PathNotifications, "", jdoe...).wantStatus(t, http.StatusOK)
	f.do(t, http.MethodGet, PathNotifications, "", jdoe...).wantRateLimited(t)
}

func TestRESTRateLimitDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // the clock is frozen: no refill
	tok := bearer(mint(t, "users:jdoe", ""))
	for i := range DefaultRESTBurst {
		if r := f.do(t, http.MethodGet, PathNotifications, "", tok...); r.status != http.StatusOK {
			t.Fatalf("request %d of the default burst: status %d %s", i, r.status, r.body)
		}
	}
	f.do(t, http.MethodGet, PathNotifications, "", tok...).wantRateLimited(t)
}

func TestRESTRateLimitDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withRESTLimit(-1, 0))
	tok := bearer(mint(t, "users:jdoe", ""))
	for i := range DefaultRESTBurst + 1 {
		if r := f.do(t, http.MethodGet, PathContext, "", tok...); r.status != http.StatusOK {
			t.Fatalf("request %d with the limit disabled: status %d %s", i, r.status, r.body)
		}
	}
}
