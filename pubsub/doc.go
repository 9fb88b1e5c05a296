// Package pubsub connects notifyd to Redis pubsub: it publishes messages,
// subscribes to the channel every gateway listens on, fills the gaps a lost
// subscription leaves, and carries control orders (disconnecting a revoked
// principal) to every gateway. It uses one redis.UniversalClient given by
// the caller, so a single server, Sentinel or Cluster all work. The per-site
// history lives in package history; pubsub uses it through the interfaces
// it declares, PublisherHistory and SubscriberHistory (*history.Store
// satisfies both; cmd/notifyd wires it).
//
// # Roles
//
//   - Publisher is the Go API for backends: it completes a message (id,
//     timestamp, channel, status, target), validates it, encodes it once
//     and hands it to PublisherHistory.AppendPublishOnce, which stores and
//     PUBLISHes it in one atomic step (without a history: a plain PUBLISH).
//     So a site's list holds its messages in the order every subscriber
//     receives them, however many publishers run at once. Publishing is
//     idempotent: a retry with the same id (within the history's
//     DedupWindow) or the same idempotency key (PublishIdempotent, within
//     its IdempotencyWindow), on any gateway, stores and publishes nothing
//     and answers with the first id and timestamp.
//   - Subscriber is run by every gateway. It reads the data channel, stores
//     each valid message in the history and then hands it, with its push
//     form (no target) encoded once, to a Sink. Messages published without
//     an id (bare PUBLISHes from PyAMS) get message.DeriveID of their
//     bytes, the same on every gateway, so the history stores them once. On
//     the same connection it reads the control channel (ControlMessage) and
//     passes disconnect orders to the Sink when it is a ControlSink.
//   - Revocations records, one key per principal, when a principal was
//     revoked (auth.RevocationStore), and publishes the disconnect order.
//
// Redis failures match ErrUnavailable (history errors included, see
// Publisher.Publish); invalid messages match message.ErrInvalid or
// message.ErrTooLarge.
//
// # Concurrency
//
// Publisher and Revocations are safe for concurrent use and start no
// goroutine. NewSubscriber starts none either; Subscriber.Run owns three
// goroutines and joins them before it returns:
//
//   - the read loop (reader) owns the redis.PubSub, subscribed to the data
//     and the control channel, and only receives: each data payload goes on
//     a bounded queue without blocking (full: DropQueueFull; one slot is
//     kept for the gap-fill marker), each control payload on a small queue
//     of its own (ControlDropped). After HealthCheckInterval without traffic
//     it sends a PING and replaces a connection that does not answer within
//     another interval. On errors it marks the subscriber not ready, notes
//     when the subscription was lost and backs off (equal jitter, BackoffMin
//     to BackoffMax) while go-redis reconnects and resubscribes; when both
//     channels are confirmed again it calls OnSubscribed and requests a gap
//     fill.
//   - the dispatcher takes a payload and up to HistoryBatch-1 more already
//     queued; it decodes, derives ids, skips duplicates, resolves targets,
//     validates and encodes each, stores the batch in one round trip bounded
//     by StoreTimeout, then calls Sink.Deliver for each, in order. It also
//     runs gap fills and obeys control orders: the Sink's methods are only
//     called from this goroutine.
//   - the retry writer stores, later and in order, the entries the
//     dispatcher could not store before delivering them (see History
//     writes).
//
// When Run's context ends the PubSub is closed, and the dispatcher and the
// writer finish what is queued for at most FlushTimeout (storing and
// delivering, but running no gap fill; after FlushTimeout what is left is
// delivered without being stored). go-redis holds the PubSub's lock while it
// dials, so a reconnect in progress when Run stops delays the close by up to
// the client's dial and read timeouts. Ready and Stats may be called from
// any goroutine. Every drop is counted under a DropReason and logged at Warn
// level, rate-limited; a dropped payload is never logged in full.
//
// # History writes
//
// A message is stored before it is delivered: otherwise a client whose
// websocket registers just after the delivery, and then reads the history
// for its ?since= catch-up before the write, would get it neither live nor
// in its replay. A message already stored (by its Publisher or another
// gateway) comes back as a duplicate, which is fine.
//
// Liveness comes first: when the write fails with a retryable error (see
// history.IsPermanent) or takes longer than StoreTimeout, the batch is
// delivered all the same and the entries not stored go to the retry writer
// (HistoryDeferred), and so does every later entry of a site while the site
// has entries there, so a site's entries are stored in the order they were
// read, while other sites go on being stored before delivery. Until then a
// client of such a site that reconnects with ?since= may miss them.
// Permanent errors drop the entry (DropHistoryRejected); the message is
// still delivered.
//
// The retry writer keeps a queue per site and stores in rounds of one round
// trip of up to HistoryBatch entries: the oldest entry of every waiting site
// (in rotation), plus the next entries of the sites whose last attempt
// succeeded; a site whose last attempt failed sends its oldest entry alone.
// A round that stored something is followed at once by the next, one that
// stored nothing by a backoff shared by all sites. The queues are bounded:
// a site keeps at most its list's length (DropHistorySuperseded), all sites
// together HistoryRetryQueueSize (DropHistoryRetryQueueFull), and at most
// HistoryQueueSize entries wait to be taken (DropHistoryQueueFull); what is
// left at shutdown is dropped (DropHistoryShutdown). Stats().HistoryPending
// counts the entries handed over and not yet settled.
//
// Limits: within one round trip Redis may refuse an entry and store a later
// one of the same site (a transient error that clears between the two), and
// a bare PUBLISH is stored after its PUBLISH, so a Publisher's message for
// the same site in between may land in the list in the opposite order to
// the channel's. Sites fed only by Publishers, or only by bare PUBLISHes
// to one Redis node, keep the channel's order.
//
// # Duplicates and gap fill
//
// The dispatcher remembers the last RecentIDs ids it delivered and skips a
// payload whose id is among them (Stats().Duplicates). It also remembers,
// for up to GapFillSites sites, the last id it dispatched. After every
// resubscription (not the first subscription) the read loop queues a
// gap-fill marker behind the payloads already queued; when the dispatcher
// reaches it, it reads (ListMany, 64 sites per round trip) the history of
// every site it remembers, every site the Sink reports (SiteLister) and
// every site a failed fill left, and delivers, oldest first, the messages
// not delivered recently that come after the site's last id, or whose ULID
// time is after the loss minus GapFillMargin (when the last id is gone).
// Filled messages are validated, not resolved and not stored again. A
// history that cannot be read is retried with backoff (GapFillErrors).
//
// A gap fill only finds what reached a history and is still there (a bare
// PUBLISH while no gateway was subscribed is lost; more than the list's
// length since the loss loses the oldest); the time fallback trusts
// producers' clocks within GapFillMargin; sites neither remembered nor
// reported are not filled; duplicates are suppressed only within RecentIDs.
// Filled messages come after those queued before the loss and before those
// read after the resubscription (except for a site retried after a failed
// read). Clients that reconnect their websocket catch up on their own
// (?since=); gap fill is for the websockets that stayed open.
//
// # Redis Cluster
//
// Revocations use one key per command. The subscriber's one connection
// hears both channels because a classic PUBLISH reaches every node of a
// cluster, including the one the history's script makes on the master of
// the site's list; each node forwards its PUBLISHes in order and a site's
// list lives on one master, so every subscriber receives a site's messages
// in the list's order.
package pubsub
