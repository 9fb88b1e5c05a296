package wsgateway

import (
	"sync/atomic"

	"github.com/notifyd/notifyd/internal/hist"
)

// RejectReason says why a request did not become a registered connection.
type RejectReason string

// Reject reasons, counted in Stats.Rejected.
const (
	// RejectShutdown: Shutdown had begun (503, or 1001 right after the upgrade).
	RejectShutdown RejectReason = "shutdown"
	// RejectOrigin: the Origin is not allowed by the site policy (403).
	RejectOrigin RejectReason = "origin"
	// RejectNoSite: no Origin, no ?host= and no default site (400).
	RejectNoSite RejectReason = "no_site"
	// RejectSiteTooLong: the site (Origin or ?host=) is longer than an
	// origin can be, MaxSiteLength bytes (400).
	RejectSiteTooLong RejectReason = "site_too_long"
	// RejectHandshake: not a valid websocket upgrade; the library answered.
	RejectHandshake RejectReason = "handshake"
	// RejectToken: the token was missing, invalid or expired; upgraded, then
	// the logout frame and protocol.CloseUnauthorized.
	RejectToken RejectReason = "token"
	// RejectRevoked: the token was revoked (auth.ErrRevoked), or its
	// principal was disconnected during the handshake; upgraded, then the
	// logout frame and protocol.CloseUnauthorized.
	RejectRevoked RejectReason = "revoked"
	// RejectUnavailable: the Authenticator could not decide (for example
	// auth.ErrUnavailable); upgraded, then protocol.CloseTryAgainLater.
	RejectUnavailable RejectReason = "auth_unavailable"
	// RejectRate: the client address exceeded ConnectRate (429).
	RejectRate RejectReason = "rate"
	// RejectCapacity: the gateway had MaxConnections connections (503).
	RejectCapacity RejectReason = "capacity"
	// RejectPrincipalLimit: the principal had MaxConnectionsPerPrincipal
	// connections on this gateway (429).
	RejectPrincipalLimit RejectReason = "principal_limit"
	// RejectDevice: ?device= is not 1 to MaxDeviceLength characters of
	// [0-9A-Za-z._:-] (400).
	RejectDevice RejectReason = "device"
)

// DisconnectReason says why a registered connection ended.
type DisconnectReason string

// Disconnect reasons, counted in Stats.Disconnects.
const (
	// DisconnectClient: the peer closed the connection or the network failed.
	DisconnectClient DisconnectReason = "client"
	// DisconnectSlow: its queue overflowed (protocol.CloseSlowConsumer).
	DisconnectSlow DisconnectReason = "slow"
	// DisconnectExpired: its token expired (logout frame, protocol.CloseUnauthorized).
	DisconnectExpired DisconnectReason = "token_expired"
	// DisconnectShutdown: Shutdown closed it (protocol.CloseGoingAway).
	DisconnectShutdown DisconnectReason = "shutdown"
	// DisconnectBinary: it sent a binary frame (protocol.CloseUnsupportedData).
	DisconnectBinary DisconnectReason = "binary"
	// DisconnectTooBig: it sent a message over ReadLimit (protocol.CloseTooBig).
	DisconnectTooBig DisconnectReason = "too_big"
	// DisconnectWriteTimeout: a write exceeded WriteTimeout.
	DisconnectWriteTimeout DisconnectReason = "write_timeout"
	// DisconnectPing: no pong arrived within PingInterval.
	DisconnectPing DisconnectReason = "ping_timeout"
	// DisconnectRevoked: Disconnect closed it (protocol.CloseRevoked).
	DisconnectRevoked DisconnectReason = "revoked"
	// DisconnectMuteGrace: it was muted at its token's expiry (ExpiryMute)
	// and still open after MuteGrace (protocol.CloseUnauthorized).
	DisconnectMuteGrace DisconnectReason = "mute_grace"
	// DisconnectMuteEvicted: it was muted, and a new connection of its
	// principal took its place under MaxConnectionsPerPrincipal
	// (protocol.CloseUnauthorized).
	DisconnectMuteEvicted DisconnectReason = "mute_evicted"
)

var (
	rejectReasons = []RejectReason{
		RejectShutdown, RejectOrigin, RejectNoSite, RejectSiteTooLong, RejectHandshake, RejectToken,
		RejectRevoked, RejectUnavailable, RejectRate, RejectCapacity, RejectPrincipalLimit,
		RejectDevice,
	}
	disconnectReasons = []DisconnectReason{
		DisconnectClient, DisconnectSlow, DisconnectExpired, DisconnectShutdown,
		DisconnectBinary, DisconnectTooBig, DisconnectWriteTimeout, DisconnectPing,
		DisconnectRevoked, DisconnectMuteGrace, DisconnectMuteEvicted,
	}
)

// Stats is a snapshot of a Gateway's counters. Counters only grow.
type Stats struct {
	// Connections is the number of registered (authenticated) connections.
	Connections int
	// Refusing is the number of upgraded sockets being refused now (told
	// why, then closed, within a second). They are not connections: they
	// count toward no connection limit and are not in Connections.
	Refusing int
	// Writers is the number of connection writers running now: a
	// connection has one only while it has something to write, to time or
	// to close (an idle connection has none).
	Writers int
	// RefusalsUnanswered counts refused sockets whose peer did not answer
	// the close within that second: the server cut them.
	RefusalsUnanswered uint64
	// Muted is the number of muted connections open now (ExpiryMute): their
	// token expired, they got the logout frame and receive nothing more.
	// They are not in Connections but hold their connection slots.
	Muted int
	// Mutes counts connections muted at their token's expiry.
	Mutes uint64
	// MutedSkipped counts queued messages not sent because their connection
	// was muted before its writer reached them.
	MutedSkipped uint64
	// Accepted counts connections that were authenticated and registered.
	Accepted uint64
	// Rejected counts refused requests by reason; every reason is present.
	Rejected map[RejectReason]uint64
	// Delivered counts messages enqueued for a connection.
	Delivered uint64
	// Dropped counts messages a matching connection did not get because its
	// queue was full or it was already closing.
	Dropped uint64
	// Ignored counts inbound text messages other than PING.
	Ignored uint64
	// Replayed counts messages sent by catch-up on connect (?since=).
	Replayed uint64
	// Gaps counts gap frames sent: the since id was not kept, was invalid,
	// or the history could not be read.
	Gaps uint64
	// HistoryErrors counts catch-ups whose history read failed or timed out
	// (each got the gap frame).
	HistoryErrors uint64
	// HistoryReads counts History.List calls made for catch-ups. Concurrent
	// catch-ups of one site share reads, so under a reconnect storm it grows
	// much more slowly than the number of catch-ups.
	HistoryReads uint64
	// HistoryJoins counts catch-ups that used a history read requested by
	// another connection's catch-up instead of requesting their own.
	HistoryJoins uint64
	// SeamSkipped counts live messages not sent because catch-up had
	// already sent them, or the client had them (at or before since).
	SeamSkipped uint64
	// InboxFrames counts inbox frames (badge counts) sent.
	InboxFrames uint64
	// MutedByPrefs counts live messages and updates not sent because the
	// user muted their category (Config.Inbox).
	MutedByPrefs uint64
	// Acks counts ack frames accepted (they are coalesced: at most one
	// Inbox.Ack per connection at a time, the latest id wins).
	Acks uint64
	// InboxErrors counts failed or timed-out Inbox calls: a catch-up page
	// (the client got the gap frame), counts or preferences at connect, a
	// device cursor, an ack, a recount.
	InboxErrors uint64
	// Recounts counts Inbox.Count calls made after a retract, one per
	// connected user who could see the retracted message.
	Recounts uint64
	// Disconnects counts ended connections by reason; every reason is present.
	Disconnects map[DisconnectReason]uint64
	// HandshakeAccepted is the time from ServeHTTP's entry to a connection
	// admitted (authenticated, upgraded, registered), before its catch-up.
	HandshakeAccepted hist.Snapshot
	// HandshakeRefused is the time from ServeHTTP's entry to a refusal
	// decided (counted in Rejected): an HTTP error before the upgrade, or
	// the refusal of an upgraded socket before it is told.
	HandshakeRefused hist.Snapshot

	// Spaces (Config.Spaces): space messages delivered (each counted once,
	// whatever its recipients), space messages without a valid space field
	// (not delivered), commands received, commands answered with an error,
	// and failed Spaces calls of the gateway itself (reading a user's spaces
	// at connect or in SpacesResync).
	SpaceMessages  uint64
	SpaceMalformed uint64
	Commands       uint64
	CommandErrors  uint64
	SpaceErrors    uint64
	// SSEAccepted counts the server-sent event streams admitted (also
	// counted in Accepted).
	SSEAccepted uint64
}

// counters are the Gateway's statistics. The maps are built by newCounters
// and never modified afterwards, so concurrent lookups are safe.
type counters struct {
	writers      atomic.Int64
	refusing     atomic.Int64
	unanswered   atomic.Uint64 // refusals
	muted        atomic.Int64
	mutes        atomic.Uint64
	mutedSkipped atomic.Uint64
	accepted     atomic.Uint64
	delivered    atomic.Uint64
	dropped      atomic.Uint64
	ignored      atomic.Uint64
	replayed     atomic.Uint64
	gaps         atomic.Uint64
	historyErrs  atomic.Uint64
	historyReads atomic.Uint64
	historyJoins atomic.Uint64
	seamSkipped  atomic.Uint64
	inboxFrames  atomic.Uint64
	mutedByPrefs atomic.Uint64
	acks         atomic.Uint64
	inboxErrs    atomic.Uint64
	recounts     atomic.Uint64
	// spaces
	spaceMessages  atomic.Uint64
	spaceMalformed atomic.Uint64
	commands       atomic.Uint64
	commandErrs    atomic.Uint64
	spaceErrs      atomic.Uint64
	sseAccepted    atomic.Uint64
	rejected       map[RejectReason]*atomic.Uint64
	disconnects    map[DisconnectReason]*atomic.Uint64
	admitted       *hist.Histogram // handshake durations of admitted connections
	refused        *hist.Histogram // handshake durations of refusals
}

func newCounters() *counters {
	c := &counters{
		rejected:    make(map[RejectReason]*atomic.Uint64, len(rejectReasons)),
		disconnects: make(map[DisconnectReason]*atomic.Uint64, len(disconnectReasons)),
		admitted:    hist.New(),
		refused:     hist.New(),
	}
	for _, r := range rejectReasons {
		c.rejected[r] = new(atomic.Uint64)
	}
	for _, r := range disconnectReasons {
		c.disconnects[r] = new(atomic.Uint64)
	}
	return c
}

func (c *counters) snapshot(connections int) Stats {
	s := Stats{
		Connections:        connections,
		Refusing:           int(c.refusing.Load()),
		Writers:            int(c.writers.Load()),
		RefusalsUnanswered: c.unanswered.Load(),
		Muted:              int(c.muted.Load()),
		Mutes:              c.mutes.Load(),
		MutedSkipped:       c.mutedSkipped.Load(),
		Accepted:           c.accepted.Load(),
		Rejected:           make(map[RejectReason]uint64, len(c.rejected)),
		Delivered:          c.delivered.Load(),
		Dropped:            c.dropped.Load(),
		Ignored:            c.ignored.Load(),
		Replayed:           c.replayed.Load(),
		Gaps:               c.gaps.Load(),
		SeamSkipped:        c.seamSkipped.Load(),
		HistoryErrors:      c.historyErrs.Load(),
		HistoryReads:       c.historyReads.Load(),
		HistoryJoins:       c.historyJoins.Load(),
		InboxFrames:        c.inboxFrames.Load(),
		MutedByPrefs:       c.mutedByPrefs.Load(),
		Acks:               c.acks.Load(),
		InboxErrors:        c.inboxErrs.Load(),
		Recounts:           c.recounts.Load(),
		Disconnects:        make(map[DisconnectReason]uint64, len(c.disconnects)),
		HandshakeAccepted:  c.admitted.Snapshot(),
		HandshakeRefused:   c.refused.Snapshot(),
		SpaceMessages:      c.spaceMessages.Load(),
		SpaceMalformed:     c.spaceMalformed.Load(),
		Commands:           c.commands.Load(),
		CommandErrors:      c.commandErrs.Load(),
		SpaceErrors:        c.spaceErrs.Load(),
		SSEAccepted:        c.sseAccepted.Load(),
	}
	for r, n := range c.rejected {
		s.Rejected[r] = n.Load()
	}
	for r, n := range c.disconnects {
		s.Disconnects[r] = n.Load()
	}
	return s
}
