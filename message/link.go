package message

import (
	"net/url"
	"strconv"
	"strings"
)

// validateLink checks a URL that browsers will load or follow (image,
// source.avatar, url): an absolute http or https URL with a host, a valid
// port (1-65535, no leading zero) and no user info; with relative, also a
// relative reference (path-absolute "/page12", path-relative "page12",
// "?query", "#fragment"), but never a scheme-relative "//host" (it names
// another host). Every other scheme (javascript:, data:, file:, ...) is
// refused. So are spaces, control characters and backslashes anywhere:
// browsers strip or rewrite them ("java\tscript:" runs as "javascript:",
// "/\host" is read as "//host"), so notifyd refuses rather than guesses.
func validateLink(field, s string, relative bool) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return fieldErr(field, "must not contain spaces, control characters or backslashes")
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fieldErr(field, "must be a valid URL")
	case u.Scheme == "" && relative:
		if strings.HasPrefix(s, "//") {
			return fieldErr(field, "must not be scheme-relative (//host)")
		}
		return nil
	case u.Scheme != "http" && u.Scheme != "https":
		if relative {
			return fieldErr(field, "must be an http or https URL, or a relative reference")
		}
		return fieldErr(field, "must be an absolute http or https URL")
	case u.Host == "" || u.Opaque != "":
		return fieldErr(field, "must name a host")
	case u.User != nil:
		return fieldErr(field, "must not contain user information")
	}
	return checkPort(field, u.Host)
}

// checkPort refuses an explicit port that is empty, has a leading zero or
// is outside 1-65535. url.Parse only checks that a port is digits.
func checkPort(field, host string) error {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 { // no port (an IPv6 literal's colons are inside [])
		return nil
	}
	port := host[i+1:]
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
		return fieldErr(field, "has an invalid port: want 1-65535")
	}
	return nil
}
