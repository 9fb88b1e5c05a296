package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
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

// TestKeyMinterEveryAlgorithm: a token signed with each algorithm the
// verifier accepts, by a key of that kind, verifies with its public key;
// a key of the wrong kind is refused.
func TestKeyMinterEveryAlgorithm(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pemOf := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{
		{"RS256", rsaKey}, {"RS384", rsaKey}, {"RS512", rsaKey}, {"PS256", rsaKey}, {"PS512", rsaKey},
		{"ES256", ec256}, {"ES384", ec384}, {"ES512", ec521}, {"EdDSA", edKey},
	} {
		m, err := NewKeyMinter(Config{Issuer: "idp"}, tc.alg, pemOf(tc.key))
		if err != nil {
			t.Fatalf("%s: %v", tc.alg, err)
		}
		tok, err := m.Mint("users:a", "", []string{"role:x"}, "", time.Now(), time.Minute)
		if err != nil {
			t.Fatalf("%s: mint: %v", tc.alg, err)
		}
		v, err := NewVerifier(Config{PublicKeys: []crypto.PublicKey{tc.key.Public()}, Issuer: "idp"})
		if err != nil {
			t.Fatal(err)
		}
		if id, err := v.Verify(context.Background(), tok); err != nil || id.Principal != "users:a" {
			t.Fatalf("%s: verify: %v %+v", tc.alg, err, id)
		}
	}
	if _, err := NewKeyMinter(Config{}, "ES256", pemOf(rsaKey)); err == nil {
		t.Fatal("an RSA key signs ES256")
	}
	if _, err := NewKeyMinter(Config{}, "none", nil); err == nil {
		t.Fatal("alg none accepted")
	}
	if _, err := NewKeyMinter(Config{}, "HS256", nil); !errors.Is(err, ErrCannotSign) {
		t.Fatalf("HS256 without a secret: %v", err)
	}
}
