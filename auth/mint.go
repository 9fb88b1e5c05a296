package auth

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Mint signs an HS256 token for sub with the given extra principals, issued
// at now and valid for ttl. It serves the `notifyd token` command and tests;
// production tokens come from the site's identity provider.
func Mint(secret []byte, sub, name string, principals []string, now time.Time, ttl time.Duration) (string, error) {
	return MintForSites(secret, sub, name, principals, nil, "", now, ttl)
}

// MintForSites is Mint with a site claim: when siteClaim and sites are set,
// the token lists the sites it is valid for (see Config.SiteClaim).
func MintForSites(secret []byte, sub, name string, principals, sites []string, siteClaim string, now time.Time, ttl time.Duration) (string, error) {
	claims := jwt.MapClaims{
		"sub": sub,
		"iat": now.Unix(),
		"exp": now.Add(ttl).Unix(),
	}
	if name != "" {
		claims["name"] = name
	}
	if len(principals) > 0 {
		claims[DefaultPrincipalsClaim] = principals
	}
	if siteClaim != "" && len(sites) > 0 {
		claims[siteClaim] = sites
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}
