package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Minter signs tokens that a Verifier with the same Config accepts:
// notifyd's own tokens (space guests, issue 10) and `notifyd token`. With
// an HMAC secret it signs HS256 (or HS384/HS512); with a private key
// (NewKeyMinter) any algorithm of that key: RS*, PS* (RSA), ES* (ECDSA),
// EdDSA (Ed25519).
type Minter struct {
	// immutable after NewMinter / NewKeyMinter
	method     jwt.SigningMethod
	key        any    // []byte for HMAC, a crypto.Signer otherwise
	principals string // the principals claim
	siteClaim  string
	audience   string
	issuer     string
}

// ErrCannotSign: the configuration has no HMAC secret.
var ErrCannotSign = errors.New("auth: no HMAC secret to sign tokens with")

// NewMinter returns an HS256 Minter for tokens that cfg's Verifier
// accepts: signed with cfg.Secret, with its principals claim, its site
// claim (when set), its audience and issuer (when set).
func NewMinter(cfg Config) (*Minter, error) {
	if len(cfg.Secret) == 0 {
		return nil, ErrCannotSign
	}
	return newMinter(cfg, jwt.SigningMethodHS256, cfg.Secret), nil
}

func newMinter(cfg Config, method jwt.SigningMethod, key any) *Minter {
	pc := cfg.PrincipalsClaim
	if pc == "" {
		pc = DefaultPrincipalsClaim
	}
	return &Minter{method: method, key: key, principals: pc, siteClaim: cfg.SiteClaim, audience: cfg.Audience, issuer: cfg.Issuer}
}

// NewKeyMinter returns a Minter signing with alg: HS256/384/512 with
// cfg.Secret, or RS*, PS*, ES*, EdDSA with the private key in keyPEM (PKCS
// #8, PKCS #1 or SEC 1). The key must suit the algorithm.
func NewKeyMinter(cfg Config, alg string, keyPEM []byte) (*Minter, error) {
	method := jwt.GetSigningMethod(alg)
	if method == nil || alg == "none" {
		return nil, fmt.Errorf("auth: unknown algorithm %q", alg)
	}
	if _, hmac := method.(*jwt.SigningMethodHMAC); hmac {
		if len(cfg.Secret) == 0 {
			return nil, ErrCannotSign
		}
		return newMinter(cfg, method, cfg.Secret), nil
	}
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	ok := false
	switch method.(type) {
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		_, ok = key.(*rsa.PrivateKey)
	case *jwt.SigningMethodECDSA:
		_, ok = key.(*ecdsa.PrivateKey)
	case *jwt.SigningMethodEd25519:
		_, ok = key.(ed25519.PrivateKey)
	}
	if !ok {
		return nil, fmt.Errorf("auth: a %T cannot sign %s", key, alg)
	}
	return newMinter(cfg, method, key), nil
}

// ParsePrivateKey reads the first private key of a PEM document.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("auth: no private key found in PEM data")
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("auth: parse %s: %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("auth: %T is not a signing key", key)
		}
		return signer, nil
	}
}

// Mint signs a token for sub (display name name) with the extra
// principals, valid for site when the verifier binds tokens to sites,
// issued at now and expiring after ttl.
func (m *Minter) Mint(sub, name string, principals []string, site string, now time.Time, ttl time.Duration) (string, error) {
	var sites []string
	if site != "" {
		sites = []string{site}
	}
	return m.MintSites(sub, name, principals, sites, now, ttl)
}

// MintSites is Mint for a token valid for several sites.
func (m *Minter) MintSites(sub, name string, principals, sites []string, now time.Time, ttl time.Duration) (string, error) {
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if name != "" {
		claims["name"] = name
	}
	if len(principals) > 0 {
		claims[m.principals] = principals
	}
	if m.siteClaim != "" && len(sites) > 0 {
		claims[m.siteClaim] = sites
	}
	if m.audience != "" {
		claims["aud"] = m.audience
	}
	if m.issuer != "" {
		claims["iss"] = m.issuer
	}
	return jwt.NewWithClaims(m.method, claims).SignedString(m.key)
}
