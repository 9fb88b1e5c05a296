package auth

import (
	"net/http"
	"strings"

	"github.com/notifyd/notifyd/protocol"
)

// SubProtocol is the websocket subprotocol PyAMS's browser client offers
// before its token: new WebSocket(url, ['accessToken', token]).
const SubProtocol = protocol.SubProtocol

// Token sources, as reported by TokenFromRequest.
const (
	SourceNone        = ""
	SourceSubprotocol = "subprotocol"
	SourceBearer      = "bearer"
	SourceQuery       = "query"
)

// TokenFromRequest finds the bearer token of r: the Sec-WebSocket-Protocol
// header "accessToken, <jwt>" as PyAMS's client sends it (a space instead of
// the comma is tolerated), then "Authorization: Bearer <jwt>", then the token
// query parameter. It returns the token and where it was found.
func TokenFromRequest(r *http.Request) (token, source string) {
	if t := tokenFromSubprotocols(r.Header.Values("Sec-WebSocket-Protocol")); t != "" {
		return t, SourceSubprotocol
	}
	if t := BearerToken(r); t != "" {
		return t, SourceBearer
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t, SourceQuery
	}
	return "", SourceNone
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header,
// or "" when there is none.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}

// tokenFromSubprotocols returns the element after "accessToken" in the
// offered subprotocols, splitting on commas and whitespace.
func tokenFromSubprotocols(values []string) string {
	var parts []string
	for _, v := range values {
		parts = append(parts, strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t'
		})...)
	}
	for i, p := range parts {
		if p == SubProtocol && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}
