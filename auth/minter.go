package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Minter signs HS256 tokens that a Verifier with the same Config accepts:
// notifyd's own tokens (space guests, issue 10). It needs the HMAC secret;
// with only public keys notifyd cannot sign, and NewMinter refuses.
type Minter struct {
	// immutable after NewMinter
	secret     []byte
	principals string // the principals claim
	siteClaim  string
	audience   string
	issuer     string
}

// ErrCannotSign: the configuration has no HMAC secret.
var ErrCannotSign = errors.New("auth: no HMAC secret to sign tokens with")

// NewMinter returns a Minter for tokens that cfg's Verifier accepts:
// signed with cfg.Secret, with its principals claim, its site claim (when
// set), its audience and issuer (when set).
func NewMinter(cfg Config) (*Minter, error) {
	if len(cfg.Secret) == 0 {
		return nil, ErrCannotSign
	}
	pc := cfg.PrincipalsClaim
	if pc == "" {
		pc = DefaultPrincipalsClaim
	}
	return &Minter{secret: cfg.Secret, principals: pc, siteClaim: cfg.SiteClaim, audience: cfg.Audience, issuer: cfg.Issuer}, nil
}

// Mint signs a token for sub (display name name) with the extra
// principals, valid for site when the verifier binds tokens to sites,
// issued at now and expiring after ttl.
func (m *Minter) Mint(sub, name string, principals []string, site string, now time.Time, ttl time.Duration) (string, error) {
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if name != "" {
		claims["name"] = name
	}
	if len(principals) > 0 {
		claims[m.principals] = principals
	}
	if m.siteClaim != "" && site != "" {
		claims[m.siteClaim] = []string{site}
	}
	if m.audience != "" {
		claims["aud"] = m.audience
	}
	if m.issuer != "" {
		claims["iss"] = m.issuer
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(m.secret)
}
