package auth

import (
	"net/http/httptest"
	"testing"
)

func TestTokenFromRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		protocol    string
		auth        string
		query       string
		token, from string
	}{
		{"pyams subprotocol", "accessToken, abc.def.ghi", "", "", "abc.def.ghi", SourceSubprotocol},
		{"space only", "accessToken abc", "", "", "abc", SourceSubprotocol},
		{"no space", "accessToken,abc", "", "", "abc", SourceSubprotocol},
		{"subprotocol alone", "accessToken", "", "", "", SourceNone},
		{"other subprotocols", "chat, v2", "", "", "", SourceNone},
		{"bearer", "", "Bearer xyz", "", "xyz", SourceBearer},
		{"bearer lower case", "", "bearer xyz", "", "xyz", SourceBearer},
		{"basic ignored", "", "Basic dXNlcg==", "", "", SourceNone},
		{"query", "", "", "token=q1", "q1", SourceQuery},
		{"subprotocol wins", "accessToken, s", "Bearer b", "token=q", "s", SourceSubprotocol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/ws/chat?"+c.query, nil)
			if c.protocol != "" {
				r.Header.Set("Sec-WebSocket-Protocol", c.protocol)
			}
			if c.auth != "" {
				r.Header.Set("Authorization", c.auth)
			}
			tok, from := TokenFromRequest(r)
			if tok != c.token || from != c.from {
				t.Fatalf("TokenFromRequest = %q, %q; want %q, %q", tok, from, c.token, c.from)
			}
		})
	}
}

func TestPublisherTokens(t *testing.T) {
	t.Parallel()
	p, err := NewPublisherTokens([]string{"publisher-token-one", "", "publisher-token-two"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 2 {
		t.Fatalf("Len = %d", p.Len())
	}
	for tok, want := range map[string]bool{
		"publisher-token-one": true, "publisher-token-two": true,
		"publisher-token-on": false, "": false, "publisher-token-one ": false,
	} {
		if got := p.Check(tok); got != want {
			t.Errorf("Check(%q) = %v", tok, got)
		}
	}
	if _, err := NewPublisherTokens([]string{"short"}); err == nil {
		t.Fatal("short token accepted")
	}
	var nilTokens *PublisherTokens
	if nilTokens.Check("publisher-token-one") {
		t.Fatal("nil PublisherTokens accepted a token")
	}
}

func FuzzTokenFromRequest(f *testing.F) {
	f.Add("accessToken, a.b.c", "Bearer x")
	f.Add(",,accessToken,,", "bearer")
	f.Fuzz(func(t *testing.T, protocol, authz string) {
		r := httptest.NewRequest("GET", "/ws/chat", nil)
		r.Header.Set("Sec-WebSocket-Protocol", protocol)
		r.Header.Set("Authorization", authz)
		tok, from := TokenFromRequest(r)
		if (tok == "") != (from == SourceNone) {
			t.Fatalf("token %q from %q", tok, from)
		}
	})
}
