package auth

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestMinterMatchesVerifier: a minted token passes the verifier of the same
// configuration (audience, issuer, custom principals and site claims), is
// bound to its site, and expires with its ttl.
func TestMinterMatchesVerifier(t *testing.T) {
	cfg := Config{
		Secret: []byte("minter-test-secret-0123456789abcdef"), PrincipalsClaim: "roles", SiteClaim: "sites",
		Audience: "notifyd", Issuer: "https://idp.example",
	}
	m, err := NewMinter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := m.Mint("guest:abc", "John Doe", []string{"space:s1"}, "https://a.example", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Principal != "guest:abc" || id.Title != "John Doe" || !slices.Contains(id.Principals, "space:s1") {
		t.Fatalf("identity %+v", id)
	}
	if err := id.CheckSite("https://a.example"); err != nil {
		t.Fatalf("own site: %v", err)
	}
	if err := id.CheckSite("https://b.example"); err == nil {
		t.Fatal("a guest token works on another site")
	}
	if got := id.Expires.Unix(); got != now.Add(time.Hour).Unix() {
		t.Fatalf("expires %v, want %v", id.Expires, now.Add(time.Hour))
	}
	if _, err := NewMinter(Config{}); !errors.Is(err, ErrCannotSign) {
		t.Fatalf("NewMinter without secret: %v", err)
	}
}
