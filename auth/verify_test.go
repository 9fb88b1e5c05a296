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

	"github.com/golang-jwt/jwt/v5"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestVerifyHS256(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := Mint(secret, "users:alice", "Alice", []string{"role:editor", "users:alice"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := []string{"users:alice", Everyone, Authenticated, "role:editor"}
	if id.Principal != "users:alice" || id.Title != "Alice" || !slices.Equal(id.Principals, want) {
		t.Fatalf("identity = %+v, want principals %v", id, want)
	}
	if id.Expires.Unix() != now.Add(time.Hour).Unix() || id.IssuedAt.Unix() != now.Unix() {
		t.Fatalf("times = %v/%v", id.IssuedAt, id.Expires)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix()}
	expired, _ := Mint(secret, "u", "", nil, now.Add(-2*time.Hour), time.Hour)
	other := []byte("ffffffffffffffffffffffffffffffff")
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrNoToken},
		{"garbage", "not.a.jwt", ErrInvalidToken},
		{"expired", expired, ErrExpired},
		{"wrong secret", sign(jwt.SigningMethodHS256, other, good), ErrInvalidToken},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), ErrInvalidToken},
		{"no exp", sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "u"}), ErrInvalidToken},
		{"no sub", sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}), ErrInvalidToken},
		{"iat in future", sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "u", "exp": now.Add(2 * time.Hour).Unix(), "iat": now.Add(time.Hour).Unix()}), ErrInvalidToken},
		{"principals wrong type", sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix(), "principals": []any{1}}), ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), c.token)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyPublicKeys(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	v, err := NewVerifier(Config{PublicKeys: []crypto.PublicKey{&rsaKey.PublicKey, &ecKey.PublicKey, edPub}, PrincipalsClaim: "groups"})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"sub": "svc", "exp": time.Now().Add(time.Minute).Unix(), "groups": "group:ops"}
	for _, c := range []struct {
		method jwt.SigningMethod
		key    any
	}{
		{jwt.SigningMethodRS256, rsaKey}, {jwt.SigningMethodPS384, rsaKey},
		{jwt.SigningMethodES256, ecKey}, {jwt.SigningMethodEdDSA, edPriv},
	} {
		tok, err := jwt.NewWithClaims(c.method, claims).SignedString(c.key)
		if err != nil {
			t.Fatal(err)
		}
		id, err := v.Verify(context.Background(), tok)
		if err != nil || !slices.Contains(id.Principals, "group:ops") {
			t.Fatalf("%s: Verify = %+v, %v", c.method.Alg(), id, err)
		}
	}
	// An HMAC token signed with the public key's bytes (algorithm confusion) fails.
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pubDER)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("HS256 with public key bytes: %v, want ErrInvalidToken", err)
	}
	// A token from another key fails.
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, _ = jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(otherKey)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("foreign key: %v, want ErrInvalidToken", err)
	}
}

func TestNewVerifierConfigErrors(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, cfg := range map[string]Config{
		"none":         {},
		"short secret": {Secret: []byte("short")},
		"both":         {Secret: secret, PublicKeys: []crypto.PublicKey{&rsaKey.PublicKey}},
	} {
		if _, err := NewVerifier(cfg); err == nil {
			t.Errorf("%s: NewVerifier succeeded", name)
		}
	}
}

func TestParsePublicKeys(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der1, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der1})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})...)
	keys, err := ParsePublicKeys(data)
	if err != nil || len(keys) != 2 {
		t.Fatalf("ParsePublicKeys = %d keys, %v", len(keys), err)
	}
	if _, err := ParsePublicKeys([]byte("nothing here")); err == nil {
		t.Fatal("ParsePublicKeys accepted no PEM")
	}
}

func TestSiteClaim(t *testing.T) {
	t.Parallel()
	v, err := NewVerifier(Config{Secret: secret, SiteClaim: "sites"})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(claims jwt.MapClaims) string {
		claims["sub"], claims["exp"] = "users:alice", time.Now().Add(time.Hour).Unix()
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	id, err := v.Verify(context.Background(), sign(jwt.MapClaims{"sites": []any{"https://a.example", "https://B.example/"}}))
	if err != nil {
		t.Fatal(err)
	}
	for site, ok := range map[string]bool{"https://a.example": true, "https://b.example": true, "https://c.example": false} {
		err := id.CheckSite(site)
		if ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidToken)) {
			t.Errorf("CheckSite(%q) = %v, want ok=%v", site, err, ok)
		}
	}
	if _, err := v.Verify(context.Background(), sign(jwt.MapClaims{})); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token without the site claim: %v, want ErrInvalidToken", err)
	}
	free, _ := NewVerifier(Config{Secret: secret})
	id, err = free.Verify(context.Background(), sign(jwt.MapClaims{}))
	if err != nil || id.CheckSite("https://any.example") != nil {
		t.Fatalf("without SiteClaim every site is allowed: %v", err)
	}
}
