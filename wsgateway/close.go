package wsgateway

import (
	"context"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// closeRequest is why and how a connection ends.
type closeRequest struct {
	reason DisconnectReason
	code   websocket.StatusCode // 0: close without a handshake (the peer is gone)
	text   string
	logout bool // send protocol.LogoutFrame before closing
}

// Close requests of an admitted connection, by cause.
var (
	stopSlow     = closeRequest{reason: DisconnectSlow, code: protocol.CloseSlowConsumer, text: protocol.ReasonSlow}
	stopExpired  = closeRequest{reason: DisconnectExpired, code: protocol.CloseUnauthorized, text: protocol.ReasonExpired, logout: true}
	stopShutdown = closeRequest{reason: DisconnectShutdown, code: protocol.CloseGoingAway, text: protocol.ReasonShutdown}
	stopBinary   = closeRequest{reason: DisconnectBinary, code: protocol.CloseUnsupportedData, text: protocol.ReasonBinary}
	stopTooBig   = closeRequest{reason: DisconnectTooBig, code: protocol.CloseTooBig, text: protocol.ReasonTooBig}
	stopClient   = closeRequest{reason: DisconnectClient}
	stopWrite    = closeRequest{reason: DisconnectWriteTimeout}
	stopPing     = closeRequest{reason: DisconnectPing}
	stopRevoked  = closeRequest{reason: DisconnectRevoked, code: protocol.CloseRevoked, text: protocol.ReasonDisconnected}

	// A muted connection got the logout frame when it was muted: no second one.
	stopMuteGrace   = closeRequest{reason: DisconnectMuteGrace, code: protocol.CloseUnauthorized, text: protocol.ReasonExpired}
	stopMuteEvicted = closeRequest{reason: DisconnectMuteEvicted, code: protocol.CloseUnauthorized, text: protocol.ReasonExpired}
)

// stop records why the connection ends and kicks its writer. Only the
// first call counts, and only it reports true. It never blocks and never
// touches the socket, so it is safe inside Deliver and under the hub lock.
func (c *conn) stop(req closeRequest) (first bool) {
	c.stopOnce.Do(func() {
		c.req = req
		c.stopping.Store(true)
		close(c.closing)
		c.cancelInbox()
		first = true
	})
	if first {
		c.kick()
	}
	return first
}

// close is the writer's last act once c is stopped, and the one place an
// admitted connection ends: it closes the socket as c.req says, then counts
// and logs the reason. Close waits for the peer's close frame; Shutdown
// bounds that wait with its context by calling CloseNow.
func (c *conn) close(ctx context.Context) {
	if c.sse {
		c.sseEnd(c.req)
	} else {
		_ = closeSocket(ctx, c.ws, c.env.writeTimeout, c.req)
	}
	c.env.stats.disconnects[c.req.reason].Add(1)
	if c.muted {
		c.env.stats.muted.Add(-1)
	}
	args := []any{"reason", string(c.req.reason), "code", int(c.req.code)}
	if c.req.reason == DisconnectSlow { // Warn at most once a second
		c.env.warns.WarnOrDebug(c.logger(), "slow", "wsgateway: disconnected", args...)
		return
	}
	c.debug("wsgateway: disconnected", args...)
}

// refuseTimeout bounds the life of a refused socket, from its first frame
// (the logout frame) to the end of the close handshake: a peer that has not
// answered the close by then is cut.
const refuseTimeout = time.Second

// refuse tells a connection that was never admitted why, as req says, and
// closes it within refuseTimeout whether or not the peer answers the close;
// refusals are counted by the caller as a RejectReason, and here in
// Stats.Refusing while they last and Stats.RefusalsUnanswered when the peer
// did not answer. The library's Close waits up to 5 s for the peer's close
// frame and CloseNow cannot cut that wait short (it waits for Close), so
// the bound is a deadline on the hijacked connection: once it passes, every
// read and write of the socket fails and Close returns.
func (c *conn) refuse(req closeRequest) {
	c.env.stats.refusing.Add(1)
	defer c.env.stats.refusing.Add(-1)
	if c.raw != nil {
		_ = c.raw.SetDeadline(time.Now().Add(refuseTimeout))
	}
	err := closeSocket(context.Background(), c.ws, min(refuseTimeout, c.env.writeTimeout), req)
	if err != nil && websocket.CloseStatus(err) == -1 {
		c.env.stats.unanswered.Add(1)
	}
}

// closeSocket ends ws as req says: with a close handshake and req's code,
// after the logout frame when asked, or at once when req has no code (the
// peer is gone) or the logout frame cannot be written. It returns why the
// handshake did not complete: nil when the peer answered with req's code.
func closeSocket(ctx context.Context, ws *websocket.Conn, writeTimeout time.Duration, req closeRequest) error {
	if req.code == 0 {
		return ws.CloseNow()
	}
	if req.logout {
		if err := sendText(ctx, ws, writeTimeout, protocol.LogoutFrame); err != nil {
			_ = ws.CloseNow()
			return err
		}
	}
	return ws.Close(req.code, req.text)
}
