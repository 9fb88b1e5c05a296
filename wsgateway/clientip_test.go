package wsgateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
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
		{"long junk: truncated", xff, []string{strings.Repeat("z", 500)}, "", strings.Repeat("z", maxAddrLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/ws/chat", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.values {
				r.Header.Add(xff, v)
			}
			if got := clientIP(r, tt.header); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzClientIP checks the header parser against a plain reference (join the
// lines, split on commas, take the last non-empty trimmed entry) and its
// invariants: bounded, no comma from the header, the peer when the header
// has nothing.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"203.0.113.9", ""}, {"10.0.0.1, 203.0.113.9", "10.0.0.2"}, {" , ,", ""},
		{"[2001:db8::1]:80", "::ffff:1.2.3.4"}, {"a,,b ,", "\t"}, {"", ""}, {",", ","},
	} {
		f.Add(s[0], s[1], "192.0.2.1:1234")
	}
	f.Fuzz(func(t *testing.T, line1, line2, remote string) {
		r := &http.Request{Header: http.Header{"X-Forwarded-For": {line1, line2}}, RemoteAddr: remote}
		got := clientIP(r, "X-Forwarded-For")
		if len(got) > maxAddrLength {
			t.Fatalf("clientIP = %q: longer than %d", got, maxAddrLength)
		}
		entries := strings.Split(line1+","+line2, ",")
		ref := ""
		for i := len(entries) - 1; i >= 0 && ref == ""; i-- {
			ref = strings.TrimSpace(entries[i])
		}
		if ref == "" {
			if peer := clientIP(r, ""); got != peer {
				t.Fatalf("clientIP = %q, want the peer %q when the header has no entry", got, peer)
			}
			return
		}
		if want := canonicalAddr(ref); got != want {
			t.Fatalf("clientIP = %q, want %q (entry %q)", got, want, ref)
		}
		if strings.Contains(got, ",") {
			t.Fatalf("clientIP = %q contains a comma", got)
		}
		if canonicalAddr(got) != got && len(got) < maxAddrLength {
			t.Fatalf("canonicalAddr is not idempotent on %q", got)
		}
	})
}
