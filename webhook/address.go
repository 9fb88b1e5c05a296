package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// maxURL bounds the length of a webhook URL.
const maxURL = 2048

// lookupTimeout bounds the resolution of a URL's host at registration.
const lookupTimeout = 5 * time.Second

// nonPublic are the prefixes, beyond what netip.Addr classifies, that a
// webhook must not reach: "this network", carrier-grade NAT (RFC 6598),
// IETF protocol assignments, benchmarking, reserved and broadcast.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// embedding are IPv6 prefixes whose addresses carry an IPv4 address in
// their last 32 bits (NAT64, RFC 6052) that a router may reach for them.
var embedding = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Forbidden reports whether ip is an address webhooks must not reach
// without Config.AllowPrivate: loopback, private (RFC 1918, fc00::/7),
// link-local, unspecified, multicast, carrier-grade NAT, reserved, and the
// same inside IPv4-mapped and NAT64 IPv6 addresses.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return true
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return true
		}
	}
	for _, p := range embedding {
		if p.Contains(ip) {
			b := ip.As16()
			return Forbidden(netip.AddrFrom4([4]byte(b[12:])))
		}
	}
	if ip.Is6() {
		// Only global unicast, and not the ranges that tunnel or embed an
		// IPv4 address (6to4, Teredo), nor documentation: whatever sits
		// elsewhere (IPv4-compatible ::a.b.c.d, site-local, discard) is not
		// a bot's public endpoint.
		if !globalUnicast6.Contains(ip) {
			return true
		}
		for _, p := range tunnels6 {
			if p.Contains(ip) {
				return true
			}
		}
	}
	return false
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	tunnels6       = []netip.Prefix{
		netip.MustParsePrefix("2001::/32"),     // Teredo
		netip.MustParsePrefix("2001:db8::/32"), // documentation
		netip.MustParsePrefix("2002::/16"),     // 6to4
	}
)

// errRefusedAddress is the dial-time refusal of a forbidden address.
var errRefusedAddress = errors.New("webhook: dial refused: non-public address")

// dialControl is the net.Dialer Control of the dispatcher: it runs after
// the name was resolved, on the very address about to be connected, so a
// host that resolved to a public address at registration and to a private
// one now (DNS rebinding) is refused.
func dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", errRefusedAddress, address)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s", errRefusedAddress, ap.Addr())
	}
	return nil
}

// checkURL validates a webhook URL and, unless allowPrivate, refuses one
// whose host is, or resolves to, a forbidden address. It returns the URL
// as parsed and re-encoded.
func checkURL(ctx context.Context, raw string, allowPrivate bool,
	lookup func(context.Context, string) ([]netip.Addr, error)) (string, error) {
	if raw == "" || len(raw) > maxURL {
		return "", fmt.Errorf("%w: url is empty or longer than %d bytes", ErrInvalid, maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: url does not parse", ErrInvalid)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: url scheme %q is not http or https", ErrInvalid, u.Scheme)
	case u.User != nil:
		return "", fmt.Errorf("%w: url must not carry user info", ErrInvalid)
	case u.Hostname() == "":
		return "", fmt.Errorf("%w: url has no host", ErrInvalid)
	case u.Fragment != "":
		return "", fmt.Errorf("%w: url must not carry a fragment", ErrInvalid)
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || p == "0" {
			return "", fmt.Errorf("%w: url port %q", ErrInvalid, p)
		}
	}
	if allowPrivate {
		return u.String(), nil
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		defer cancel()
		if addrs, err = lookup(ctx, host); err != nil || len(addrs) == 0 {
			return "", fmt.Errorf("%w: url host %q does not resolve", ErrInvalid, host)
		}
	}
	for _, ip := range addrs {
		if Forbidden(ip) {
			return "", fmt.Errorf("%w: url host %q resolves to %s", ErrForbiddenAddress, host, ip)
		}
	}
	return u.String(), nil
}
