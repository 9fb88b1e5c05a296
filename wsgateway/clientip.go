package wsgateway

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxAddrLength bounds a client address used as a rate-limit key, so that a
// forged header cannot make keys of arbitrary size.
const maxAddrLength = 64

// clientIP returns the address r's connection rate is charged to: the
// rightmost non-empty comma-separated entry of the header named header (the
// one a trusted proxy appended; several header lines count as one list, in
// order), or, when header is empty or the request carries no such entry, the
// TCP peer of r.RemoteAddr without its port. IP addresses are canonicalized
// (IPv4-mapped IPv6 becomes IPv4, a port is dropped, IPv6 becomes its /64:
// see limitKey); other entries are kept
// as they are, at most maxAddrLength bytes.
func clientIP(r *http.Request, header string) string {
	if header != "" {
		if a := rightmostEntry(r.Header.Values(header)); a != "" {
			return canonicalAddr(a)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return canonicalAddr(host)
}

// rightmostEntry returns the last non-empty, space-trimmed entry of the
// comma-separated lists values, or "".
func rightmostEntry(values []string) string {
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			j := strings.LastIndexByte(v, ',')
			if e := strings.TrimSpace(v[j+1:]); e != "" {
				return e
			}
			if j < 0 {
				break
			}
			v = v[:j]
		}
	}
	return ""
}

// limitKey is the rate-limit key of an address: IPv4 addresses stand for
// themselves, IPv6 addresses for their /64, the smallest block one client
// (a home or a host) usually holds, so that rotating through a /64 does not
// multiply a client's budget nor fill the limiter's key table.
func limitKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// canonicalAddr returns the canonical form of an IP address, with or without
// a port, and any other string as it is; both at most maxAddrLength bytes.
func canonicalAddr(s string) string {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		s = limitKey(a)
	} else if ap, err := netip.ParseAddrPort(s); err == nil {
		s = limitKey(ap.Addr())
	}
	if len(s) > maxAddrLength {
		s = s[:maxAddrLength]
	}
	return s
}
