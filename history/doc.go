// Package history is the per-site history of notifyd in Redis: the list of
// a site's recent messages, newest first, that the REST API serves, the
// websocket gateway replays (?since=) and the subscribers' gap fills read.
// It uses one redis.UniversalClient given by the caller, so a single
// server, Sentinel or Cluster all work.
//
// # Keys and storage
//
// A site's list is "<Key>::<host>" (PyAMS's key, host lower-cased), holding
// each message's stored form (with target), trimmed to Length entries.
// One Lua script checks a per-id "seen" key, and when it is absent sets it
// (kept DedupWindow, holding the message's timestamp), LPUSHes and LTRIMs,
// so a message is stored exactly once however many gateways, publishers or
// retries append it. The seen key "{<list key>}:seen:<id>" carries the list
// key as hash tag and so lives in the list's Cluster slot: the script's
// keys are always in one slot. AppendPublish runs the same script with a
// channel: it also PUBLISHes the stored form, in the same atomic step, only
// when it stores it; so a site's list holds its messages in the order every
// subscriber receives them (the ?since= cursor, a position in that list,
// depends on it), and a duplicate is neither stored nor published again.
// Redis does not roll a script back, so a failed LPUSH or PUBLISH is undone
// by hand and its error returned: a retry cannot mistake a failure for a
// stored duplicate.
//
// # Idempotent publishing
//
// AppendPublishOnce is AppendPublish that reports the first answer (the
// id and timestamp the message was stored with) to a duplicate, and takes
// an optional idempotency key. The key is remembered for IdempotencyWindow
// (a day by default) in "{<list key>}:idem:<base64url SHA-256 of the key>"
// (the site's slot again), holding the first answer and the message's
// fingerprint; the same script checks it first, and sets it only after the
// message was stored and published, so a retry with the key gets the first
// answer (Result.Replayed), a retry after a failure stores the message,
// and a key used for another message fails with ErrIdempotencyConflict.
// Without a key, a retry with the same id gets the first answer for
// DedupWindow (10 minutes by default).
//
// AppendBatch runs the script for many entries in one pipelined round trip
// and reports each entry's outcome (*BatchError, EntryError). With the
// inbox on it runs one script per site for up to 128 of its entries
// (storeBatchLua: each entry decided as the one-entry script does and
// published in order; one call per key it touches, so that Redis's work per
// message is a PUBLISH and the body's HSET and PEXPIRE). An entry whose
// index or list refuses it (a key overwritten with another type) gets that
// error alone; a run aborted by an error it does not guard is stored again
// entry by entry (see storeBatchLua for what such a run leaves). IsPermanent
// tells the failures a retry cannot fix (an invalid entry, WRONGTYPE, a
// script error) from those it may (unreachable or read-only Redis, OOM,
// NOREPLICAS, ...).
//
// List and ListMany decode what they read: entries that do not decode are
// skipped and counted; entries without an id, such as those PyAMS's own
// server writes, get message.DeriveID of their bytes, so every reader
// agrees on their id.
//
// # The inbox
//
// With Config.DeliveryChannel set, the append script is the intake store
// of every user's own inbox (storeLua; the decision to store is the same:
// idempotency key, seen key, or the message's body). There the body
// remembers the id (for as long as it is kept, at least DedupWindow), so
// a store sets no seen key: a body removed within DedupWindow of its store
// (trimmed out of every index) leaves one for the rest of the window, so a
// retry of the same id is a duplicate for DedupWindow at least, as without
// the inbox, and for as long as its body is kept. A message stored
// gets the next value of the site's seq "{L}:seq" (L the list key), its
// one place in the site's order; is LPUSHed on PyAMS's list as before; is
// published as "m <seq> <stored>" (Delivery, ParseDelivery) on the
// delivery channel, in the same script, so store order is delivery order
// whichever gateway or publisher stored it; and is kept once as a body
// hash "{L}:m:<id>" (seq, stored form, sender, category, principals)
// indexed once per target principal in "{L}:i:<principal>" (a sorted set
// by seq: one index per broadcast principal, never one entry per user),
// in the site log "{L}:l" (by seq, SiteSince) and the time index "{L}:t"
// (by store time, for age pruning). Each index keeps InboxLength entries;
// a body left in no index goes, and every store prunes up to 64 messages
// older than InboxTTL. Every key has the list key as hash tag: a site
// lives in one Cluster slot and no script crosses slots.
//
// Reads (Page, Count, After) and state changes (MarkRead, MarkUnread,
// MarkAllRead, MarkSeen, Ack) are one script each in the site's slot. A
// read merges the caller's principal indexes from its cursor and reads
// O(principals × page) entries, never the history. Read state per user
// is a read cursor plus explicit read and unread sets ("{L}:u:<user>",
// "{L}:ur:<user>", "{L}:uu:<user>"); preferences "{L}:pf:<user>". Ids
// given as cursors or marks count only when the caller could see them:
// an invisible id behaves as an unknown one. Update and Retract change
// the body (and the indexes, for Retract) and publish "u"/"x" deliveries;
// PyAMS's list keeps the form first stored.
//
// # Errors
//
// Redis failures match ErrUnavailable, unless the caller's context ended
// first (then they match its error only). Entries without an id, or with
// braces in their host, match message.ErrInvalid. A reused idempotency key
// matches ErrIdempotencyConflict. Inbox methods of a Store without a
// delivery channel match ErrNoInbox; unknown ids ErrNotFound; invalid
// arguments (limits, preferences, devices) message.ErrInvalid.
//
// # Concurrency
//
// A Store is safe for concurrent use and starts no goroutine. Its consumers
// (pubsub's Publisher and Subscriber, the REST API, the websocket replay)
// each declare the small interface they use.
package history
