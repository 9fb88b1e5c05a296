package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeStore struct {
	at  map[string]time.Time
	err error
}

func (f fakeStore) RevokedAt(_ context.Context, p string) (time.Time, bool, error) {
	at, ok := f.at[p]
	return at, ok, f.err
}

func TestRevocable(t *testing.T) {
	t.Parallel()
	revokedAt := time.Unix(1_800_000_000, 500_000_000)
	mint := func(sub string, iat time.Time) string {
		tok, err := Mint(secret, sub, "", nil, iat, 100*365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// Tokens in the future would fail iat validation; pin the verifier's clock.
	v, err := NewVerifier(Config{Secret: secret, Now: func() time.Time { return revokedAt.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	store := fakeStore{at: map[string]time.Time{"users:eve": revokedAt}}
	r := Revocable{Verifier: v, Store: store}
	cases := []struct {
		name string
		tok  string
		err  error
	}{
		{"other principal", mint("users:bob", revokedAt.Add(-time.Hour)), nil},
		{"issued before", mint("users:eve", revokedAt.Add(-time.Minute)), ErrRevoked},
		{"issued same second", mint("users:eve", revokedAt), ErrRevoked},
		// A token whose iat was ahead of the clock, within the leeway, was
		// accepted at the revocation: it must not survive it.
		{"issued in the future within the leeway", mint("users:eve", revokedAt.Add(DefaultLeeway)), ErrRevoked},
		{"issued after the leeway", mint("users:eve", revokedAt.Add(DefaultLeeway+time.Second)), nil},
		{"bad token still bad", "x.y.z", ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.Verify(context.Background(), c.tok)
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("Verify = %v, want %v", err, c.err)
			}
		})
	}
	down := Revocable{Verifier: v, Store: fakeStore{err: errors.New("connection refused")}}
	if _, err := down.Verify(context.Background(), mint("users:bob", revokedAt)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable", err)
	}
}

// TestRevokedBy: every token Verify accepted at the revocation instant is
// refused afterwards, whatever the leeway, and the first token issued beyond
// it is not.
func TestRevokedBy(t *testing.T) {
	t.Parallel()
	at := time.Unix(1_800_000_000, 250_000_000)
	for _, leeway := range []time.Duration{0, time.Second, DefaultLeeway, time.Minute} {
		id := Identity{Leeway: leeway}
		if !id.RevokedBy(at) {
			t.Errorf("leeway %v: a token without iat survives a revocation", leeway)
		}
		// The latest iat Verify accepts at the revocation is at+leeway.
		for _, iat := range []time.Time{at.Add(-time.Hour), at.Truncate(time.Second), at, at.Add(leeway)} {
			if id.IssuedAt = iat; !id.RevokedBy(at) {
				t.Errorf("leeway %v: iat %v after the revocation survives it", leeway, iat.Sub(at))
			}
		}
		if id.IssuedAt = at.Add(leeway + time.Second).Truncate(time.Second); id.RevokedBy(at) {
			t.Errorf("leeway %v: a token issued after revocation+leeway is refused", leeway)
		}
	}
}
