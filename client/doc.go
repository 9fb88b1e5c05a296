// Package client is notifyd's Go client: what a service, a bot or a tool
// that talks to notifyd should do, written once and tested against the real
// server. See Example for a complete listener and ExampleClient_Subscribe
// for a chat.
//
//	c, err := client.New(client.Config{
//		URL:       "wss://notify.example.com/ws/chat",
//		Origin:    "https://app.example.com",
//		Token:     func(ctx context.Context) (string, error) { return myToken(ctx, client.Refresh(ctx)) },
//		OnMessage: func(m *message.Message, raw []byte) { show(m) },
//	})
//	if err != nil { ... }
//	err = c.Run(ctx) // reconnects until ctx ends
//
// A Client dials GET /ws/chat with its token as Authorization: Bearer (not
// as PyAMS's subprotocol pair, which the gateway reserves for PyAMS's
// browser client), hands every notification to Config.OnMessage, and
// reconnects for ever with full-jitter exponential backoff until its
// context ends. It remembers the id of the last notification it received
// and reconnects with ?since=<id>, so the gateway replays what was missed; a
// bounded set of recent ids drops the duplicates a replay may overlap with.
// With Config.Device it also acks each notification once handled, so that
// a later run without Since resumes after it.
//
// # Listeners
//
// Every frame the gateway pushes goes to one listener of Config: OnMessage
// (notifications), OnInbox (badge counts), OnUpdate and OnRetract (changed
// and retracted messages), OnChat, OnTyping, OnReaction, OnActivity and
// OnMember (spaces), OnGap; plus OnConnect and OnDisconnect. They are fields
// rather than On... methods returning a remove func on purpose: they are
// fixed before Run, so none can miss the frames of a connection that opened
// before it was added, and the reader calls them without a lock. A listener
// that must come and go is Subscribe's callback, per space.
//
// # Commands and REST calls
//
// Subscribe, Unsubscribe, Send, React, Typing, Edit, Delete and Read are
// space commands on the socket: each carries a fresh rid, waits (bounded by
// its ctx) for a live connection, and returns the server's answer; an error
// answer is a *CommandError matching ErrNotFound, ErrForbidden, ErrInvalid,
// ErrRateLimited or ErrUnavailable with errors.Is, and a connection that
// ends first gives ErrConnectionLost. Subscriptions survive reconnects: a
// new connection subscribes again to every space before it goes live
// (before OnConnect and before any other command).
//
// Spaces, Space, CreateSpace, Direct, Messages, Post, AddMember,
// RemoveMember, Inbox, Count, MarkRead, MarkUnread, MarkAllRead, MarkSeen,
// Preferences and SetPreferences are REST calls on Config.API (by default
// the websocket's host over http(s)), with the same token, Origin and
// headers; a 401 asks Config.Token for a fresh token once. A failure is an
// *APIError with the status and the server's message, matching the same
// sentinels. They need no running connection.
//
// # How it reacts
//
// The close codes and control frames are those of package protocol.
//
//	event                                   reaction
//	{"action":"logout","status":"FORBIDDEN"} ask Config.Token again (Refresh(ctx) is true), reconnect
//	close 4001 (token invalid or expired)   same
//	close 4003 (revoked by an administrator) same: only a token issued later is accepted
//	close 1001 / 1012 (gateway going away)  backoff, reconnect to the next URL with since
//	close 4000 (slow consumer), 1013, other backoff, reconnect with since
//	dial refused, 429/503, network errors   backoff (dial failures also move to the next URL)
//	{"action":"gap","since":...}            Config.OnGap: the replay could not start at since; reload from REST
//	"PONG"                                  liveness; never passed to a listener
//
// The client sends "PING" as soon as a connection opens and then every
// Config.PingInterval. The gateway answers only connections whose token it
// accepted, so the first "PONG" marks the connection established: the
// spaces are resubscribed, then OnConnect runs and the backoff starts again
// from its minimum. A PING left unanswered for Config.PongTimeout drops the
// connection.
//
// # Concurrency contract
//
// New starts no goroutine. Run owns every goroutine the client starts: the
// goroutine that called Run reads, one goroutine calls the listeners, and
// one pinger per connection also writes the acks; Run joins them before it
// returns, after the last listener call. Call Run once at a time. The
// listeners run one at a time, in the order frames arrive, and may call
// commands and REST calls (the reader keeps handing over answers
// meanwhile). Up to 256 listener calls wait in a queue; beyond, the reader
// waits for the listeners, and a gateway closes a connection whose reader
// falls too far behind (4000). So a listener that waits for a command's
// answer while more than 256 calls are queued waits until its ctx ends
// (the reader, blocked on the full queue, cannot hand the answer over): a
// listener that may run during a burst should start its command in a
// goroutine of its own, or bound it with a short ctx. Commands and REST calls may be called from
// any goroutine, as may LastID and Stats; a command waits for Run to
// connect, so give it a ctx that ends.
package client
