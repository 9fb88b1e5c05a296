// Package api is notifyd's HTTP edge: a chi router serving PyAMS chat's REST
// endpoints, a publishing endpoint for backends, health and monitoring
// endpoints, and the websocket handler mounted at /ws/chat.
//
// # Routes
//
//	GET    /api/chat/context            user JWT (Bearer) required
//	GET    /api/chat/notifications      user JWT (Bearer) required
//	POST   /api/chat/messages           publisher token (Bearer) required
//	PATCH  /api/chat/messages/{id}      publisher token (Config.Editor)
//	DELETE /api/chat/messages/{id}      publisher token (Config.Editor)
//	POST   /api/admin/disconnect        publisher token (Bearer) required
//	GET    /api/inbox                   user JWT (Config.Inbox, as every /api/inbox route)
//	GET    /api/inbox/count             user JWT
//	POST   /api/inbox/read              user JWT
//	POST   /api/inbox/unread            user JWT
//	POST   /api/inbox/seen              user JWT
//	GET    /api/inbox/preferences       user JWT
//	PUT    /api/inbox/preferences       user JWT
//	GET /healthz  GET /readyz  GET /monitor  ANY /chat-ping  GET /ws/chat
//	GET    /api/openapi.json            none: the OpenAPI 3.1 document (OpenAPI)
//
// openapi.json, embedded as OpenAPI, describes every route, its auth, its
// answers and its errors; tests keep it equal to the router and validate
// real responses against it, so a change of a route changes it too.
//
// Every /api/* route but /api/openapi.json checks the request's Origin against the site policy
// (403 when refused) and answers allowed browsers with CORS headers and
// OPTIONS preflights.
//
// # JSON shapes
//
// GET /api/chat/context (PyAMS's shape; "*" lists the categories that have a
// handler, sorted):
//
//	{"status":"success",
//	 "principal":{"id":"users:jdoe","title":"John Doe",
//	              "principals":["users:jdoe","system.Everyone","system.Authenticated","group:editors"]},
//	 "context":{"*":["content.review","user.login"]}}
//
// GET /api/chat/notifications?since=<id>&limit=<n> (PyAMS's timestamp and
// notifications, newest first, never with target; plus gap and more):
//
//	{"timestamp":"2025-01-18T17:21:00.000000+00:00",
//	 "notifications":[{"host":"https://example.com","channel":"chat:main","action":"notify",
//	   "category":"user.login","status":"info","title":"User login","message":"jdoe logged in...",
//	   "image":null,"source":{"id":"users:jdoe","title":"John Doe"},"url":null,"modal":false,
//	   "timestamp":"2025-01-18T17:20:54.123456+00:00","id":"01JHWX2X3B0000000000000000"}],
//	 "gap":false,"more":false}
//
// The site is the Origin header, else the host parameter, else the default
// site; one longer than an origin can be (267 bytes) is refused with 400. since is the id of the newest message the client has. gap is the REST
// side of the catch-up guarantee (the websocket's ?since= sends the control
// frame {"action":"gap",...} in the same case): true when since is not among
// the kept messages the caller may see (trimmed, never stored, or hidden from
// the caller: a hidden id is answered exactly as an unknown one, so the
// answer never confirms that it exists), so messages may have been missed
// and the client should reload without since; the answer then holds
// everything still kept that the caller may see (within limit). Without
// since, limit=N returns the newest N; with since, the N oldest messages
// newer than since, so that calling again with since=<first id of the
// answer> pages forward until more=false.
//
// With Config.Inbox, GET /api/chat/notifications reads the caller's own
// inbox (below) instead of the site's list, in the same shape, so it
// returns the caller's notifications however busy the site is, as far
// back as the inbox keeps them: without limit the newest
// history.DefaultPage (50, PyAMS's list length), and limit is served up
// to history.MaxPage (200) per answer (more=true when there are more).
// An unknown since gives gap=true and the newest entries.
//
// # The inbox
//
// Every user has an inbox per site: the messages stored for one of the
// token's principals, never those the user sent (source.id = the token's
// sub), never retracted ones, each with its read state; read state and
// preferences belong to the token's sub. Messages are sent in their push
// form (no target, nor the extra keys a rule read to compute it) with
// "read" added. The site is found as for /api/chat/notifications.
//
// GET /api/inbox?limit=&before=<id>&after=<id>&unread=true&category=<c>
// (limit 1..200, default 50; before and after exclude each other):
//
//	{"notifications":[{"host":"https://example.com",…,"id":"01JHWX…","read":false}],
//	 "unread":3,"unseen":1,"next":"01JHWX…","gap":false}
//
// The list is newest first; next (null when there is none) is the before
// of the following page. With after=<id>, the entries stored after it,
// oldest first, next being the after of the following page; gap=true when
// that id is no longer kept (or was never visible to the caller: the two
// are never told apart), and the answer then holds the newest entries,
// oldest first: reload without after. Order is store order, never the
// producers' clocks. unread=true keeps unread entries, category=<c> that
// category. A before that is not kept (or not visible) is 404.
//
// GET /api/inbox/count answers {"unread":N,"unseen":M}, one cheap read for
// badges: unread counts visible entries that are neither read nor muted,
// among the newest 1000; unseen those of them stored after the seen
// cursor.
//
// POST /api/inbox/read {"ids":["<id>",…]} or {"all":true}, POST
// /api/inbox/unread {"ids":[…]} (1 to Config.MaxInboxIDs ids, 100 by
// default) and POST /api/inbox/seen {"until":"<id>"} (everything stored up
// to that id is seen) change the caller's state and answer the new
// {"unread":N,"unseen":M}. Ids that are not kept or not visible to the
// caller are ignored.
//
// GET /api/inbox/preferences answers {"muted":["content.review","site.*"]};
// PUT with the same shape replaces them (at most MaxMutedCategories
// entries, each an exact category or a prefix followed by ".*", without
// white space, at most MaxCategoryBytes bytes; duplicates dropped) and
// answers what is kept. Muted entries are still stored and listed, but
// never counted and never pushed live.
//
// After every change of counts or preferences the new figures are
// announced (Config.InboxEvents) so that every open connection of the user
// on every gateway updates its badge; an announcement that fails is
// logged and the request still succeeds.
//
// # Update and retract
//
// PATCH /api/chat/messages/{id} takes the members to change: title,
// message, status, url, image (null clears them), modal, and extra keys
// (null removes one). host, channel, id, source, target, category, action
// and timestamp cannot be changed (400 naming the field), nor an extra key
// that is part of the target. The message must still be valid as a
// publish. The site is the body's "host" (which names the site, it does
// not change it), else the host parameter (both: they must agree), else
// the default site. It answers 200 with the message's new push form; the
// change reaches inboxes, REST, replay and open connections. DELETE
// /api/chat/messages/{id}?host=<site> retracts the message from every
// inbox and answers {"status":"success","id":"<id>"}. Both answer 404
// {"status":"error","message":"no such message"} for an id not kept on
// the site (or already retracted), and share the publish rate bucket.
// PyAMS's list keeps the form first stored.
//
// POST /api/chat/messages takes one message in PyAMS JSON; the publisher fills
// id, timestamp, channel, status and target when they are missing:
//
//	{"host":"https://example.com","action":"notify","category":"user.login",
//	 "title":"User login","message":"jdoe logged in...","source":{"id":"users:jdoe","title":"John Doe"}}
//
// and answers 202:
//
//	{"status":"success","id":"01JHWX2X3B0000000000000000","timestamp":"2025-01-18T17:20:54.123456+00:00"}
//
// Publishing is idempotent, on every gateway: a request with an
// Idempotency-Key header (1 to MaxIdempotencyKeyBytes printable ASCII
// characters; otherwise 400) that the same publisher token already sent
// for the same site within the history's IdempotencyWindow (a day by
// default), or a message whose "id" was already stored within the
// history's DedupWindow (10 minutes by default), is neither stored nor
// published again: the answer is 202 with the first request's id and
// timestamp and the header Idempotent-Replayed: true. Keys are scoped by a
// hash of the publisher token, so two publishers never share one. The same
// key with a different message (other than its id and timestamp) is
// answered 422 and nothing is stored. A request that failed (503) stored
// nothing, so its retry with the same key stores the message once.
//
// POST /api/admin/disconnect {"principal":"users:jdoe"} revokes every token
// issued to the principal until now and closes its websockets on every
// gateway (Config.Revoker). The body is a JSON object with that one member
// (unknown members are refused, naming the field); the principal is a
// non-empty string of at most MaxPrincipalBytes bytes without control
// characters. It answers 200 with the revocation time, RFC 3339 in UTC:
//
//	{"status":"success","principal":"users:jdoe","revoked_at":"2025-01-18T17:21:00.123456789Z"}
//
// Health: /healthz {"status":"OK"}; /readyz {"status":"ready"} or 503
// {"status":"error","message":"not ready"}; /monitor
// {"status":"OK","sessions_count":3,"server":"notifyd/1.0.0"}; /chat-ping PONG.
//
// Every error is {"status":"error","message":"..."}, plus "field" for an
// invalid message:
//
//	{"status":"error","message":"message: field \"title\" is required","field":"title"}
//
// Errors are mapped to status codes in one place (errors.go); internal detail
// is logged with the request id and never sent.
//
// # Authentication and limits
//
// User tokens refused by the Authenticator (missing, invalid, expired, or
// revoked by /api/admin/disconnect) get 401 with a WWW-Authenticate challenge;
// when it cannot decide (the revocation list is unreadable:
// auth.ErrUnavailable) the answer is 503, never a guess.
//
// Each publisher token may make Config.PublishRate requests per second
// (burst Config.PublishBurst; defaults 100/s and 200) to POST
// /api/chat/messages, and, from a bucket of its own so that a publish flood
// never delays a revocation, Config.AdminRate requests per second (burst
// Config.AdminBurst; defaults 100/s and 200) to POST /api/admin/disconnect.
// Each authenticated principal may make Config.RESTRate requests per second
// (burst Config.RESTBurst; defaults 20/s and 40) to GET /api/chat/context,
// GET /api/chat/notifications and the /api/inbox routes together, whatever
// token it uses; PATCH and DELETE /api/chat/messages/{id} spend the publish
// bucket. Bodies of the /api/inbox routes are bounded by MaxInboxBodyBytes,
// PATCH bodies by Config.MaxBodyBytes (413 beyond). Beyond a
// limit the answer is 429 {"status":"error","message":"rate limit exceeded"}
// with Retry-After. Limits are checked after the caller is authenticated, so
// refused callers get 401/403 and cannot spend anyone's allowance. Buckets
// are keyed by a hash of the token or principal, never the value itself.
//
// # Metrics
//
// With Config.Recorder set, every answered request is recorded after its
// handler (the first middleware) by route pattern (RouteOther when none
// matched: never a raw path), method (MethodOther beyond the standard ones),
// status and duration, and each POST /api/chat/messages by PublishOutcome,
// named from its status. The websocket route is not recorded. Recorder.Stats
// returns them; cmd/notifyd exposes them to Prometheus.
//
// # Concurrency
//
// New starts no goroutine. The returned handler is safe for concurrent use;
// its only mutable state is the rate limiters and the Recorder, which guard themselves,
// and it calls the Config's collaborators (Authenticator, Publisher, Revoker,
// History, Inbox, InboxEvents, Editor, Categories, Ready, Sessions, Now)
// concurrently, so they must be safe for concurrent use.
package api
