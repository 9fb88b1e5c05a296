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
//     form (no target) encoded once, to a Sink (with a DeliveryChannel it
//     hands over what arrives there instead: see The inbox pipeline). Messages published without
//     an id (bare PUBLISHes from PyAMS) get message.DeriveID of their
//     bytes, the same on every gateway, so the history stores them once. On
//     the same connection it reads the control channel (ControlMessage) and
//     passes disconnect orders to the Sink when it is a ControlSink.
//   - Revocations records, one key per principal, when a principal was
//     revoked (auth.RevocationStore), and publishes the disconnect order.
//   - Announcer publishes, on the control channel, a user's new inbox
//     counts or preferences on a site, for every gateway's InboxSink.
//
// # The inbox pipeline (DeliveryChannel)
//
// With SubscriberConfig.DeliveryChannel set (and the history configured
// with the same history.Config.DeliveryChannel), the data channel is the
// intake only: every gateway reads it, decodes, derives ids, resolves,
// validates and stores each message (AppendBatch), and the one store that
// wins, exactly once whatever the number of gateways, publishes the stored
// message on the delivery channel in the same script ("<kind> <seq>
// <stored>", history.ParseDelivery). Gateways deliver only what arrives on
// the delivery channel: each delivery's stored form is decoded once (not
// at all when it is byte for byte the stored form of an intake message this
// dispatcher prepared and has not seen delivered yet: that message is
// delivered as prepared, Stats().DeliveriesReused) and its push form
// encoded once, then passed to Sink.Deliver (a message; to a
// BatchSink's DeliverDeferred, with an EndBatch after each batch of the
// dispatcher and before any update, retract or control message), or to
// the ChangeSink's DeliverUpdate or DeliverRetract (an update or a retract,
// published by history Update and Retract; ignored when the Sink is not a
// ChangeSink). A Publisher with PublisherConfig.DeliveryChannel stores
// through the same script and publishes nothing on the intake. So a site's
// messages reach every gateway in the order the site stored them (its seq),
// whether they were bare PUBLISHes or API publishes: every cursor (since,
// after, device, seen) can follow that order.
//
// Nothing of the intake is delivered before it is stored, and nothing is
// delivered when it is not: an intake message whose store fails is retried
// by the retry writer (see History writes) and delivered when that store
// publishes its delivery. The dispatcher still skips a delivery whose id it
// delivered recently (RecentIDs), and remembers each site's last delivered
// seq for gap fills.
//
// Control messages {"action":"inbox","host","user","unread","unseen"} and
// {"action":"prefs","host","user","muted":[...]} go to a Sink implementing
// InboxSink (InboxChanged, PrefsChanged). Everything read on the control
// channel is bounded (32 KiB a payload, principals and users as message
// principals, hosts 1024 bytes, counts in [0, 2^30], at most MaxMuted
// muted categories of MaxMutedLength bytes); a payload out of bounds is
// counted (ControlMalformed) and ignored. Malformed deliveries are counted
// under DropDeliveryMalformed.
//
// Redis failures match ErrUnavailable (history errors included, see
// Publisher.Publish); invalid messages match message.ErrInvalid or
// message.ErrTooLarge.
//
// # Concurrency
//
// Publisher and Revocations are safe for concurrent use and start no
// goroutine. NewSubscriber starts none either; Subscriber.Run owns three
// goroutines (four with a DeliveryChannel) and joins them before it
// returns:
//
//   - the read loop (reader) owns the redis.PubSub, subscribed to the data,
//     the control and (when set) the delivery channel, and only receives:
//     each data or delivery payload goes, in the order read, on a queue
//     that grows on demand up to QueueSize payloads and QueueBytes bytes,
//     without blocking (beyond: DropQueueFull; a gap-fill marker always
//     fits), so that it keeps draining Redis through a burst; each control
//     payload goes on a small queue of its own (ControlDropped). After HealthCheckInterval without traffic
//     it sends a PING and replaces a connection that does not answer within
//     another interval. On errors it marks the subscriber not ready, notes
//     when the subscription was lost and backs off (equal jitter, BackoffMin
//     to BackoffMax) while go-redis reconnects and resubscribes; when every
//     channel is confirmed again it calls OnSubscribed and requests a gap
//     fill.
//   - the dispatcher takes a payload and up to HistoryBatch-1 more already
//     queued; it decodes, derives ids, skips duplicates, resolves targets,
//     validates and encodes each, stores the batch in one round trip bounded
//     by StoreTimeout, then calls Sink.Deliver for each, in order (with a
//     DeliveryChannel it delivers each delivery as it takes it, and hands
//     the intake batch to the storer without waiting for Redis). It also
//     runs gap fills and obeys control orders: the Sink's methods are only
//     called from this goroutine.
//   - with a DeliveryChannel, the storer stores the intake batches, in the
//     order the dispatcher prepared them, what queued during its last
//     round trip in the next one (AppendBatch, bounded by StoreTimeout), so
//     that deliveries never wait behind a store; when 64 batches wait, the
//     dispatcher waits for it. Failures go to the retry writer.
//   - the retry writer stores, later and in order, the entries the
//     dispatcher (or the storer) could not store (see History writes).
//
// When Run's context ends the PubSub is closed, and the dispatcher, the
// storer and the writer finish what is queued for at most FlushTimeout (storing and
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
// to one Redis node, keep the channel's order. A DeliveryChannel closes
// this: the delivery order is the store order, whatever the path.
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
// With a DeliveryChannel a gap fill follows the site's seq instead of ids
// and clocks: for every site whose last delivered seq it remembers (up to
// GapFillSites), it reads what the site stored after it (history
// SiteSince, oldest first, pages of GapFillPage until an empty one, at
// most GapFillMax messages per site) and delivers, in the site's order,
// what it has not delivered recently; the live stream then continues and
// the RecentIDs guard skips its copies of what the fill delivered. Nothing
// stored is missed, however late producers' clocks run; sites without a
// delivery since the subscriber started (those only the SiteLister
// reports) have no seq to start from and are not filled; a fill never
// reaches what retention dropped (history InboxTTL and Length) nor more
// than GapFillMax per site. Updates and retracts published during the
// outage are not filled.
//
// # Redis Cluster
//
// Revocations use one key per command. The subscriber's one connection
// hears every channel because a classic PUBLISH reaches every node of a
// cluster, including the one the history's script makes on the master of
// the site's list; each node forwards its PUBLISHes in order and a site's
// list lives on one master, so every subscriber receives a site's messages
// in the list's order. Deliveries are published by the script in the
// site's slot, so they too reach every subscriber in the site's seq order.
package pubsub
