package message

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(m *Message)
		field  string // "" means valid
	}{
		{"valid", func(*Message) {}, ""},
		{"no image, url, avatar, id or target", func(m *Message) {
			m.Image, m.URL, m.ID, m.Source.Avatar, m.Target = "", "", "", "", nil
		}, ""},
		{"python timestamp without microseconds", func(m *Message) { m.Timestamp = "2025-01-18T17:20:54+00:00" }, ""},
		{"timestamp with Z", func(m *Message) { m.Timestamp = "2025-01-18T17:20:54.1Z" }, ""},
		{"host with port", func(m *Message) { m.Host = "http://localhost:6543" }, ""},
		{"id with allowed punctuation", func(m *Message) { m.ID = "a.b_c:d-E9" }, ""},
		{"multi-line body", func(m *Message) { m.Body = "a\nb" }, ""},

		{"missing host", func(m *Message) { m.Host = "" }, "host"},
		{"missing channel", func(m *Message) { m.Channel = "" }, "channel"},
		{"missing action", func(m *Message) { m.Action = "" }, "action"},
		{"missing category", func(m *Message) { m.Category = "" }, "category"},
		{"missing status", func(m *Message) { m.Status = "" }, "status"},
		{"missing title", func(m *Message) { m.Title = "" }, "title"},
		{"blank title", func(m *Message) { m.Title = " \t" }, "title"},
		{"missing message", func(m *Message) { m.Body = "" }, "message"},
		{"missing timestamp", func(m *Message) { m.Timestamp = "" }, "timestamp"},

		{"title with newline", func(m *Message) { m.Title = "a\nb" }, "title"},
		{"title with carriage return", func(m *Message) { m.Title = "a\rb" }, "title"},
		{"relative image", func(m *Message) { m.Image = "/x.png" }, "image"},
		{"image without scheme", func(m *Message) { m.Image = "example.com/x.png" }, "image"},
		{"unparsable image", func(m *Message) { m.Image = "http://[::1" }, "image"},

		{"host without scheme", func(m *Message) { m.Host = "example.com" }, "host"},
		{"host with path", func(m *Message) { m.Host = "https://example.com/site" }, "host"},
		{"host with trailing slash", func(m *Message) { m.Host = "https://example.com/" }, "host"},
		{"host with query", func(m *Message) { m.Host = "https://example.com?a=1" }, "host"},
		{"host with fragment", func(m *Message) { m.Host = "https://example.com#x" }, "host"},
		{"host with user", func(m *Message) { m.Host = "https://u:p@example.com" }, "host"},
		{"host with ws scheme", func(m *Message) { m.Host = "ws://example.com" }, "host"},
		{"host with bad port", func(m *Message) { m.Host = "https://example.com:x" }, "host"},

		{"nil source", func(m *Message) { m.Source = nil }, "source.id"},
		{"source id at the limit", func(m *Message) { m.Source.ID = strings.Repeat("s", MaxPrincipalLength) }, ""},
		{"source id too long", func(m *Message) { m.Source.ID = strings.Repeat("s", MaxPrincipalLength+1) }, "source.id"},
		{"principal at the limit", func(m *Message) { m.Target.Principals = []string{strings.Repeat("p", MaxPrincipalLength)} }, ""},
		{"principal too long", func(m *Message) {
			m.Target.Principals = []string{Admin, strings.Repeat("p", MaxPrincipalLength+1)}
		}, "target.principals"},
		{"source without id", func(m *Message) { m.Source.ID = "" }, "source.id"},

		{"timestamp without offset", func(m *Message) { m.Timestamp = "2025-01-18T17:20:54.123456" }, "timestamp"},
		{"timestamp garbage", func(m *Message) { m.Timestamp = "yesterday" }, "timestamp"},
		{"epoch timestamp", func(m *Message) { m.Timestamp = "1737220854" }, "timestamp"},

		{"id with space", func(m *Message) { m.ID = "a b" }, "id"},
		{"id with slash", func(m *Message) { m.ID = "a/b" }, "id"},
		{"id too long", func(m *Message) { m.ID = strings.Repeat("a", MaxIDLength+1) }, "id"},
		{"id non-ascii", func(m *Message) { m.ID = "é" }, "id"},

		{"empty principal", func(m *Message) { m.Target.Principals = []string{Admin, ""} }, "target.principals"},
		{"too many principals", func(m *Message) {
			m.Target.Principals = make([]string, MaxPrincipals+1)
			for i := range m.Target.Principals {
				m.Target.Principals[i] = "p"
			}
		}, "target.principals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := validMessage()
			tt.modify(m)
			err := m.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate = %#v, want field %q", err, tt.field)
			}
		})
	}
}

func TestValidateHost(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"http://example.com", "https://example.com:8443", "http://127.0.0.1:6543", "http://[::1]:80"} {
		if err := ValidateHost(h); err != nil {
			t.Errorf("ValidateHost(%q) = %v", h, err)
		}
	}
	for _, h := range []string{"", "example.com", "https://", "https://example.com/", "ftp://example.com", "//example.com"} {
		if err := ValidateHost(h); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateHost(%q) = %v, want ErrInvalid", h, err)
		}
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"01JHQ0000000000000000ABCDE":       true,
		"a.b_c:d-e":                        true,
		strings.Repeat("x", MaxIDLength):   true,
		"":                                 false,
		strings.Repeat("x", MaxIDLength+1): false,
		"a b":                              false, `a"`: false, "é": false, "a/b": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}
