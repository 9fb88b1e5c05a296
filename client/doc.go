// Package client is notifyd's Go client: what a service that listens to
// notifyd over a websocket should do, written once and tested against the
// real gateway. See Example for a complete listener.
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
// A Client dials GET /ws/chat the way PyAMS's browser client does (the token
// travels as the subprotocol pair "accessToken", <jwt>), hands every message
// to Config.OnMessage, and reconnects for ever with full-jitter exponential
// backoff until its context ends. It remembers the id of the last message it
// received and reconnects with ?since=<id>, so the gateway replays what was
// missed; a bounded set of recent ids drops the duplicates a replay may
// overlap with.
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
//	"PONG"                                  liveness; never passed to OnMessage
//
// The client sends "PING" as soon as a connection opens and then every
// Config.PingInterval. The gateway answers only connections whose token it
// accepted, so the first "PONG" marks the connection established: OnConnect
// runs and the backoff starts again from its minimum. A PING left unanswered
// for Config.PongTimeout drops the connection.
//
// # Concurrency contract
//
// New starts no goroutine. Run owns every goroutine the client starts (one
// pinger per connection, besides the goroutine that called Run, which reads)
// and joins them before it returns; call Run once. The callbacks run on
// Run's goroutine, one at a time and in the order frames arrive: a callback
// that blocks stops the reading, and a gateway closes a connection whose
// reader falls too far behind (4000). LastID and Stats may be called from any
// goroutine.
package client
