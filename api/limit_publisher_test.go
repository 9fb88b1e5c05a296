package api

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notifyd/notifyd/auth"
)

const otherPublisherToken = "publisher-token-abcdefghij"

// testClock is a settable clock for Config.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withPublishLimit sets the rate and burst; the clock stays frozen at
// fixedNow unless the test sets Config.Now.
func withPublishLimit(rate float64, burst int) func(*Config) {
	return func(c *Config) { c.PublishRate, c.PublishBurst = rate, burst }
}

func withTwoPublishers(tb testing.TB) func(*Config) {
	tb.Helper()
	pt, err := auth.NewPublisherTokens([]string{publisherToken, otherPublisherToken})
	if err != nil {
		tb.Fatal(err)
	}
	return func(c *Config) { c.PublisherTokens = pt }
}

// wantRateLimited checks a 429 and its Retry-After.
func (r response) wantRateLimited(tb testing.TB) {
	tb.Helper()
	r.wantError(tb, http.StatusTooManyRequests, "rate limit exceeded")
	if got := r.header.Get("Retry-After"); got != "1" {
		tb.Fatalf("Retry-After %q, want 1", got)
	}
}

func (f *fixture) publish(tb testing.TB, token string) response {
	tb.Helper()
	return f.do(tb, http.MethodPost, PathMessages, validBody, bearer(token)...)
}

func TestPublishRateLimitBurstThen429(t *testing.T) {
	t.Parallel()
	const burst = 5
	f := newFixture(t, withPublishLimit(1, burst), withTwoPublishers(t))
	for i := range burst {
		if r := f.publish(t, publisherToken); r.status != http.StatusAccepted {
			t.Fatalf("request %d of the burst: status %d %s", i, r.status, r.body)
		}
	}
	f.publish(t, publisherToken).wantRateLimited(t)
	if got := len(f.pub.published()); got != burst {
		t.Fatalf("published %d messages, want %d", got, burst)
	}

	// The other token has its own bucket.
	for i := range burst {
		if r := f.publish(t, otherPublisherToken); r.status != http.StatusAccepted {
			t.Fatalf("second token, request %d: status %d %s", i, r.status, r.body)
		}
	}
	f.publish(t, otherPublisherToken).wantRateLimited(t)

	// Authentication comes first: refused callers never reach the limiter,
	// however often they try.
	userJWT := mint(t, "users:jdoe", "")
	for range burst + 1 {
		f.do(t, http.MethodPost, PathMessages, validBody).wantError(t, http.StatusUnauthorized, "authentication required")
		f.do(t, http.MethodPost, PathMessages, validBody, bearer(userJWT)...).
			wantError(t, http.StatusForbidden, errNotPublisher.message)
	}
}

func TestPublishRateLimitRefills(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: fixedNow()}
	f := newFixture(t, withPublishLimit(2, 1), func(c *Config) { c.Now = clock.now })
	f.publish(t, publisherToken).wantStatus(t, http.StatusAccepted)
	f.publish(t, publisherToken).wantRateLimited(t)
	clock.add(500 * time.Millisecond) // one token at 2/s
	f.publish(t, publisherToken).wantStatus(t, http.StatusAccepted)
	f.publish(t, publisherToken).wantRateLimited(t)
}

func TestPublishRateLimitDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withRevoker(&fakeRevoker{at: revokedAt}))
	for i := range DefaultPublishBurst {
		if r := f.publish(t, publisherToken); r.status != http.StatusAccepted {
			t.Fatalf("publish %d of the default burst: status %d %s", i, r.status, r.body)
		}
	}
	f.publish(t, publisherToken).wantRateLimited(t)
	for i := range DefaultAdminBurst {
		if r := f.revoke(t, publisherToken); r.status != http.StatusOK {
			t.Fatalf("revocation %d of the default burst: status %d %s", i, r.status, r.body)
		}
	}
	f.revoke(t, publisherToken).wantRateLimited(t)
}

func TestPublishRateLimitDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withPublishLimit(-1, 1))
	for i := range 20 {
		if r := f.publish(t, publisherToken); r.status != http.StatusAccepted {
			t.Fatalf("request %d with the limit disabled: status %d %s", i, r.status, r.body)
		}
	}
}

func TestLimitKeyHidesToken(t *testing.T) {
	t.Parallel()
	k := limitKey(publisherToken)
	if strings.Contains(k, publisherToken) || len(k) != 32 {
		t.Fatalf("limitKey(%q) = %q", publisherToken, k)
	}
	if k == limitKey(otherPublisherToken) || k != limitKey(publisherToken) {
		t.Fatal("limitKey is not a deterministic per-token key")
	}
}

// withAdminLimit sets the admin rate and burst.
func withAdminLimit(rate float64, burst int) func(*Config) {
	return func(c *Config) { c.AdminRate, c.AdminBurst = rate, burst }
}

func (f *fixture) revoke(tb testing.TB, token string) response {
	tb.Helper()
	return f.do(tb, http.MethodPost, PathAdminDisconnect, `{"principal":"users:jdoe"}`, bearer(token)...)
}

// TestPublishFloodNeverLimitsRevocation: admin requests have their own
// bucket, so a token that has spent its publish allowance can still revoke,
// and spending the admin allowance leaves publishing alone.
func TestPublishFloodNeverLimitsRevocation(t *testing.T) {
	t.Parallel()
	rev := &fakeRevoker{at: revokedAt}
	f := newFixture(t, withPublishLimit(1, 3), withAdminLimit(1, 2), withRevoker(rev))
	for range 3 {
		f.publish(t, publisherToken).wantStatus(t, http.StatusAccepted)
	}
	f.publish(t, publisherToken).wantRateLimited(t)
	for range 2 {
		f.revoke(t, publisherToken).wantStatus(t, http.StatusOK)
	}
	f.revoke(t, publisherToken).wantRateLimited(t)
	if got := rev.revoked(); len(got) != 2 {
		t.Fatalf("revoker called %d times, want 2", len(got))
	}

	g := newFixture(t, withPublishLimit(1, 1), withAdminLimit(1, 1), withRevoker(&fakeRevoker{at: revokedAt}))
	g.revoke(t, publisherToken).wantStatus(t, http.StatusOK)
	g.revoke(t, publisherToken).wantRateLimited(t)
	g.publish(t, publisherToken).wantStatus(t, http.StatusAccepted)
}

func TestAdminRateLimitDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withPublishLimit(1, 1), withAdminLimit(-1, 0), withRevoker(&fakeRevoker{at: revokedAt}))
	for i := range DefaultAdminBurst + 1 {
		if r := f.revoke(t, publisherToken); r.status != http.StatusOK {
			t.Fatalf("request %d with the admin limit disabled: status %d %s", i, r.status, r.body)
		}
	}
}

// TestRetryAfterTellsTheWait: below one request per second, Retry-After says
// how long until the next request is allowed, not 1.
func TestRetryAfterTellsTheWait(t *testing.T) {
	t.Parallel()
	clock := &testClock{t: fixedNow()}
	f := newFixture(t, withPublishLimit(0.25, 1), withRESTLimit(0.1, 1), func(c *Config) { c.Now = clock.now })
	f.publish(t, publisherToken).wantStatus(t, http.StatusAccepted)
	tok := bearer(mint(t, "users:jdoe", ""))
	f.do(t, http.MethodGet, PathContext, "", tok...).wantStatus(t, http.StatusOK)
	clock.add(1500 * time.Millisecond)
	for _, c := range []struct {
		r    response
		want string
	}{
		{f.publish(t, publisherToken), "3"},                     // 2.5s left: rounded up
		{f.do(t, http.MethodGet, PathContext, "", tok...), "9"}, // 8.5s left
	} {
		c.r.wantError(t, http.StatusTooManyRequests, "rate limit exceeded")
		if got := c.r.header.Get("Retry-After"); got != c.want {
			t.Errorf("Retry-After %q, want %q", got, c.want)
		}
	}
}
