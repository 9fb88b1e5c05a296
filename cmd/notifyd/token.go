package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/notifyd/notifyd/auth"
)

// runToken implements `notifyd token`: it prints a token that the gateway
// configured by the same environment accepts, for trying notifyd out and
// for scripts: HS256/384/512 with the HMAC secret, or RS*, PS*, ES*, EdDSA
// with a private key file. It carries the configured principals claim, site
// claim, audience and issuer.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notifyd token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "principal id of the bearer (required), e.g. users:alice")
	name := fs.String("name", "", "display name (name claim)")
	principals := fs.String("principals", "", "comma-separated extra principals, e.g. role:editor,group:ops")
	ttl := fs.Duration("ttl", time.Hour, "validity")
	sites := fs.String("sites", "", "comma-separated sites the token is valid for (claim named by -site-claim)")
	siteClaim := fs.String("site-claim", getenv("NOTIFYD_JWT_SITE_CLAIM"), "name of the site claim (env NOTIFYD_JWT_SITE_CLAIM)")
	secret := fs.String("jwt-secret", "", "HMAC secret (env NOTIFYD_JWT_SECRET), for HS256/384/512")
	alg := fs.String("alg", "", "signing algorithm: HS256 (default with a secret), HS384, HS512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA")
	keyFile := fs.String("key", "", "PEM private key file (PKCS #8, PKCS #1 or SEC 1) for RS*, PS*, ES* and EdDSA")
	claim := fs.String("principals-claim", getenv("NOTIFYD_PRINCIPALS_CLAIM"), "name of the principals claim (env NOTIFYD_PRINCIPALS_CLAIM)")
	aud := fs.String("aud", getenv("NOTIFYD_JWT_AUDIENCE"), "aud claim (env NOTIFYD_JWT_AUDIENCE)")
	iss := fs.String("iss", getenv("NOTIFYD_JWT_ISSUER"), "iss claim (env NOTIFYD_JWT_ISSUER)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = getenv("NOTIFYD_JWT_SECRET")
	}
	if *alg == "" {
		*alg = "HS256"
		if *keyFile != "" {
			return usagef("token: -key needs -alg (RS256, ES256, EdDSA, ...)")
		}
	}
	switch {
	case *sub == "":
		return usagef("token: -sub is required")
	case *keyFile == "" && len(*secret) < auth.MinSecretLength:
		return usagef("token: set NOTIFYD_JWT_SECRET or -jwt-secret (at least %d bytes), or give -alg and -key", auth.MinSecretLength)
	case *sites != "" && *siteClaim == "":
		return usagef("token: -sites needs -site-claim or NOTIFYD_JWT_SITE_CLAIM")
	case *ttl <= 0:
		return usagef("token: -ttl must be positive")
	}
	cfg := auth.Config{PrincipalsClaim: *claim, SiteClaim: *siteClaim, Audience: *aud, Issuer: *iss}
	var keyPEM []byte
	if *keyFile != "" {
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return usagef("token: read -key: %v", err)
		}
		keyPEM = data
	} else {
		cfg.Secret = []byte(*secret)
	}
	m, err := auth.NewKeyMinter(cfg, *alg, keyPEM)
	if err != nil {
		return usagef("token: %v", err)
	}
	tok, err := m.MintSites(*sub, *name, splitList(*principals), splitList(*sites), time.Now(), *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
