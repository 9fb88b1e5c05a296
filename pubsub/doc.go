// Package pubsub connects notifyd to Redis: it publishes messages, subscribes
// to the channel every gateway listens on, keeps the per-site history the
// REST API serves, fills the gaps a lost subscription leaves, and carries
// control orders (disconnecting a revoked principal) to every gateway. It
// uses one redis.UniversalClient given by the caller, so a single server,
// Sentinel or Cluster all work.
//
// # Roles
//
//   - History stores each message's stored form (with target) in the list
//     "<key>::<host>" (PyAMS's key), newest first, trimmed to a length. One Lua
//     script does SET NX of a per-id "seen" key, LPUSH and LTRIM, so a message
//     is stored exactly once however many gateways or retries append it. The
//     seen key "{<list key>}:seen:<id>" carries the list key as hash tag and
//     so lives in the list's Cluster slot.
//   - Publisher is the Go API for backends: it completes a message (id,
//     timestamp, channel, status, target), validates it, encodes it once,
//     and runs the History's script with the channel: the script stores the
//     message and PUBLISHes it in one atomic step (a duplicate id is
//     neither stored nor published again). So a site's list holds its
//     messages in the order every subscriber receives them, however many
//     publishers run at once: the ?since= cursor of the websocket gateway,
//     a position in that list, depends on it.
//   - Subscriber is run by every gateway. It reads the data channel, stores
//     each valid message in the History and then hands it, with its push
//     form (no target) encoded once, to a Sink: a message is in the history
//     before any websocket receives it (see History writes). Messages
//     published without an id (bare PUBLISHes from PyAMS) get
//     message.DeriveID of their bytes, the same on every gateway, so the
//     History still stores them once; those a Publisher sent are found
//     already stored. On the same connection it reads the control channel
//     (ControlMessage) and passes disconnect orders to the Sink when it is a
//     ControlSink.
//   - Revocations records, one key per principal, when a principal was
//     revoked (auth.RevocationStore), and publishes the disconnect order.
//   - Broker bundles them around one client and one Config.
//
// # Duplicates and gap fill
//
// The subscriber remembers the ids it handed to the Sink most recently
// (RecentIDs, oldest forgotten first) and skips a payload whose id is among
// them (Stats().Duplicates): the same payload published twice, or a live copy
// of a message a gap fill delivered, reaches the Sink once.
//
// It also remembers, for up to GapFillSites sites, the id of the last message
// it dispatched, and the read loop notes when the subscription was lost (the
// last time the connection delivered anything: a message, a confirmation or
// a PONG). After every resubscription (not the first subscription), whether
// the connection broke, Redis restarted, failed over, or killed the
// subscriber (CLIENT KILL, client-output-buffer-limit pubsub), the read loop
// queues a gap-fill marker behind the payloads already queued. When the
// dispatcher reaches it, it reads the history of every site it remembers,
// every site the Sink reports live connections on (SiteLister) and every
// site a failed fill left over, and delivers, oldest first, the messages it
// has not dispatched recently that either come after the site's last
// dispatched id in the list, or carry a ULID whose time is after the loss
// minus GapFillMargin (the fallback when the last id was trimmed away, never
// stored, or the site is new to this gateway). Filled messages are validated
// but not resolved (stored copies carry their target) and not stored again.
// A history that cannot be read is retried with backoff (GapFillErrors).
//
// What a gap fill cannot do:
//
//   - It only finds what reached a history. A message published with a bare
//     PUBLISH while no gateway at all was subscribed was stored by nobody and
//     is lost; one published through a Publisher (or the REST API) was
//     stored as it was published and is filled.
//   - It only finds what the history still holds when the dispatcher reaches
//     the marker: a site that received more than the history length
//     (NotificationsLength, 50 by default) since the loss, counting what was
//     published while the queue before the marker drained, loses the oldest.
//     A non-persistent Redis that restarted lost its history, so only what
//     was published after the restart can be filled.
//   - The time fallback trusts producers' clocks: ids made by a clock behind
//     the gateway's by more than GapFillMargin, or derived from old
//     timestamps, are missed when the last id is gone; ids that are not
//     ULIDs are never selected by time.
//   - Sites neither remembered (GapFillSites) nor reported by the Sink are
//     not filled.
//   - Order: filled messages come after those queued before the loss and
//     before those read after the resubscription, except a site retried
//     after a failed read, whose filled messages come after newer live ones.
//   - Duplicates are suppressed only within the last RecentIDs dispatched ids.
//   - A gap fill runs one LRANGE per site (pipelined, 64 sites per round
//     trip) on the dispatcher goroutine: live delivery waits meanwhile (the
//     queue buffers), and every gateway does it after a shared outage.
//
// Clients that reconnect their websocket catch up on their own (?since=);
// gap fill is for the websockets that stayed open while the gateway lost Redis.
//
// # Concurrency
//
// History, Publisher and Revocations are safe for concurrent use and start
// no goroutine. NewSubscriber starts none either; Subscriber.Run owns three
// goroutines and joins them before it returns:
//
//   - the read loop owns the redis.PubSub, subscribed to the data and the
//     control channel. It only receives: each data payload is put on a
//     bounded queue without blocking (full queue: drop, counted as
//     DropQueueFull; the queue keeps one slot for the gap-fill marker, so
//     the marker is never dropped), each control payload on a small queue of
//     its own (ControlDropped). It sends a PING after HealthCheckInterval
//     without traffic and replaces a connection that does not answer within
//     another interval; on errors it marks the subscriber not ready, notes
//     when the subscription was lost, and backs off (jittered, exponential)
//     while go-redis reconnects and resubscribes. When both channels are
//     confirmed again it requests a gap fill.
//   - the dispatcher works in batches: it takes a payload (waiting for
//     one) and up to HistoryBatch-1 more that are already queued; it
//     decodes, derives ids, skips duplicates, resolves targets, validates
//     and encodes each, stores the batch in the History in one round trip
//     bounded by StoreTimeout, then calls Sink.Deliver for each, in order
//     (see History writes below). It also runs gap fills (reading
//     histories) and obeys control orders (ControlSink.Disconnect): the
//     Sink's methods are only ever called from this goroutine. It alone
//     owns the recent ids and the per-site last ids.
//   - the history retry writer stores, later and in order, the entries the
//     dispatcher could not store before delivering them, which it hands
//     over without blocking (DropHistoryQueueFull).
//
// When Run's context ends the PubSub is closed, and the dispatcher and the
// writer finish what is queued for at most FlushTimeout (the dispatcher
// still stores and calls Sink.Deliver meanwhile, but runs no gap fill; once
// FlushTimeout ends it delivers what is left without storing it). One wait
// is outside FlushTimeout: go-redis holds the PubSub's lock while it dials,
// so a reconnect in progress when Run stops delays the close by up to the
// client's dial and read timeouts. Ready and Stats may be called from any goroutine.
// Every drop is counted under a DropReason and logged at Warn level,
// rate-limited; a dropped payload is never logged in full.
//
// # History writes
//
// A message is stored before it is delivered. Otherwise a client whose
// websocket registers just after the delivery, and then reads the history
// for its ?since= catch-up before the write, would get the message neither
// live nor in its replay. The dispatcher stores each batch with
// History.AppendBatch, one pipelined round trip of the append script per
// batch (not per message); a message already stored (by the Publisher that
// sent it, or by another gateway) comes back as a duplicate, which is fine.
// Then it delivers the batch in the order it was read. The store costs the
// batch one round trip of latency; under load batches grow (up to
// HistoryBatch), so the cost per message shrinks.
//
// Liveness comes first: when the write fails with a retryable error (Redis
// unreachable, a dead Cluster shard, READONLY, NOREPLICAS, OOM, NOPERM...)
// or does not complete within StoreTimeout, the batch is delivered all the
// same, and the entries that were not stored are handed to the retry writer
// (HistoryDeferred). So is every later entry of a site while the site has
// entries with the retry writer, without being sent by the dispatcher: a
// site's entries are stored in the order the dispatcher read them, and the
// other sites' entries go on being stored (before delivery) meanwhile, so a
// dead Cluster master holds back only its own sites. Until its entries are
// stored, a client of such a site that reconnects with ?since= may miss
// them. Storage is idempotent, so an entry whose write failed or timed out
// but reached Redis is not stored twice. Errors Redis will repeat
// (WRONGTYPE, script errors, invalid entries) drop the entry
// (DropHistoryRejected) instead of retrying it; the message is delivered.
//
// The retry writer keeps a queue per site and stores them in rounds of one
// round trip of up to HistoryBatch entries: the oldest entry of every
// waiting site (in rotation, when more sites wait than a round holds), plus
// the next entries of the sites whose last attempt succeeded; a site whose
// last attempt failed sends its oldest entry alone. A round that stored
// something is followed at once by the next; one that stored nothing by a
// jittered exponential backoff (BackoffMin to BackoffMax) shared by all
// sites, so that however many sites wait, the writer spends one round trip
// per delay on them; it is reset when nothing waits any more. Its rounds
// have no StoreTimeout: nothing waits for them. Stats().HistoryPending is
// the number of entries handed to it and not yet stored or dropped.
//
// The retry queues are bounded: a site keeps at most as many entries as its
// history list (HistoryConfig.Length), discarding its oldest, which would be
// trimmed anyway (DropHistorySuperseded); all sites together keep at most
// HistoryRetryQueueSize, the site of a new entry discarding its oldest
// (DropHistoryRetryQueueFull), or, when it has none, the new entry; and at
// most HistoryQueueSize entries wait to be taken by the writer while it is
// busy (DropHistoryQueueFull). On shutdown the writer keeps storing until
// everything is stored or FlushTimeout ends; what is left is dropped
// (DropHistoryShutdown).
//
// Limits: order within a site holds across retries, but within one round
// trip Redis may refuse an entry and store a later one of the same site (a
// transient error such as OOM that clears between the two commands); the
// later one then stays ahead. Storing before delivering puts a bare PUBLISH
// in the history before any delivery, but after its PUBLISH: when a
// Publisher publishes a message for the same site in between (while the
// bare one is read and stored, about one round trip), the list holds the
// two in the opposite order to the channel's, so a client whose ?since=
// cursor is one of them may get the other twice, or miss it. Sites fed only
// by Publishers keep the channel's order, and so do sites fed only by bare
// PUBLISHes sent to one Redis node. A round trip to a dead
// node costs the dispatcher up to StoreTimeout for the first batch that
// meets it (later entries of its sites go straight to the retry writer);
// the read loop's queue buffers meanwhile.
//
// # Redis Cluster
//
// Every script keeps its keys in one slot; revocations use one key per
// command. The subscriber's one connection hears both channels because a
// classic PUBLISH reaches every node of a cluster, including the PUBLISH the
// Publisher's script makes on the master of the site's list. Each node
// forwards its PUBLISHes over the cluster bus in the order it made them, and
// a site's list lives on one master, so a subscriber on any node receives a
// site's messages in the list's order.
package pubsub
