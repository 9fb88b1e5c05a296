package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// MaxLength bounds a key, so that a forged header cannot make keys (and log
// values) of arbitrary size.
const MaxLength = 64

// FromRequest returns the key of r's client: the rightmost non-empty
// comma-separated entry of the header named header (the one a trusted proxy
// appended; several header lines count as one list, in order), or, when
// header is empty or the request carries no such entry, the TCP peer of
// r.RemoteAddr without its port. IP addresses are canonicalized
// (IPv4-mapped IPv6 becomes IPv4, a port is dropped, IPv6 becomes its /64);
// other entries are kept as they are, at most MaxLength bytes.
func FromRequest(r *http.Request, header string) string {
	if header != "" {
		if a := rightmostEntry(r.Header.Values(header)); a != "" {
			return canonical(a)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return canonical(host)
}

// AddrKey returns the key of a connection's peer address, as FromRequest
// keys the TCP peer: IPv4 as is, IPv6 by /64, without the port. It suits
// httpguard.NewListener.
func AddrKey(a net.Addr) string {
	switch a := a.(type) {
	case nil:
		return ""
	case *net.TCPAddr:
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return key(ip)
		}
	}
	return canonical(a.String())
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

// key is the key of an IP address: IPv4 addresses stand for themselves,
// IPv6 addresses for their /64.
func key(a netip.Addr) string {
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

// canonical returns the key of an IP address, with or without a port, and
// any other string as it is; both at most MaxLength bytes.
func canonical(s string) string {
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		s = key(a)
	} else if ap, err := netip.ParseAddrPort(s); err == nil {
		s = key(ap.Addr())
	}
	if len(s) > MaxLength {
		s = s[:MaxLength]
	}
	return s
}
