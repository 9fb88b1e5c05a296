// Package webhook is the outgoing webhooks of notifyd's chat spaces: a bot
// or backend registers a URL for the spaces of a site, and every new
// message of those spaces is POSTed to it, signed, retried for a bounded
// time, and delivered once however many gateways run.
//
// # Roles
//
// A Store (NewStore) keeps the registrations (Register, List, Delete,
// scoped to their owner) and queues deliveries (Enqueue, called by the
// space send path once per new message). A Dispatcher (NewDispatcher, Run)
// on each gateway delivers the queued jobs. Both use one
// redis.UniversalClient, so a single server, Sentinel or Cluster all work;
// every script and command touches the keys of one hash tag only.
//
// # Redis keys (K is Config.Key, "notifyd:webhooks" by default)
//
//   - "K:{<host>}:regs": hash, registration id -> JSON (secret included);
//   - "K:{<host>}:owner:<owner>": set of the owner's registration ids
//     (List, Delete and the MaxPerOwner bound use it);
//   - "{K}:jobs": the job stream, one entry per (event, registration):
//     fields h (host), r (registration id), s (space), e (message id),
//     t (enqueue time, Unix ms), b (the body to POST), and for a retry
//     d (the delivery id) and n (attempts made); consumer group
//     "dispatchers", one consumer per Dispatcher (removed by Run when it
//     returns holding no job, or by another dispatcher once it holds none
//     and was idle for ClaimIdle); capped at StreamLength (MAXLEN ~); an entry
//     is deleted when its attempt is settled;
//   - "{K}:retry": sorted set of the jobs waiting for a retry, by due time
//     (Unix ms); each member is the job's fields with its delivery id (d)
//     and attempt count (n);
//   - "{K}:seen:<hash of host and message id>": remembers an enqueued event
//     for DedupWindow, so a message enqueued twice (two gateways, a retried
//     send) is queued once.
//
// # Delivery semantics
//
// Each job is read by exactly one dispatcher of the group (XREADGROUP),
// which makes one attempt: it POSTs the body with the headers below. 2xx
// is delivered; 408, 429, 5xx and network errors are retried; 410 Gone
// gives up and removes the registration; any other answer (3xx included:
// redirects are not followed) gives up. Only the first 4 KiB of an
// answer's body are read. Delivered or given up, the job is acknowledged
// and deleted from the stream. To be retried, it is moved, in one script
// that first checks this dispatcher still holds it, from the stream to
// the retry set, due after an exponential backoff (BackoffMin to
// BackoffMax, Equal jitter; a Retry-After lengthens the wait up to
// BackoffMax); every dispatcher moves due jobs back to the stream (one
// script, so each moves once), where any dispatcher may take them. A
// retry that would fall later than MaxAge after Enqueue is given up
// instead. A job waiting for its retry holds no worker, and after a failed
// attempt the other jobs of the same registration are put back unattempted
// until that retry is due (a per-dispatcher breaker, Stats.Deferred), so
// an endpoint that is down or black-holed does not starve the others.
// There is no ordering guarantee between deliveries.
//
// A job held by a dispatcher that died (its process ended, or its Run
// context was cancelled mid-attempt) stays in the group's pending list and
// is taken over by another dispatcher (XAUTOCLAIM) once idle for
// ClaimIdle. A live dispatcher holds a job for one attempt only, at most
// Timeout, and ClaimIdle must exceed Timeout, so a job in progress is not
// taken over. A job keeps its delivery id and its MaxAge deadline across
// retries and takeovers.
//
// Delivery is therefore at least once with a stable delivery id, and once
// in normal operation across any number of gateways. A receiver sees a
// delivery twice only when a dispatcher dies (or loses Redis) after the
// receiver accepted the POST and before the acknowledgement, or stalls
// beyond ClaimIdle: receivers dedupe on X-Notifyd-Delivery. A backlog over
// StreamLength loses its oldest jobs (MAXLEN ~).
//
// # Requests
//
// Every POST carries Content-Type: application/json, User-Agent:
// notifyd-webhook, X-Notifyd-Event: message, X-Notifyd-Delivery (the first
// stream id of the job, the same on every attempt), X-Notifyd-Timestamp (Unix seconds
// of this attempt) and X-Notifyd-Signature: sha256=<hex
// HMAC-SHA256(secret, timestamp + "." + body)>. Receivers check them with
// Verify (or Sign, in any language: see its documentation).
//
// # Server-side request forgery
//
// Unless Config.AllowPrivate, Register refuses a URL whose host is, or
// resolves to, a loopback, private, link-local, unspecified, multicast,
// carrier-grade NAT or reserved address (Forbidden), and the dispatcher's
// dialer checks the address it is about to connect to, so a name that
// resolves elsewhere at delivery (DNS rebinding) is refused too
// (Stats.Refused; the delivery is given up). No proxy is used.
//
// # Concurrency
//
// Store and Dispatcher are safe for concurrent use; only Run starts
// goroutines (one reader, Config.Concurrency workers and one mover of due
// retries), and it returns once they have all stopped. The reader's
// blocking XREADGROUP (up to a second) holds one connection of the Redis
// client's pool. Stats and Backlog may be read at any time.
package webhook
