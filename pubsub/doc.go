// Package pubsub connects notifyd to Redis: it publishes messages, subscribes
// to the channel every gateway listens on, and keeps the per-site history the
// REST API serves. It uses one redis.UniversalClient given by the caller, so
// a single server, Sentinel or Cluster all work.
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
//     appends it to the History and then PUBLISHes it.
//   - Subscriber is run by every gateway. It reads the channel and hands each
//     valid message, with its push form (no target) encoded once, to a Sink,
//     then stores it in the History. Messages published without an id (bare
//     PUBLISHes from PyAMS) get message.DeriveID of their bytes, the same on
//     every gateway, so the History still stores them once.
//   - Broker bundles the three around one client and one Config.
//
// # Concurrency
//
// History and Publisher are safe for concurrent use and start no goroutine.
// NewSubscriber starts none either; Subscriber.Run owns three goroutines and
// joins them before it returns:
//
//   - the read loop owns the redis.PubSub. It only receives: each payload is
//     put on a bounded queue without blocking (full queue: drop, counted as
//     DropQueueFull). It sends a PING after HealthCheckInterval without
//     traffic and replaces a connection that does not answer within another
//     interval; on errors it marks the subscriber not ready and backs off
//     (jittered, exponential) while go-redis reconnects and resubscribes.
//   - the dispatcher decodes, derives ids, resolves targets, validates,
//     encodes and calls Sink.Deliver, one message at a time, then queues the
//     stored form for the writer without blocking (DropHistoryQueueFull).
//   - the history writer stores queued entries in batches, one round trip per
//     batch, retrying a failed batch with backoff (storage is idempotent).
//
// When Run's context ends the PubSub is closed, and the dispatcher and the
// writer finish what is queued for at most FlushTimeout (the dispatcher still
// calls Sink.Deliver meanwhile). One wait is outside FlushTimeout: go-redis
// holds the PubSub's lock while it dials, so a reconnect in progress when Run
// stops delays the close by up to the client's dial and read timeouts.
// Ready and Stats may be called from any goroutine. Every drop is counted under a DropReason and
// logged at Warn level, rate-limited; a dropped payload is never logged in
// full.
package pubsub
