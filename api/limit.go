package api

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/internal/limit"
)

// limit applies the rate limit l to the bucket key(r) names (429 beyond it,
// with Retry-After saying when the bucket has a token again). It must follow the middleware that authenticates
// the caller (authenticate or authorizePublisher): only verified principals
// and known publisher tokens get a bucket, so the number of buckets is
// bounded by the callers the issuer vouches for and an anonymous caller can
// neither fill the limiter nor drain someone else's bucket.
func (s *server) limit(l *limit.Keyed, key func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, wait := l.Take(key(r)); !ok {
				s.fail(w, r, rateLimited(wait))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// publisherKey names the bucket of the request's publisher token.
func publisherKey(r *http.Request) string { return limitKey(auth.BearerToken(r)) }

// principalKey names the bucket of the principal authenticate put in the
// request context: every token of one principal shares it.
func principalKey(r *http.Request) string {
	id, _ := IdentityFrom(r.Context())
	return limitKey(id.Principal)
}

// limitKey names a bucket without keeping s, in a fixed size whatever s's
// length: the hex of the first half of its SHA-256.
func limitKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:sha256.Size/2])
}

// rateLimited is errRateLimited with Retry-After set to wait in whole
// seconds, rounded up: at least 1.
func rateLimited(wait time.Duration) *apiError {
	e := errRateLimited.with(nil)
	e.retryAfter = strconv.FormatInt(max(1, int64(math.Ceil(wait.Seconds()))), 10)
	return e
}
