package wsgateway

import (
	"context"
	"errors"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/protocol"
)

// readLoop reads inbound messages until the connection fails or must close.
// It answers PING through the writer, hands ack frames (Config.Inbox,
// ?device=) to the ack loop, and ignores (and counts) other text.
// The library answers control frames (ping, pong, close) while it reads,
// which is what lets the pings (startPings) and the close handshake work.
func (c *conn) readLoop(ctx context.Context) {
	defer c.readEnded()
	defer c.cancelInbox()
	for {
		typ, data, err := c.ws.Read(ctx)
		switch {
		case errors.Is(err, websocket.ErrMessageTooBig):
			// The library has already sent protocol.CloseTooBig; the
			// writer's close completes the handshake.
			c.stop(stopTooBig)
			return
		case websocket.CloseStatus(err) != -1:
			c.stop(stopClient) // the peer sent a close frame
			return
		case err != nil:
			// The socket failed or we closed it; the writer, which sees
			// readDone, decides (see conn.readDone).
			return
		case typ != websocket.MessageText:
			c.stop(stopBinary)
			return
		case string(data) == protocol.Ping:
			c.enqueue(item{b: protocol.PongFrame})
		case c.ack(data): // an ack frame of a connection with a device (ack.go)
		case c.isCommand(data): // a space command (command.go)
			c.command(ctx, data)
		default:
			// Clients cannot inject messages: PyAMS dispatched them.
			c.env.stats.ignored.Add(1)
		}
	}
}

// readEnded tells the writer that the reader returned (readDone).
func (c *conn) readEnded() {
	close(c.readDone)
	c.kick()
}
