package api

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/pubsub"
)

var _ Publisher = (*pubsub.Publisher)(nil)

// redisGateways returns two API handlers (two gateways) whose real
// Publishers share one Redis, and that Redis's history. Each publish gets
// a new time, so a retry that was stored again would get another
// timestamp.
func redisGateways(t *testing.T) (gw [2]*fixture, hist *history.Store) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	var tick atomic.Int64
	now := func() time.Time { return fixedNow().Add(time.Duration(tick.Add(1)) * time.Second) }
	tokens, err := auth.NewPublisherTokens([]string{publisherToken, otherPublisherToken})
	if err != nil {
		t.Fatal(err)
	}
	for i := range gw {
		h, err := history.New(rdb, history.Config{})
		if err != nil {
			t.Fatal(err)
		}
		hist = h
		pub, err := pubsub.NewPublisher(rdb, h, pubsub.PublisherConfig{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		gw[i] = newFixture(t, func(c *Config) { c.Publisher, c.PublisherTokens = pub, tokens })
	}
	return gw, hist
}

// published decodes a 202 answer.
func published(t *testing.T, r response) publishedResponse {
	t.Helper()
	r.wantStatus(t, http.StatusAccepted)
	var got publishedResponse
	decodeJSON(t, r.body, &got)
	return got
}

func storedIDs(t *testing.T, h *history.Store) []string {
	t.Helper()
	list, err := h.List(context.Background(), siteA)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range list {
		out = append(out, m.ID)
	}
	return out
}

func TestPublishIdempotencyKey(t *testing.T) {
	t.Parallel()
	gw, hist := redisGateways(t)
	key := []string{HeaderIdempotencyKey, "order-42"}
	first := gw[0].do(t, http.MethodPost, PathMessages, validBody, append(bearer(publisherToken), key...)...)
	if first.header.Get(HeaderIdempotentReplayed) != "" {
		t.Fatalf("first answer has %s", HeaderIdempotentReplayed)
	}
	answer := published(t, first)
	// The retry, on both gateways: the first answer, marked as a replay.
	for i, g := range gw {
		r := g.do(t, http.MethodPost, PathMessages, validBody, append(bearer(publisherToken), key...)...)
		if got := published(t, r); got != answer {
			t.Errorf("gateway %d retry answered %+v, want the first answer %+v", i, got, answer)
		}
		if got := r.header.Get(HeaderIdempotentReplayed); got != "true" {
			t.Errorf("gateway %d retry: %s = %q, want true", i, HeaderIdempotentReplayed, got)
		}
	}
	if got := storedIDs(t, hist); len(got) != 1 || got[0] != answer.ID {
		t.Fatalf("stored %v, want only %s", got, answer.ID)
	}
	// Another publisher's identical key is its own.
	other := published(t, gw[1].do(t, http.MethodPost, PathMessages, validBody, append(bearer(otherPublisherToken), key...)...))
	if other.ID == answer.ID {
		t.Errorf("another publisher's key got the first publisher's answer %+v", other)
	}
	// The same key for another message: 422, nothing stored.
	changed := strings.Replace(validBody, "jdoe logged in...", "someone else logged in", 1)
	gw[1].do(t, http.MethodPost, PathMessages, changed, append(bearer(publisherToken), key...)...).
		wantError(t, http.StatusUnprocessableEntity, errIdempotencyConflict.message)
	// Without a key the same body is a new message.
	again := published(t, gw[0].do(t, http.MethodPost, PathMessages, validBody, bearer(publisherToken)...))
	if again.ID == answer.ID {
		t.Errorf("a publish without key got the keyed answer %+v", again)
	}
	if got := storedIDs(t, hist); len(got) != 3 {
		t.Fatalf("stored %v, want 3 messages", got)
	}
}

func TestPublishSameIDReplays(t *testing.T) {
	t.Parallel()
	gw, hist := redisGateways(t)
	body := strings.Replace(validBody, `"modal": false`, `"modal": false, "id": "order-42"`, 1)
	answer := published(t, gw[0].do(t, http.MethodPost, PathMessages, body, bearer(publisherToken)...))
	if answer.ID != "order-42" {
		t.Fatalf("answer %+v, want the caller's id", answer)
	}
	r := gw[1].do(t, http.MethodPost, PathMessages, body, bearer(publisherToken)...)
	if got := published(t, r); got != answer || r.header.Get(HeaderIdempotentReplayed) != "true" {
		t.Fatalf("retry answered %+v (%s %q), want %+v replayed", got, HeaderIdempotentReplayed,
			r.header.Get(HeaderIdempotentReplayed), answer)
	}
	if got := storedIDs(t, hist); len(got) != 1 {
		t.Fatalf("stored %v, want one message", got)
	}
}

func TestPublishBadIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name    string
		headers []string
	}{
		{"empty", []string{HeaderIdempotencyKey, ""}},
		{"too long", []string{HeaderIdempotencyKey, strings.Repeat("k", MaxIdempotencyKeyBytes+1)}},
		{"not ASCII", []string{HeaderIdempotencyKey, "clé"}},
		{"control character", []string{HeaderIdempotencyKey, "a\tb"}},
		{"twice", []string{HeaderIdempotencyKey, "a", HeaderIdempotencyKey, "b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f.do(t, http.MethodPost, PathMessages, validBody, append(bearer(publisherToken), c.headers...)...).
				wantError(t, http.StatusBadRequest, errBadIdempotencyKey.message)
		})
	}
	published(t, f.do(t, http.MethodPost, PathMessages, validBody,
		append(bearer(publisherToken), HeaderIdempotencyKey, `"`+strings.Repeat("k", MaxIdempotencyKeyBytes-2)+`"`)...))
	if got := f.pub.published(); len(got) != 1 {
		t.Fatalf("published %d messages, want only the one with a valid key", len(got))
	}
}

// The key reaches the Publisher scoped by the publisher token.
func TestPublishIdempotencyKeyScope(t *testing.T) {
	t.Parallel()
	if got, want := scopedKey(t, publisherToken, "k"), limitKey(publisherToken)+":k"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	if scopedKey(t, publisherToken, "k") == scopedKey(t, otherPublisherToken, "k") {
		t.Error("two publisher tokens share a key")
	}
}

// scopedKey returns the key the Publisher gets for a request of token with
// the header key.
func scopedKey(t *testing.T, token, key string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, PathMessages, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(HeaderIdempotencyKey, key)
	k, err := idempotencyKey(req)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
