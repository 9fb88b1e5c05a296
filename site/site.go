// Package site decides which browser origins may connect and which site (the
// PyAMS host, scheme://host[:port]) a request belongs to.
//
// A Policy is immutable after NewPolicy and safe for concurrent use.
package site

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MaxLength is the longest site an origin can name: https://, a 253-byte
// host name and :65535. Longer sites are refused before they reach a Redis
// key, an index or a log line.
const MaxLength = len("https://") + 253 + len(":65535")

// ErrOriginNotAllowed is returned by Check for an origin outside the policy.
var ErrOriginNotAllowed = errors.New("site: origin not allowed")

// Policy holds the allowed origins and the default site.
type Policy struct {
	// immutable after NewPolicy
	any     bool
	allowed map[string]bool
	def     string
}

// NewPolicy builds a policy. allowed lists origins such as
// "https://app.example.com"; "*" allows any origin; an empty list allows only
// same-origin browsers and clients that send no Origin. defaultHost is the
// site of requests that name none; it may be empty.
func NewPolicy(allowed []string, defaultHost string) (*Policy, error) {
	p := &Policy{allowed: map[string]bool{}, def: defaultHost}
	for _, o := range allowed {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case o == "*":
			p.any = true
		default:
			n, err := Normalize(o)
			if err != nil {
				return nil, fmt.Errorf("site: allowed origin %q: %w", o, err)
			}
			p.allowed[n] = true
		}
	}
	if defaultHost != "" {
		n, err := Normalize(defaultHost)
		if err != nil {
			return nil, fmt.Errorf("site: default host %q: %w", defaultHost, err)
		}
		p.def = n
	}
	return p, nil
}

// Normalize checks that s is an origin (http or https, a host, an optional
// port, no path) and returns it lower-cased without a trailing slash.
func Normalize(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("want scheme://host[:port]")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Default is the configured default site, possibly empty.
func (p *Policy) Default() string { return p.def }

// Check accepts requests without Origin, same-origin requests, and origins
// the policy allows; it returns ErrOriginNotAllowed otherwise.
func (p *Policy) Check(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" || p.any {
		return nil
	}
	n, err := Normalize(origin)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrOriginNotAllowed, origin)
	}
	if p.allowed[n] {
		return nil
	}
	if u, _ := url.Parse(n); u != nil && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrOriginNotAllowed, origin)
}

// Of returns the site of r: its Origin header, else its host query
// parameter, else the default site. Only a value that is a valid origin is
// used; the result is normalized, or "" when nothing applies.
func (p *Policy) Of(r *http.Request) string {
	for _, s := range []string{r.Header.Get("Origin"), r.URL.Query().Get("host")} {
		if s == "" {
			continue
		}
		if n, err := Normalize(s); err == nil {
			return n
		}
	}
	return p.def
}
