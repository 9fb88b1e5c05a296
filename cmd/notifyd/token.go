package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/notifyd/notifyd/auth"
)

// runToken implements `notifyd token`: it prints an HS256 token signed with
// the configured secret, for trying notifyd out and for scripts.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notifyd token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "principal id of the bearer (required), e.g. users:alice")
	name := fs.String("name", "", "display name (name claim)")
	principals := fs.String("principals", "", "comma-separated extra principals, e.g. role:editor,group:ops")
	ttl := fs.Duration("ttl", time.Hour, "validity")
	sites := fs.String("sites", "", "comma-separated sites the token is valid for (claim named by -site-claim)")
	siteClaim := fs.String("site-claim", "", "name of the site claim (env NOTIFYD_JWT_SITE_CLAIM)")
	secret := fs.String("jwt-secret", "", "HMAC secret (env NOTIFYD_JWT_SECRET)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = getenv("NOTIFYD_JWT_SECRET")
	}
	if *siteClaim == "" {
		*siteClaim = getenv("NOTIFYD_JWT_SITE_CLAIM")
	}
	switch {
	case *sub == "":
		return usagef("token: -sub is required")
	case len(*secret) < auth.MinSecretLength:
		return usagef("token: set NOTIFYD_JWT_SECRET or -jwt-secret (at least %d bytes)", auth.MinSecretLength)
	case *sites != "" && *siteClaim == "":
		return usagef("token: -sites needs -site-claim or NOTIFYD_JWT_SITE_CLAIM")
	case *ttl <= 0:
		return usagef("token: -ttl must be positive")
	}
	tok, err := auth.MintForSites([]byte(*secret), *sub, *name, splitList(*principals), splitList(*sites), *siteClaim, time.Now(), *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
