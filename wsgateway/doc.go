// Package wsgateway is notifyd's websocket endpoint (GET /ws/chat) and the hub
// that fans messages out to connected browsers. The wire protocol (close
// codes and what a client should do on each, the logout and gap frames,
// PING/PONG, the accessToken subprotocol) is package protocol's; this package
// says when the gateway uses each part of it.
//
// # Handshake
//
// A Gateway is an http.Handler. A request is checked, before the upgrade and
// in this order, against the connection rate of its client address
// (Config.ConnectRate), the site policy (origin, then the site: Origin, else
// ?host=, else the default), the gateway's capacity (Config.MaxConnections),
// its token (auth.TokenFromRequest, verified by Config.Auth, then
// auth.Identity.CheckSite) and its principal's connection limit
// (Config.MaxConnectionsPerPrincipal). Refusals before the upgrade are plain
// HTTP errors (429 rate or principal limit, 403 origin, 400 no site or a
// site longer than MaxSiteLength, 503 capacity or shutdown). A refused token is told after the upgrade, because
// browsers cannot read the status of a refused upgrade: the logout frame and
// protocol.CloseUnauthorized, or protocol.CloseTryAgainLater without the
// logout frame when the Authenticator could not decide (auth.ErrUnavailable);
// a handshake that Shutdown overtakes during the upgrade gets
// protocol.CloseGoingAway. Every refusal is counted in Stats.Rejected under a RejectReason.
// A socket refused after the upgrade is not a connection: it holds no slot
// of either connection limit and is not in Count (Stats.Refusing counts it
// while it is told), and it is closed within a second whether or not the
// peer answers the close (a deadline on the hijacked connection; the peers
// that did not answer are counted in Stats.RefusalsUnanswered).
//
// # Fan-out
//
// An admitted connection is indexed under its site and every principal of
// its identity. Deliver, called by the pubsub dispatcher with a message and
// its push bytes (encoded once), enqueues those same bytes, with the message
// id, on the bounded queue (Config.QueueSize) of every connection whose site
// equals the message host, whose principals intersect the target principals
// and that is not the sender. Deliver never blocks: a full queue closes that
// connection with protocol.CloseSlowConsumer, and the client catches up.
// The dispatcher calls DeliverDeferred instead (pubsub.BatchSink): the same
// enqueues, but the writers are woken by EndBatch, once per connection per
// batch of the dispatcher. Under load a connection then writes every
// message of a batch in one syscall, and the dispatcher is not queued
// behind thousands of runnable writers between two messages of a
// broadcast (wakes.go).
// DeliverUpdate and DeliverRetract send the update and retract frames
// (protocol.UpdateFrame, protocol.RetractFrame, built once per call) to the
// same recipients as Deliver would. Inbound text protocol.Ping is answered
// protocol.Pong; with Config.Inbox an ack frame of a connection opened with
// ?device= is an ack (below); other text is ignored and counted (clients
// cannot inject messages, as PyAMS let them); a binary frame or one over
// Config.ReadLimit closes the connection.
//
// # Catch-up on connect
//
// GET /ws/chat?since=<id>, id being that of the last message the client
// received, replays what it missed. The connection is indexed first (live
// messages queue), then Config.History is read for the site; every message
// after <id> that the connection may see (message.VisibleTo) is sent, oldest
// first, then the queue is drained, skipping ids the history read covered: no
// gap and no duplicate at the seam. The id is looked up among the messages
// the connection may see, as the REST history does: one naming a message
// hidden from it is answered exactly as an unknown one, so that the answer
// never confirms that a hidden message exists. When <id> is not found (no
// longer kept, unknown, hidden, or not a well-formed id), or the history
// cannot be read, or there is no History, the first frame is
// protocol.GapFrame, with since echoed (since is "" when the id was not
// well-formed: 1 to message.MaxIDLength characters of [0-9A-Za-z._:-]),
// followed by everything still kept that is visible. An absent
// or empty since means no catch-up. Replayed frames are written by the writer
// itself and do not count toward QueueSize; live messages that arrive during
// the replay do.
//
// With Config.Inbox the catch-up reads the user's inbox instead of the
// site's list: Inbox.After for the connection's history.Reader (site, sub,
// principals), Config.InboxPage entries at a time until caught up, so a
// client away for an hour gets everything it may see however busy the
// site, bounded by the inbox's retention. A since no longer kept (or
// unknown, or hidden) gets the gap frame, then the newest entries kept; a
// malformed since, or a page that cannot be read within
// Config.InboxTimeout, gets the gap frame alone. Entries of a category the
// user muted are not sent. The seam is the same: indexed first, ids read
// skipped in the live queue (since included). Without Config.Inbox the
// site's list (Config.History) serves it, as follows.
//
// Catch-ups share history reads, so that a reconnect storm (every client of a
// lost gateway reconnecting here at once) does not read and decode the site
// history once per connection. A connection may only use a read that started
// after it was indexed: such connections are numbered, a read records the
// number when it starts, and a connection uses a running read of its site
// only if that number is at least its own; otherwise it waits for the site's
// next read, which starts once the site's running read has ended (one read
// per site at a time) and one of Config.ReplayConcurrency read slots is free.
// The result is shared read-only (each connection filters its own view), and
// the push form of a replayed message is encoded once per read.
// Config.ReplayTimeout bounds each connection's wait, slot included.
//
// # The inbox (Config.Inbox)
//
// Each connection's writer reads its user's counts (Inbox.Count) and
// preferences (Inbox.Prefs) once, after the catch-up and before any live
// message, and sends protocol.InboxFrame; from then on it keeps them
// itself, with no Redis round trip on the delivery path: a live message
// of a category the user muted is not sent (Stats.MutedByPrefs); any other
// is sent, then counted (unread and unseen + 1) and followed by the inbox
// frame, at most once per Config.BadgeInterval (badge.go: the messages go
// out at once; a badge held back is sent with the latest counts when the
// interval has passed). InboxChanged (the control message the REST API publishes after a
// read, unread, seen or preferences change, on every gateway) sets the
// counts of that user's connections on that site and sends the frame;
// PrefsChanged sets their preferences. DeliverRetract also recounts, in the
// background (Config.RecountConcurrency goroutines at most, owned by the
// Gateway, joined by Shutdown), every connected user who could see the
// message, and sends them the frame. Messages delivered before the count
// read started are not counted twice; one stored while it runs may be
// until the user's next change. A count that cannot be read leaves the
// connection without inbox frames until InboxChanged sets them; its
// messages still flow. PyAMS's browser client ignores the inbox, update
// and retract actions.
//
// GET /ws/chat?device=<id> (1 to MaxDeviceLength characters of
// [0-9A-Za-z._:-]; anything else is refused with 400, RejectDevice) names
// the client's device. Its client acknowledges with {"action":"ack",
// "id":"<id>"} (exactly that frame, at most protocol.MaxAckFrameSize
// bytes, a well-formed id; Stats.Acks); the connection's ack loop writes
// the latest with Inbox.Ack, one call at a time, and the pending one when
// the connection ends. A reconnect of the same user and device without
// since resumes after Inbox.DeviceCursor (no replay when there is none).
//
// # Why a connection ends
//
// Each DisconnectReason, counted in Stats.Disconnects, has one close code:
// DisconnectShutdown protocol.CloseGoingAway, DisconnectBinary
// protocol.CloseUnsupportedData, DisconnectTooBig protocol.CloseTooBig,
// DisconnectSlow protocol.CloseSlowConsumer, DisconnectExpired (the token
// expired, even mid-replay) the logout frame and protocol.CloseUnauthorized,
// DisconnectRevoked (Disconnect, RecheckRevocations) protocol.CloseRevoked,
// DisconnectMuteGrace and DisconnectMuteEvicted (below)
// protocol.CloseUnauthorized without a second logout frame;
// DisconnectClient, DisconnectWriteTimeout and DisconnectPing (no pong within
// Config.PingInterval) close without a handshake.
//
// # Expiry of PyAMS subprotocol connections
//
// Under Config.ExpiryMode ExpiryMute (the default), a connection that
// authenticated with PyAMS's subprotocol is not closed when its token
// expires: it gets the logout frame and is muted. It leaves the delivery
// index at once (no delivery, no replay, not in Count or Stats.Connections;
// counted in Stats.Muted and Stats.Mutes), messages already queued for it
// are skipped (Stats.MutedSkipped), and it still answers protocol.Ping, so
// that a client checking its socket does not open another. The close is
// left to the client, within bounds: Config.MuteGrace after the mute the
// server closes it (DisconnectMuteGrace); pings still run, so a dead peer
// goes at the ping timeout; and when its principal is at
// Config.MaxConnectionsPerPrincipal, a new handshake of that principal takes
// the slot of its oldest muted connection, which is closed
// (DisconnectMuteEvicted), instead of being refused. A muted connection
// still holds its gateway slot. Connections whose token came from the
// Authorization header or ?token=, and every connection under ExpiryClose,
// are closed at expiry.
//
// # Concurrency contract
//
// Gateway methods are safe for concurrent use. New starts no goroutine.
//
// Each ServeHTTP call holds one admission ticket from the hub, issued before
// its token is verified and released exactly once, when the connection's
// goroutine returns (or ServeHTTP, before an upgrade) or, for a socket that
// is refused after the upgrade, before it is told: it
// counts toward the connection limits meanwhile, so simultaneous handshakes
// cannot overshoot them, and it lets Disconnect refuse
// (logout frame, protocol.CloseUnauthorized) a connection of the disconnected
// principal whose token was verified just before the Disconnect and that
// would be admitted after it.
//
// An upgraded connection is handed by ServeHTTP to a goroutine of its own,
// tracked like a ServeHTTP call (so that neither net/http's per-request
// buffers nor the handshake's stack stay with an idle socket), which runs
// the read loop itself and starts, then joins, the writer, unless
// Config.PingInterval is negative the pings (an SSE stream: heartbeats),
// which a timer starts one round trip at a time (periodic: no goroutine
// between them), and for a connection with a device (Config.Inbox) the ack
// loop. The writer runs only while it has
// work: a run starts when something is queued, the connection is asked to
// close, the reader ends, the token expires or a held-back badge is due,
// and returns when nothing is left and no mute-grace timer is armed, so an idle
// connection holds no writer goroutine (Stats.Writers counts the running
// ones; at most one run per connection at a time). The writer is the only
// goroutine that writes data frames (the catch-up replay, queued messages,
// inbox, update and retract frames, PONG, the logout frame) and the only
// one that closes the socket; it writes them itself to the hijacked
// connection, one frame per message, everything queued in one write under
// a write deadline, while the library writes the control frames, each
// write whole under the connection's write lock (wire.go); it alone owns the connection's counts and
// preferences, changed only through its queue. A connection holds no
// context for its life: its goroutines end on its own signals (asked to
// close, reader ended, socket closed), every call it makes is bounded by a
// timeout of its own, and its Inbox calls in flight are cancelled when it
// is asked to close or its reader ends (inboxCalls); the request's context
// is used only before the upgrade (token verification). Its logger is built
// when it logs, its index entry holds no map for a principal's only
// connection, and the library's buffers are small (256 bytes to read, 128
// to write control frames): an idle connection costs its reader's stack
// (4 KB) and about 6 KB of heap (README, Performance). A catch-up history read runs in a
// goroutine of its own, owned by the Gateway and shared by the writers
// waiting for it; a writer stops waiting when its connection is asked to
// close or ReplayTimeout passes, and the last waiter to leave cancels the
// read.
//
// The writer mutes its connection (ExpiryMute): it takes it out of the
// index through its ticket, then writes the logout frame. A handshake that
// takes a muted connection's principal slot (the ticket's claim, under the
// hub lock) only signals that connection to close.
//
// Whoever decides a connection must end (Deliver on overflow: a full queue
// while the writer is blocked on the socket, the client not reading, or 16
// times QueueSize items, the reader on a
// bad frame or the peer's close frame, the writer on token expiry, mute
// grace, a write timeout or the reader's end, the pinger on a missing pong,
// a handshake taking a muted connection's slot, Disconnect,
// RecheckRevocations, Shutdown) only records the reason and signals the
// writer, which closes the socket, then counts the reason; the first reason
// wins. No socket is written or closed, and no Inbox is called, inside
// Deliver, DeliverDeferred, EndBatch, DeliverUpdate, DeliverRetract,
// InboxChanged, PrefsChanged,
// Disconnect or under a lock. A writer's Inbox calls end when its
// connection is asked to close or its reader ends. Deliver holds the hub's read lock for the index lookups and the
// non-blocking channel sends; the history reads' lock is never held with it.
//
// Shutdown refuses new upgrades, signals every connection to close with
// protocol.CloseGoingAway spread over Config.ShutdownSpread, and joins every
// ServeHTTP call and connection goroutine, every history read goroutine and every recount; when its context ends
// first, the remaining sockets are closed without a handshake.
// http.Server.Shutdown does not close hijacked connections, so call
// Gateway.Shutdown after it.
package wsgateway
