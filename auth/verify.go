package auth

import (
	"context"
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
	"github.com/notifyd/notifyd/message"
)

// Sentinel errors returned by Verify; test them with errors.Is.
var (
	// ErrNoToken: the request carried no token.
	ErrNoToken = errors.New("auth: no token")
	// ErrInvalidToken: the token is malformed, badly signed, or lacks a claim.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrExpired: the token's exp is in the past.
	ErrExpired = errors.New("auth: token expired")
)

// MinSecretLength is the shortest HMAC secret accepted (RFC 7518 §3.2 asks
// for a key at least as long as the hash output; 32 bytes fits HS256).
const MinSecretLength = 32

// DefaultPrincipalsClaim names the claim that lists extra principals.
const DefaultPrincipalsClaim = "principals"

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat when
// Config.Leeway is zero: small, so that a token is not used long after it
// expired, yet enough for servers whose clocks are synchronised (NTP).
const DefaultLeeway = 5 * time.Second

// MaxPrincipalLength is the longest sub, and the longest entry of the
// principals claim, that Verify accepts: message.MaxPrincipalLength, the
// limit of every principal in notifyd (a longer principal could be neither
// targeted nor revoked).
const MaxPrincipalLength = message.MaxPrincipalLength

// Config configures a Verifier. Exactly one of Secret and PublicKeys is set.
type Config struct {
	// Secret is the HMAC key; when set, HS256, HS384 and HS512 are accepted.
	Secret []byte
	// PublicKeys verify asymmetric tokens: *rsa.PublicKey (RS*, PS*),
	// *ecdsa.PublicKey (ES*), ed25519.PublicKey (EdDSA). A token's kid is not
	// required: each key of the token's algorithm family is tried.
	PublicKeys []crypto.PublicKey
	// PrincipalsClaim names the claim holding extra principals (a string or a
	// list of strings). Zero value: DefaultPrincipalsClaim.
	PrincipalsClaim string
	// SiteClaim, when set, names the claim (a string or a list of strings)
	// listing the sites (origins) a token is valid for: Identity.SiteBound is
	// then true and callers check the requested site with
	// Identity.CheckSite. A token without the claim is refused. Zero value:
	// tokens are valid for every site.
	SiteClaim string
	// Issuer, when set, is required and must equal the iss claim. Zero
	// value: iss is not checked.
	Issuer string
	// Audience, when set, is required and must be the aud claim or one of
	// its entries. Zero value: aud is not checked.
	Audience string
	// Leeway tolerates clock skew: a token is accepted until exp+Leeway and
	// from iat-Leeway and nbf-Leeway. Identity.ValidUntil and
	// Identity.RevokedBy apply the same leeway, so that every consumer
	// (REST, websocket, revocation) agrees. Zero value: DefaultLeeway;
	// negative: none.
	Leeway time.Duration
	// Now returns the current time. Zero value: time.Now.
	Now func() time.Time
}

// Verifier checks tokens against a Config.
type Verifier struct {
	// immutable after NewVerifier
	cfg     Config
	methods []string
	parser  *jwt.Parser
}

// NewVerifier validates cfg and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.PrincipalsClaim == "" {
		cfg.PrincipalsClaim = DefaultPrincipalsClaim
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	switch {
	case len(cfg.Secret) > 0 && len(cfg.PublicKeys) > 0:
		return nil, errors.New("auth: set a secret or public keys, not both")
	case len(cfg.Secret) > 0:
		if len(cfg.Secret) < MinSecretLength {
			return nil, fmt.Errorf("auth: secret is %d bytes, want at least %d", len(cfg.Secret), MinSecretLength)
		}
	case len(cfg.PublicKeys) > 0:
	default:
		return nil, errors.New("auth: no secret and no public key configured")
	}
	v := &Verifier{cfg: cfg, methods: methodsFor(cfg)}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Leeway returns the clock skew the Verifier tolerates (Config.Leeway after
// defaults).
func (v *Verifier) Leeway() time.Duration {
	return v.cfg.Leeway
}

func methodsFor(cfg Config) []string {
	if len(cfg.Secret) > 0 {
		return []string{"HS256", "HS384", "HS512"}
	}
	var m []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				m = append(m, n)
			}
		}
	}
	for _, k := range cfg.PublicKeys {
		switch k.(type) {
		case *rsa.PublicKey:
			add("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
		case *ecdsa.PublicKey:
			add("ES256", "ES384", "ES512")
		case ed25519.PublicKey:
			add("EdDSA")
		}
	}
	return m
}

// Verify checks token and returns the identity it carries. ctx is accepted
// for symmetry with remote verifiers; local verification does not block.
func (v *Verifier) Verify(_ context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrNoToken
	}
	claims := jwt.MapClaims{}
	var err error
	if len(v.cfg.Secret) > 0 {
		_, err = v.parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return v.cfg.Secret, nil })
	} else {
		err = v.parseWithKeys(token, claims)
	}
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Identity{}, fmt.Errorf("%w: %v", ErrExpired, err)
		}
		return Identity{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return v.identity(claims)
}

func (v *Verifier) parseWithKeys(token string, claims jwt.MapClaims) error {
	var firstErr error
	for _, key := range v.cfg.PublicKeys {
		clear(claims)
		_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
			if !keyMatches(t.Method, key) {
				return nil, errors.New("key type does not match algorithm")
			}
			return key, nil
		})
		if err == nil {
			return nil
		}
		if firstErr == nil || !errors.Is(err, jwt.ErrTokenSignatureInvalid) && !errors.Is(err, jwt.ErrTokenUnverifiable) {
			firstErr = err
		}
	}
	return firstErr
}

func keyMatches(m jwt.SigningMethod, key crypto.PublicKey) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		_, rs := m.(*jwt.SigningMethodRSA)
		_, ps := m.(*jwt.SigningMethodRSAPSS)
		return rs || ps
	case *ecdsa.PublicKey:
		_, ok := m.(*jwt.SigningMethodECDSA)
		return ok
	case ed25519.PublicKey:
		_, ok := m.(*jwt.SigningMethodEd25519)
		return ok
	}
	return false
}

func (v *Verifier) identity(claims jwt.MapClaims) (Identity, error) {
	sub, err := claims.GetSubject()
	if err != nil || sub == "" {
		return Identity{}, fmt.Errorf("%w: missing sub", ErrInvalidToken)
	}
	if len(sub) > MaxPrincipalLength {
		return Identity{}, fmt.Errorf("%w: sub is %d bytes, longer than %d", ErrInvalidToken, len(sub), MaxPrincipalLength)
	}
	id := Identity{Principal: sub, Title: sub, Leeway: v.cfg.Leeway}
	if name, ok := claims["name"].(string); ok && name != "" {
		id.Title = name
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.Expires = exp.Time
	}
	if iat, err := claims.GetIssuedAt(); err == nil && iat != nil {
		id.IssuedAt = iat.Time
	}
	extra, err := stringList(claims[v.cfg.PrincipalsClaim])
	if err != nil {
		return Identity{}, fmt.Errorf("%w: claim %q: %v", ErrInvalidToken, v.cfg.PrincipalsClaim, err)
	}
	for _, p := range extra {
		if len(p) > MaxPrincipalLength {
			return Identity{}, fmt.Errorf("%w: claim %q has a principal of %d bytes, longer than %d",
				ErrInvalidToken, v.cfg.PrincipalsClaim, len(p), MaxPrincipalLength)
		}
	}
	id.Principals = dedupe(append([]string{sub, Everyone, Authenticated}, extra...))
	if v.cfg.SiteClaim != "" {
		sites, err := stringList(claims[v.cfg.SiteClaim])
		if err != nil || len(sites) == 0 {
			return Identity{}, fmt.Errorf("%w: claim %q must list the token's sites", ErrInvalidToken, v.cfg.SiteClaim)
		}
		id.SiteBound, id.Sites = true, sites
	}
	return id, nil
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("must be a string or a list of strings")
			}
			if s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, errors.New("must be a string or a list of strings")
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ParsePublicKeys reads every PEM block of data ("PUBLIC KEY" in PKIX form,
// or "RSA PUBLIC KEY" in PKCS#1 form, or a "CERTIFICATE").
func ParsePublicKeys(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("auth: parse %s: %w", block.Type, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("auth: no public key found in PEM data")
	}
	return keys, nil
}
