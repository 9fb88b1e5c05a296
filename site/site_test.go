package site

import (
	"errors"
	"net/http/httptest"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		allowed []string
		origin  string
		host    string
		ok      bool
	}{
		{"no origin", nil, "", "gw:8080", true},
		{"same origin", nil, "http://gw:8080", "gw:8080", true},
		{"same origin case", nil, "http://GW:8080", "gw:8080", true},
		{"cross origin refused", nil, "https://evil.example", "gw:8080", false},
		{"listed", []string{"https://app.example.com"}, "https://app.example.com", "gw:8080", true},
		{"listed trailing slash", []string{"https://app.example.com/"}, "https://APP.example.com", "gw:8080", true},
		{"other port refused", []string{"https://app.example.com"}, "https://app.example.com:8443", "gw:8080", false},
		{"star", []string{"*"}, "https://anything.example", "gw:8080", true},
		{"null origin refused", nil, "null", "gw:8080", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPolicy(c.allowed, "")
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/ws/chat", nil)
			r.Host = c.host
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			err = p.Check(r)
			if c.ok != (err == nil) {
				t.Fatalf("Check = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrOriginNotAllowed) {
				t.Fatalf("error %v is not ErrOriginNotAllowed", err)
			}
		})
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(nil, "https://default.example")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ origin, query, want string }{
		{"https://App.Example.com", "host=https://other.example", "https://app.example.com"},
		{"", "host=https%3A%2F%2Fother.example", "https://other.example"},
		{"", "host=not-an-origin", "https://default.example"},
		{"", "", "https://default.example"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/x?"+c.query, nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := p.Of(r); got != c.want {
			t.Errorf("Of(origin=%q, %q) = %q, want %q", c.origin, c.query, got, c.want)
		}
	}
	empty, _ := NewPolicy(nil, "")
	if got := empty.Of(httptest.NewRequest("GET", "/x", nil)); got != "" {
		t.Errorf("Of with no default = %q", got)
	}
}

func TestNewPolicyErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range [][]string{{"app.example.com"}, {"ftp://x"}, {"https://x/path"}} {
		if _, err := NewPolicy(bad, ""); err == nil {
			t.Errorf("NewPolicy(%q) succeeded", bad)
		}
	}
	if _, err := NewPolicy(nil, "example.com"); err == nil {
		t.Error("bad default host accepted")
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("https://app.example.com:8443")
	f.Add("http://[::1]:80/")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s)
		if err != nil {
			return
		}
		if again, err := Normalize(n); err != nil || again != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q, %v", s, n, again, err)
		}
	})
}
