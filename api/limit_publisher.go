package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/notifyd/notifyd/auth"
)

// limitPublisher applies the per-publisher-token rate limit (429 with
// Retry-After beyond it). It must follow authorizePublisher: only tokens
// already known to be publisher tokens get a bucket, so the number of buckets
// is bounded by the number of tokens and an anonymous caller can neither fill
// the limiter nor drain a publisher's bucket.
func (s *server) limitPublisher(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.publishLimit.Allow(limitKey(auth.BearerToken(r))) {
			s.fail(w, r, errRateLimited)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitKey names token's bucket without keeping the token: the hex of the
// first half of its SHA-256.
func limitKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:sha256.Size/2])
}
