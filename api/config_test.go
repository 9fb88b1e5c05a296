package api

import (
	"io"
	"math"
	"testing"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"complete", func(*Config) {}, true},
		{"no auth", func(c *Config) { c.Auth = nil }, false},
		{"no sites", func(c *Config) { c.Sites = nil }, false},
		{"negative body limit", func(c *Config) { c.MaxBodyBytes = -1 }, false},
		{"negative max limit", func(c *Config) { c.MaxLimit = -1 }, false},
		{"negative publish rate disables", func(c *Config) { c.PublishRate = -1 }, true},
		{"NaN publish rate", func(c *Config) { c.PublishRate = math.NaN() }, false},
		{"infinite publish rate", func(c *Config) { c.PublishRate = math.Inf(1) }, false},
		{"negative publish burst", func(c *Config) { c.PublishBurst = -1 }, false},
		{"negative admin rate disables", func(c *Config) { c.AdminRate = -1 }, true},
		{"NaN admin rate", func(c *Config) { c.AdminRate = math.NaN() }, false},
		{"infinite admin rate", func(c *Config) { c.AdminRate = math.Inf(-1) }, false},
		{"negative admin burst", func(c *Config) { c.AdminBurst = -1 }, false},
		{"negative REST rate disables", func(c *Config) { c.RESTRate = -1 }, true},
		{"NaN REST rate", func(c *Config) { c.RESTRate = math.NaN() }, false},
		{"infinite REST rate", func(c *Config) { c.RESTRate = math.Inf(1) }, false},
		{"negative REST burst", func(c *Config) { c.RESTBurst = -1 }, false},
		{"with revoker", func(c *Config) { c.Revoker = &fakeRevoker{} }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t, io.Discard, c.mod)
			h, err := New(cfg)
			if (err == nil) != c.ok || (h != nil) != c.ok {
				t.Fatalf("New: handler %v, err %v; want ok=%v", h != nil, err, c.ok)
			}
		})
	}
}

func TestNewMinimalConfigServes(t *testing.T) {
	t.Parallel()
	full := testConfig(t, io.Discard)
	h, err := New(Config{Auth: full.Auth, Sites: full.Sites})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{logs: &syncBuffer{}}
	f.srv = newServer(t, h)
	r := f.do(t, "GET", PathContext, "", bearer(mint(t, "users:jdoe", ""))...).wantStatus(t, 200)
	if len(r.body) == 0 {
		t.Fatal("empty body")
	}
}
