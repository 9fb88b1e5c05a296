// Package clientip names the client address of a request or a connection,
// the one keying that notifyd's per-address limits share: the websocket
// connect rate (package wsgateway) and the HTTP listener's per-address
// connection cap (package internal/httpguard).
//
// An IPv4 address stands for itself; an IPv6 address for its /64, the
// smallest block one client (a home or a host) usually holds, so that
// rotating through a /64 does not multiply a client's budget nor fill a
// limiter's key table. A key is at most MaxLength bytes.
//
// The package has no state and starts no goroutine.
package clientip
