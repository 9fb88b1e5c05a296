// Package wsgateway is notifyd's websocket endpoint (GET /ws/chat) and the hub
// that fans messages out to connected browsers.
//
// A Gateway is an http.Handler. Each request is checked, before the upgrade,
// against the connection rate of its client address, the site policy
// (origin, site), the gateway's capacity, its token (PyAMS's client sends
// Sec-WebSocket-Protocol "accessToken, <jwt>"; Authorization: Bearer and
// ?token= work too) and its principal's connection limit; then it is
// upgraded. An authenticated connection is indexed in the hub under its site
// and every principal of its identity. Deliver, called by the pubsub
// dispatcher with a message and its push bytes (encoded once), enqueues those
// same bytes, with the message id, on the bounded queue of every connection
// whose site equals the message host, whose principals intersect the target
// principals and that is not the sender. Deliver never blocks: a full queue
// closes that connection with protocol.CloseSlowConsumer, and the client catches up.
//
// # Catch-up on connect
//
// GET /ws/chat?since=<id>, id being that of the last message the client
// received, replays what it missed. The connection is registered first (live
// messages queue), then Config.History is read for the site; every message
// after <id> that the connection may see (message.VisibleTo) is sent, oldest
// first, then the queue is drained, skipping ids the history read covered: no
// gap and no duplicate at the seam. When <id> is no longer kept (or is not a
// well-formed id, or the history cannot be read, or there is no History),
// the first frame is
//
//	{"action":"gap","status":"warning","since":"<id>"}
//
// (since is "" when the id was malformed) followed by everything still kept
// that is visible: the client may have missed messages and should reload.
// An absent or empty since means no catch-up. Replayed frames are written by
// the writer itself and do not count toward QueueSize; live messages that
// arrive during the replay do, and overflow closes with protocol.CloseSlowConsumer.
//
// Catch-ups share history reads, so that a reconnect storm (every client of
// a lost gateway reconnecting here at once) does not read and decode the
// site history once per connection. A connection may only use a read that
// started after it was registered: registrations are numbered, a read
// records the number when it starts, and a connection uses a running read
// of its site only if that number is at least its own; otherwise it waits
// for the site's next read, which starts once the site's running read has
// ended (one read per site at a time) and one of the gateway's
// Config.ReplayConcurrency read slots is free. The result is shared
// read-only between the connections that waited for it (each filters its own
// view), and the push form of a replayed message is encoded once per read.
// ReplayTimeout bounds each connection's wait, slot included.
//
// # Close codes
//
//	code  constant              when                                   the client should
//	1001  protocol.CloseGoingAway        Shutdown                               reconnect with backoff (to another gateway), with since
//	1003  protocol.CloseUnsupportedData  it sent a binary frame                 send text frames only
//	1009  protocol.CloseTooBig           an inbound frame exceeded ReadLimit    send smaller frames
//	1013  protocol.CloseTryAgainLater    the token could not be checked         reconnect with backoff and the same token;
//	                            (revocation list unavailable)          no logout frame: do not log out
//	4000  protocol.CloseSlowConsumer     its queue overflowed                   reconnect with since to catch up
//	4001  protocol.CloseUnauthorized     token missing, invalid, expired or     refresh its token, reconnect
//	                            revoked; preceded by
//	                            {"action":"logout","status":"FORBIDDEN"}
//	4003  protocol.CloseRevoked          an administrator disconnected this     get a new token (the same one will be
//	                            principal (Disconnect)                 refused with the logout frame), reconnect
//
// # Limits
//
// Zero Config values mean the default. A negative value disables the three
// connection limits; ReadLimit and QueueSize cannot be disabled. Refusals
// before the upgrade are plain HTTP errors, counted in Stats.Rejected.
//
//	limit                                       default          response
//	new connections per second per address      5/s, burst 20    429 (Retry-After: 1) before the upgrade
//	  (ConnectRate, ConnectBurst)
//	connections per gateway (MaxConnections)    10000            503 before the upgrade
//	connections per principal per gateway       32               429 before the upgrade
//	  (MaxConnectionsPerPrincipal)
//	inbound frame size (ReadLimit)              4096 B           close 1009
//	queued messages per connection (QueueSize)  256              close 4000
//
// The client address is the TCP peer, or, with Config.ClientIPHeader (for
// example X-Forwarded-For behind a trusted proxy), the header's rightmost
// non-empty entry. Connections being set up count toward the connection
// limits, so simultaneous handshakes cannot overshoot them.
//
// Inbound text "PING" is answered "PONG"; any other text is ignored and
// counted: clients cannot inject messages (PyAMS let them).
//
// # Concurrency contract
//
// Gateway methods are safe for concurrent use. New starts no goroutine. Each
// upgraded connection is owned by its ServeHTTP call, which runs the read loop
// itself and starts, then joins, two goroutines: the writer (the only
// goroutine that writes data frames: the catch-up replay, queued messages,
// PONG, the logout frame, and the close handshake) and, unless disabled, the
// pinger. A catch-up history read runs in a goroutine of its own, owned by
// the Gateway and shared by the writers waiting for it; a writer stops
// waiting when its connection is asked to close or ReplayTimeout passes, and
// the last waiter to leave cancels the read. Every connection has its own
// lifetime context, created after the upgrade and cancelled when ServeHTTP
// returns; the request's context is used only before the upgrade (token
// verification). historyReads' mutex guards the reads on offer per site; it
// is never held with the hub lock.
//
// Whoever decides a connection must end (Deliver on overflow, the reader on a
// bad frame or the peer's close frame, the writer on token expiry, a write
// timeout or the reader's end, the pinger on a missing pong, Disconnect,
// Shutdown) only records the reason and signals the writer, which performs
// the close; the first reason wins and is counted in Stats.Disconnects. No
// socket is written or closed inside Deliver, Disconnect or while the hub
// lock is held. The hub's RWMutex guards the index and the connection-limit
// accounting; Deliver holds its read lock for the lookups and non-blocking
// channel sends.
//
// Disconnect also closes the race with a token verified just before it: a
// connection of the disconnected principal whose admission began before the
// Disconnect is refused when it tries to register.
//
// Shutdown refuses new upgrades, signals every connection to close with
// protocol.CloseGoingAway spread over Config.ShutdownSpread, and joins every ServeHTTP
// call and every history read goroutine; when its context ends first, the
// remaining sockets are closed without a handshake. http.Server.Shutdown does
// not close hijacked connections, so call Gateway.Shutdown after it.
package wsgateway
