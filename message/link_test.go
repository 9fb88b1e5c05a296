package message

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateLinks(t *testing.T) {
	t.Parallel()
	type tc struct {
		value string
		ok    bool
	}
	absolute := []tc{
		{"https://example.com/x.png", true},
		{"http://example.com:8080/x.png?s=1#f", true},
		{"HTTPS://Example.com/x.png", true},
		{"http://[::1]:65535/x", true},
		{"https://example.com:1/x", true},

		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"data:image/png;base64,AAAA", false},
		{"vbscript:msgbox", false},
		{"file:///etc/passwd", false},
		{"ftp://example.com/x", false},
		{"https:example.com/x", false}, // no authority
		{"https:///x", false},          // no host
		{"https://example.com:99999/x", false},
		{"https://example.com:0/x", false},
		{"https://example.com:65536/x", false},
		{"https://example.com:/x", false},     // empty port
		{"https://example.com:0443/x", false}, // leading zero
		{"https://user:pw@example.com/x", false},
		{"https://paypal.com@evil.example/x", false},
		{" https://example.com/x", false}, // browsers strip it: refused rather than guessed
		{"\tjavascript:alert(1)", false},
		{"java\nscript:alert(1)", false},
		{"https://example.com/a b", false},
		{"https:\\\\evil.example", false},
	}
	relative := []tc{
		{"/page12", true},
		{"page12", true},
		{"../up/page?x=1", true},
		{"?tab=2", true},
		{"#section", true},
		{"/a/b:c", true},

		{"//evil.example/x", false},  // scheme-relative: another host
		{"/\\evil.example/x", false}, // browsers read \ as /: scheme-relative too
		{"\\\\evil.example", false},
		{" /page", false},
		{"/pa\tge", false},
		{"a:b", false}, // a scheme, not a path
		{"mailto:x@example.com", false},
	}
	check := func(t *testing.T, field string, set func(*Message, string), cases []tc) {
		for _, c := range cases {
			m := validMessage()
			set(m, c.value)
			err := m.Validate()
			if c.ok {
				if err != nil {
					t.Errorf("%s %q: Validate = %v, want nil", field, c.value, err)
				}
				continue
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != field || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %q: Validate = %v, want a FieldError on %s", field, c.value, err, field)
			}
		}
	}
	setImage := func(m *Message, s string) { m.Image = s }
	setURL := func(m *Message, s string) { m.URL = s }
	setAvatar := func(m *Message, s string) { m.Source.Avatar = s }
	t.Run("image", func(t *testing.T) {
		t.Parallel()
		check(t, "image", setImage, absolute)
		for _, c := range relative { // image is absolute only, as in PyAMS
			check(t, "image", setImage, []tc{{c.value, false}})
		}
	})
	for _, f := range []struct {
		field string
		set   func(*Message, string)
	}{{"url", setURL}, {"source.avatar", setAvatar}} {
		t.Run(f.field, func(t *testing.T) {
			t.Parallel()
			check(t, f.field, f.set, absolute)
			check(t, f.field, f.set, relative)
		})
	}
}

func TestValidateHostPort(t *testing.T) {
	t.Parallel()
	for h, ok := range map[string]bool{
		"https://example.com:443":   true,
		"http://[::1]:65535":        true,
		"https://example.com:99999": false,
		"https://example.com:0":     false,
		"https://example.com:":      false,
		"https://example.com:08443": false,
		"http://[::1]:70000":        false,
	} {
		if err := ValidateHost(h); (err == nil) != ok {
			t.Errorf("ValidateHost(%q) = %v, want ok=%v", h, err, ok)
		}
	}
}

// browserNormal is s as a WHATWG URL parser starts reading it: leading and
// trailing C0 controls and spaces stripped, tabs and newlines removed.
func browserNormal(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	return strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
}

// browserScheme returns the scheme a WHATWG URL parser would find in s, or
// "": [A-Za-z][A-Za-z0-9+.-]* followed by ':' in browserNormal(s).
func browserScheme(s string) string {
	s = browserNormal(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return strings.ToLower(s[:i])
		default:
			return ""
		}
	}
	return ""
}

func FuzzValidateLink(f *testing.F) {
	for _, s := range []string{
		"https://example.com/x", "/page12", "page", "//evil", "/\\evil", "javascript:alert(1)", " javascript:x",
		"java\tscript:x", "https://a:99999", "https://a:", "http://[::1]:80/", "?q", "#f", "a:b", "HTTP://A",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, relative := range []bool{false, true} {
			if validateLink("url", s, relative) != nil {
				continue
			}
			switch scheme := browserScheme(s); scheme {
			case "http", "https":
			case "":
				if !relative {
					t.Fatalf("absolute-only accepted %q without a scheme", s)
				}
				trimmed := browserNormal(s)
				if len(trimmed) >= 2 && strings.ContainsRune(`/\`, rune(trimmed[0])) && strings.ContainsRune(`/\`, rune(trimmed[1])) {
					t.Fatalf("scheme-relative link %q accepted", s)
				}
			default:
				t.Fatalf("accepted %q, which a browser reads with scheme %q", s, scheme)
			}
		}
	})
}
