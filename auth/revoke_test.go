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
	v, err := NewVerifier(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	revokedAt := time.Unix(1_800_000_000, 500_000_000)
	mint := func(sub string, iat time.Time) string {
		tok, err := Mint(secret, sub, "", nil, iat, 100*365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
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
		{"issued after", mint("users:eve", revokedAt.Add(time.Second)), nil},
		{"bad token still bad", "x.y.z", ErrInvalidToken},
	}
	// Tokens in the future would fail iat validation; pin the verifier's clock.
	v2, _ := NewVerifier(Config{Secret: secret, Now: func() time.Time { return revokedAt.Add(time.Hour) }})
	r.Verifier = v2
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.Verify(context.Background(), c.tok)
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("Verify = %v, want %v", err, c.err)
			}
		})
	}
	down := Revocable{Verifier: v2, Store: fakeStore{err: errors.New("connection refused")}}
	if _, err := down.Verify(context.Background(), mint("users:bob", revokedAt)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable", err)
	}
}
