package clientip

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFromRequest(t *testing.T) {
	t.Parallel()
	const xff = "X-Forwarded-For"
	tests := []struct {
		name   string
		header string   // Config.ClientIPHeader
		values []string // values of the X-Forwarded-For lines
		remote string
		want   string
	}{
		{"peer", "", nil, "192.0.2.1:5555", "192.0.2.1"},
		{"peer ipv6", "", nil, "[2001:db8::1]:5555", "2001:db8::/64"},
		{"ipv6 same /64", "", nil, "[2001:db8::ffff:1]:5555", "2001:db8::/64"},
		{"ipv6 other /64", "", nil, "[2001:db8:0:1::1]:5555", "2001:db8:0:1::/64"},
		{"peer without port", "", nil, "192.0.2.1", "192.0.2.1"},
		{"header ignored when not configured", "", []string{"203.0.113.9"}, "192.0.2.1:5555", "192.0.2.1"},
		{"single entry", xff, []string{"203.0.113.9"}, "192.0.2.1:5555", "203.0.113.9"},
		{"rightmost entry", xff, []string{"10.0.0.1, 10.0.0.2,203.0.113.9"}, "192.0.2.1:5555", "203.0.113.9"},
		{"rightmost line", xff, []string{"10.0.0.1", "203.0.113.9"}, "192.0.2.1:5555", "203.0.113.9"},
		{"empty trailing entries", xff, []string{"203.0.113.9, ,", " ", ""}, "192.0.2.1:5555", "203.0.113.9"},
		{"absent header: peer", xff, nil, "192.0.2.1:5555", "192.0.2.1"},
		{"only empty entries: peer", xff, []string{" , ,"}, "192.0.2.1:5555", "192.0.2.1"},
		{"with port", xff, []string{"203.0.113.9:4444"}, "", "203.0.113.9"},
		{"ipv6 bracketed", xff, []string{"[2001:DB8::9]"}, "", "2001:db8::/64"},
		{"ipv6 bracketed with port", xff, []string{"[2001:db8::9]:443"}, "", "2001:db8::/64"},
		{"ipv4-mapped", xff, []string{"::ffff:203.0.113.9"}, "", "203.0.113.9"},
		{"not an ip: kept", xff, []string{"unknown"}, "", "unknown"},
		{"long junk: truncated", xff, []string{strings.Repeat("z", 500)}, "", strings.Repeat("z", MaxLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/ws/chat", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.values {
				r.Header.Add(xff, v)
			}
			if got := FromRequest(r, tt.header); got != tt.want {
				t.Errorf("FromRequest = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzFromRequest checks the header parser against a plain reference (join the
// lines, split on commas, take the last non-empty trimmed entry) and its
// invariants: bounded, no comma from the header, the peer when the header
// has nothing.
func FuzzFromRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"203.0.113.9", ""}, {"10.0.0.1, 203.0.113.9", "10.0.0.2"}, {" , ,", ""},
		{"[2001:db8::1]:80", "::ffff:1.2.3.4"}, {"a,,b ,", "\t"}, {"", ""}, {",", ","},
	} {
		f.Add(s[0], s[1], "192.0.2.1:1234")
	}
	f.Fuzz(func(t *testing.T, line1, line2, remote string) {
		r := &http.Request{Header: http.Header{"X-Forwarded-For": {line1, line2}}, RemoteAddr: remote}
		got := FromRequest(r, "X-Forwarded-For")
		if len(got) > MaxLength {
			t.Fatalf("FromRequest = %q: longer than %d", got, MaxLength)
		}
		entries := strings.Split(line1+","+line2, ",")
		ref := ""
		for i := len(entries) - 1; i >= 0 && ref == ""; i-- {
			ref = strings.TrimSpace(entries[i])
		}
		if ref == "" {
			if peer := FromRequest(r, ""); got != peer {
				t.Fatalf("FromRequest = %q, want the peer %q when the header has no entry", got, peer)
			}
			return
		}
		if want := canonical(ref); got != want {
			t.Fatalf("FromRequest = %q, want %q (entry %q)", got, want, ref)
		}
		if strings.Contains(got, ",") {
			t.Fatalf("FromRequest = %q contains a comma", got)
		}
		if canonical(got) != got && len(got) < MaxLength {
			t.Fatalf("canonical is not idempotent on %q", got)
		}
	})
}

// TestAddrKey: a connection's peer is keyed as FromRequest keys the same
// peer, so that the listener's cap and the connect rate count one client
// alike.
func TestAddrKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr net.Addr
		want string
	}{
		{"nil", nil, ""},
		{"ipv4", &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 5555}, "192.0.2.1"},
		{"ipv4 as 16 bytes", &net.TCPAddr{IP: net.ParseIP("192.0.2.1").To16(), Port: 1}, "192.0.2.1"},
		{"ipv6 by /64", &net.TCPAddr{IP: net.ParseIP("2001:db8::ffff:1"), Port: 5555}, "2001:db8::/64"},
		{"ipv6 zone dropped", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "eth0"}, "fe80::/64"},
		{"other network", &net.UnixAddr{Name: "/run/notifyd.sock", Net: "unix"}, "/run/notifyd.sock"},
		{"udp parsed from its string", &net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 53}, "2001:db8::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := AddrKey(tt.addr); got != tt.want {
				t.Errorf("AddrKey(%v) = %q, want %q", tt.addr, got, tt.want)
			}
			if tcp, ok := tt.addr.(*net.TCPAddr); ok {
				r := &http.Request{RemoteAddr: tcp.String()}
				if got := FromRequest(r, ""); got != tt.want {
					t.Errorf("FromRequest(peer %v) = %q, AddrKey = %q", tcp, got, tt.want)
				}
			}
		})
	}
}
