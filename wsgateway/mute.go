package wsgateway

import (
	"context"
	"time"

	"github.com/notifyd/notifyd/protocol"
)

// expire acts, in the writer, on the expiry of c's token: a connection of
// PyAMS's subprotocol under ExpiryMute is muted, any other is stopped with
// the logout frame and protocol.CloseUnauthorized. Later calls do nothing.
func (c *conn) expire(ctx context.Context) {
	if !c.muteOnExp {
		c.stop(stopExpired)
		return
	}
	if c.muted {
		return
	}
	// Out of the index first: no delivery reaches c after its logout frame.
	// Messages already queued are skipped by the writer (c.muted).
	c.muted = true
	if c.ticket != nil {
		c.ticket.mute()
	}
	c.env.stats.mutes.Add(1)
	c.env.stats.muted.Add(1)
	c.muteTimer = time.NewTimer(c.env.muteGrace)
	c.debug("wsgateway: token expired, muted", "grace", c.env.muteGrace)
	c.writeFrame(ctx, protocol.LogoutFrame) // a failure stops c
}

// muteGraceC is the channel of c's mute grace timer, nil while c is not
// muted. Writer only.
func (c *conn) muteGraceC() <-chan time.Time {
	if c.muteTimer == nil {
		return nil
	}
	return c.muteTimer.C
}

// skipMuted reports whether the writer must drop it because c is muted: a
// muted connection receives no message (nor inbox, update or retract
// frame), only PONG (its client may still
// check that the socket is alive).
func (c *conn) skipMuted(it item) bool {
	if !c.muted || it.id == "" && it.meta == nil {
		return false
	}
	c.env.stats.mutedSkipped.Add(1)
	return true
}
