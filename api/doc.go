// Package api is notifyd's HTTP edge: a chi router serving PyAMS chat's REST
// endpoints, a publishing endpoint for backends, health and monitoring
// endpoints, and the websocket handler mounted at /ws/chat.
//
// # Routes
//
//	GET  /api/chat/context        user JWT (Bearer) required
//	GET  /api/chat/notifications  user JWT (Bearer) required
//	POST /api/chat/messages       publisher token (Bearer) required
//	GET  /healthz  GET /readyz  GET /monitor  ANY /chat-ping  GET /ws/chat
//
// Every /api/* route checks the request's Origin against the site policy
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
// site. since is the id of the newest message the client has; gap=true says
// that id is no longer stored and the client should reload without since.
// Without since, limit=N returns the newest N; with since, the N oldest
// messages newer than since, so that calling again with since=<first id of
// the answer> pages forward until more=false.
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
// # Concurrency
//
// New starts no goroutine. The returned handler is safe for concurrent use;
// it holds no mutable state of its own and calls the Config's collaborators
// (Authenticator, Publisher, History, Categories, Ready, Sessions)
// concurrently, so they must be safe for concurrent use.
package api
