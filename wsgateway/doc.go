// Package wsgateway is notifyd's websocket endpoint (GET /ws/chat) and the hub
// that fans messages out to connected browsers.
//
// A Gateway is an http.Handler. Each request is checked against the site
// policy (origin, site), upgraded, and authenticated with the token that
// PyAMS's client sends (Sec-WebSocket-Protocol "accessToken, <jwt>", or
// Authorization: Bearer, or ?token=). An authenticated connection is indexed
// in the hub under its site and every principal of its identity. Deliver,
// called by the pubsub dispatcher with a message and its push bytes (encoded
// once), enqueues those same bytes on the bounded queue of every connection
// whose site equals the message host, whose principals intersect the target
// principals and that is not the sender. Deliver never blocks: a full queue
// closes that connection with CloseSlowConsumer, and the client catches up
// through the REST history.
//
// # Close codes
//
//	code  constant              when                                   the client should
//	1001  CloseGoingAway        Shutdown                               reconnect with backoff (to another gateway)
//	1003  CloseUnsupportedData  it sent a binary frame                 send text frames only
//	1009  CloseTooBig           an inbound frame exceeded ReadLimit    send smaller frames
//	4000  CloseSlowConsumer     its queue overflowed                   reconnect, catch up via REST history (since)
//	4001  CloseUnauthorized     token missing, invalid or expired;     refresh its token, reconnect
//	                            preceded by {"action":"logout","status":"FORBIDDEN"}
//
// Inbound text "PING" is answered "PONG"; any other text is ignored and
// counted: clients cannot inject messages (PyAMS let them).
//
// # Concurrency contract
//
// Gateway methods are safe for concurrent use. New starts no goroutine. Each
// upgraded connection is owned by its ServeHTTP call, which runs the read loop
// itself and starts, then joins, two goroutines: the writer (the only
// goroutine that writes data frames: queued messages, PONG, the logout frame,
// and the close handshake) and, unless disabled, the pinger. Every connection
// has its own lifetime context, created after the upgrade and cancelled when
// ServeHTTP returns; the request's context is never used after the upgrade.
//
// Whoever decides a connection must end (Deliver on overflow, the reader on a
// bad frame or the peer's close frame, the writer on token expiry, a write
// timeout or the reader's end, the pinger on a missing pong, Shutdown) only
// records the reason and signals the writer, which performs the close; the
// first reason wins and is counted in Stats.Disconnects. No socket is written or closed inside Deliver or while
// the hub lock is held. The hub's RWMutex guards the index only; Deliver holds
// its read lock for the lookups and non-blocking channel sends.
//
// Shutdown refuses new upgrades, signals every connection to close with
// CloseGoingAway spread over Config.ShutdownSpread, and joins every ServeHTTP
// call; when its context ends first, the remaining sockets are closed without
// a handshake. http.Server.Shutdown does not close hijacked connections, so
// call Gateway.Shutdown after it.
package wsgateway
