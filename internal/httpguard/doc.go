// Package httpguard protects notifyd's HTTP listener from clients that hold
// sockets without using them: Deadlines bounds how long one request may take
// to arrive and to be answered (every route but the long-lived streams), and
// Listener caps the connections one client address may hold at once.
//
// Neither starts a goroutine. Listener is safe for concurrent use (Accept,
// and Close of accepted connections from any goroutine).
package httpguard
