package wsgateway

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyd/notifyd/auth"
	"github.com/notifyd/notifyd/protocol"
)

// Server-sent events (issue 11): GET /sse/chat, for networks that block
// websockets. A stream is a connection like a websocket's (the same
// admission, limits, filtering, inbox catch-up, badge frames, expiry and
// revocation), written by the same writer, with each frame sent as one
// event whose data is the frame's JSON:
//
//	id: <message id>      (messages only: the browser's Last-Event-ID)
//	data: {...}
//
// The client cannot send on a stream: space commands go through REST. The
// token comes from ?token= (EventSource cannot set headers) or an
// Authorization header; a refused token is 401 (EventSource then stops);
// the catch-up cursor is the Last-Event-ID header, else ?since=. A comment
// line is sent every PingInterval as a heartbeat: a client that hears
// nothing for two intervals should reconnect. When the server ends a
// stream it sends {"action":"close","code":<websocket close code>,
// "reason":...} first, after the logout frame when the token is the cause.

// sseRetry is the reconnection delay the stream asks browsers for.
const sseRetry = 3 * time.Second

// sseHeartbeat is the item the pinger of a stream queues: frame writes it as
// a comment line. Recognised by identity.
var sseHeartbeat = []byte(":")

// ServeSSE handles GET /sse/chat (see above). It returns when the stream
// has ended.
func (g *Gateway) ServeSSE(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !g.calls.enter() {
		g.rejectHTTP(w, RejectShutdown)
		return
	}
	defer g.calls.leave()
	host, ok := g.precheck(w, r)
	if !ok {
		return
	}
	t := g.hub.issue(g.cfg.MaxConnections)
	if t == nil {
		g.rejectHTTP(w, RejectCapacity)
		return
	}
	defer t.release()
	hs, ok := g.authenticate(w, r, t, host)
	if !ok {
		return
	}
	if hs.err != nil {
		var reason RejectReason
		_, reason = refusalFor(hs.err)
		g.reject(reason)
		status := http.StatusUnauthorized
		if errors.Is(hs.err, auth.ErrUnavailable) {
			status = http.StatusServiceUnavailable
		}
		g.stats.refused.Since(start)
		http.Error(w, http.StatusText(status), status)
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		hs.since = id
	}
	hs.start = start
	raw, err := g.hijackSSE(w, r)
	if err != nil {
		g.reject(RejectHandshake)
		g.cfg.Logger.Debug("wsgateway: sse hijack failed", "err", err)
		return
	}
	c := g.newConn(nil, raw, hs)
	c.sse = true
	open := g.calls.attach(c)
	defer g.calls.detach(c)
	switch {
	case !open:
		g.reject(RejectShutdown)
		c.sseEnd(stopShutdown)
	case !t.admit(c):
		g.reject(RejectRevoked)
		c.sseEnd(refuseRevoked)
	default:
		g.stats.accepted.Add(1)
		g.stats.sseAccepted.Add(1)
		g.stats.admitted.Since(hs.start)
		c.debug("wsgateway: sse stream opened", "catch_up", c.catchUp)
		g.settleSpaces(c, hs.gen)
		c.run()
	}
}

// hijackSSE takes the connection over and writes the response head: the
// stream is the rest of the connection (no chunking, no length), so that
// the writer frames it as it frames websockets.
func (g *Gateway) hijackSSE(w http.ResponseWriter, r *http.Request) (*wireConn, error) {
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	raw, _ := wrapHijacked(nc, brw, g.cfg.WriteTimeout)
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n" +
		"Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n")
	if o := r.Header.Get("Origin"); o != "" { // Sites.Check allowed it (precheck)
		head.WriteString("Access-Control-Allow-Origin: " + o + "\r\nVary: Origin\r\n")
	}
	head.WriteString("\r\nretry: " + strconv.FormatInt(sseRetry.Milliseconds(), 10) + "\n\n")
	if err := raw.writeWithin(head.Bytes(), g.cfg.WriteTimeout); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return raw, nil
}

// appendSSEEvent appends the event carrying frame p (with id when not
// empty) to b. A frame is one line of JSON; were it not, each line becomes
// a data line, which the browser joins back with newlines.
func appendSSEEvent(b []byte, id string, p []byte) []byte {
	if len(p) > 0 && &p[0] == &sseHeartbeat[0] {
		return append(b, ":\n\n"...)
	}
	if id != "" {
		b = append(b, "id: "...)
		b = append(b, id...)
		b = append(b, '\n')
	}
	for {
		line, rest, more := bytes.Cut(p, []byte{'\n'})
		b = append(b, "data: "...)
		b = append(b, bytes.TrimSuffix(line, []byte{'\r'})...)
		b = append(b, '\n')
		if !more {
			break
		}
		p = rest
	}
	return append(b, '\n')
}

// sseReadLoop waits for the client to go away: nothing is read from a
// stream but the end of its connection.
func (c *conn) sseReadLoop() {
	defer c.readEnded()
	defer c.cancelInbox()
	var buf [512]byte
	for {
		if _, err := c.raw.Read(buf[:]); err != nil {
			return
		}
	}
}

// startSSEHeartbeats queues a heartbeat on c every PingInterval (none when
// it is negative; see periodic); a stream whose queue is full is a slow consumer, as a
// websocket is.
func (c *conn) startSSEHeartbeats() *periodic {
	return startPeriodic(c.env.pingInterval, func() bool {
		c.enqueue(item{b: sseHeartbeat})
		return true
	})
}

// sseEnd ends a stream as req says: the logout frame when asked, then the
// close event with req's code, within WriteTimeout, then the connection is
// closed. A request without a code (the client went away) writes nothing.
func (c *conn) sseEnd(req closeRequest) {
	if req.code != 0 && !c.wfailed {
		var b []byte
		if req.logout {
			b = appendSSEEvent(b, "", protocol.LogoutFrame)
		}
		b = appendSSEEvent(b, "", protocol.CloseEvent(req.code, req.text))
		_ = c.raw.writeWithin(b, min(c.env.writeTimeout, refuseTimeout))
	}
	_ = c.raw.Close()
}
