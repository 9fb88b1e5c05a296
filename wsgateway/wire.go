package wsgateway

import (
	"bufio"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Data frames do not go through the websocket library: its Write flushes
// every message (one syscall per frame per client), and each call sets up a
// context timer and takes its locks. The writer instead builds the frames
// of everything queued for its connection into one buffer, one text frame
// per message (PyAMS's client parses each frame as one message; server
// frames are unmasked, so a frame is a 2-10 byte header and the shared
// payload), and writes the batch to the hijacked connection at once, under
// a plain write deadline.
//
// The library still does the handshake, the reading, and the control
// frames (ping, pong, close), which it writes from the reader, the pinger
// and the writer's close. Both write to the same wireConn, whose mutex
// keeps each write whole: the library's frames reach the socket through a
// bufio.Writer of libWriteBuffer bytes that it flushes at the end of every
// frame, so each control frame (at most 2+125 bytes) is one Write, and a
// batch is one Write. The library writes data frames only from the writer
// goroutine itself (the logout frame before a close, in closeSocket), never
// concurrently with a batch.

// libWriteBuffer is the size of the library's write buffer: it holds any
// control frame whole (a server frame is unmasked: 2+125 bytes). It
// replaces net/http's 4 KB buffer; a larger data frame (the logout frame)
// goes through in more than one Write.
const libWriteBuffer = 128

// maxBatch is the size above which the writer flushes a batch before
// draining more of its queue.
const maxBatch = 64 << 10

// wireConn is the hijacked connection under a websocket: every write to the
// socket, the library's and the writer's, goes through it, one at a time.
type wireConn struct {
	net.Conn
	timeout  time.Duration // bounds the library's writes too (WriteTimeout); 0: unbounded
	mu       sync.Mutex    // held for the duration of each Write
	deadline time.Time     // the socket's write deadline; guarded by mu
	limit    time.Time     // set by SetDeadline: no write deadline past it; guarded by mu
	writing  atomic.Bool   // a batch write is in progress (blocked)
}

// blocked reports whether a batch write has not returned yet: the socket's
// buffer is full because the client does not read fast enough, or the
// write is under way right now.
func (w *wireConn) blocked() bool { return w.writing.Load() }

// Write writes b whole before any other write may start. The library's
// writes come here; they are bounded by the connection's write timeout
// like the writer's (see bound).
func (w *wireConn) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timeout > 0 {
		if err := w.bound(time.Now(), w.timeout); err != nil {
			return 0, err
		}
	}
	return w.Conn.Write(b)
}

// writeWithin writes b whole, failing with os.ErrDeadlineExceeded when the
// socket takes none of it for timeout (see bound).
func (w *wireConn) writeWithin(b []byte, timeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.bound(time.Now(), timeout); err != nil {
		return err
	}
	w.writing.Store(true)
	_, err := w.Conn.Write(b)
	w.writing.Store(false)
	return err
}

// bound makes the socket's write deadline fall between timeout/2 and
// timeout from now, moving it only when it does not: a write blocked by a
// client that does not read fails after at least half of timeout and at
// most timeout, and most writes change no deadline (setting and clearing
// one around every write cost 5 % of a broadcast's CPU; issue 9). A limit
// set by SetDeadline is never exceeded. Under mu.
func (w *wireConn) bound(now time.Time, timeout time.Duration) error {
	d := now.Add(timeout)
	if !w.limit.IsZero() && d.After(w.limit) {
		d = w.limit
	} else if left := w.deadline.Sub(now); left >= timeout/2 && left <= timeout {
		return nil
	}
	if d.Equal(w.deadline) {
		return nil
	}
	if err := w.Conn.SetWriteDeadline(d); err != nil {
		return err
	}
	w.deadline = d
	return nil
}

// SetDeadline sets the socket's read and write deadlines, and makes t the
// limit no later write deadline exceeds (conn.refuse bounds a refusal so).
// It takes effect on a write in progress at once.
func (w *wireConn) SetDeadline(t time.Time) error {
	err := w.Conn.SetDeadline(t)
	w.mu.Lock()
	w.deadline, w.limit = t, t
	w.mu.Unlock()
	return err
}

// libReadBuffer is the size of the library's read buffer. Clients send
// little (pongs, PyAMS's PING, commands of a few hundred bytes): the
// buffer holds any frame header and a small frame whole; the rest of a
// larger frame is read straight into the library's message buffer, past
// this one. It replaces net/http's 4 KB buffer, which an idle socket would
// keep (1024 bytes until issue 9 measured the difference).
const libReadBuffer = 256

// wrapHijacked puts a wireConn under the library: the connection, a small
// write buffer, and a small read buffer unless the client already sent bytes
// past its request (net/http's reader holds them: it is kept).
func wrapHijacked(c net.Conn, brw *bufio.ReadWriter, writeTimeout time.Duration) (*wireConn, *bufio.ReadWriter) {
	w := &wireConn{Conn: c, timeout: writeTimeout}
	r := brw.Reader
	if r.Buffered() == 0 {
		r = bufio.NewReaderSize(w, libReadBuffer)
	}
	return w, bufio.NewReadWriter(r, bufio.NewWriterSize(w, libWriteBuffer))
}

// appendTextFrame appends a final, unmasked text frame carrying p to b
// (RFC 6455 section 5.2).
func appendTextFrame(b, p []byte) []byte {
	const finText = 0x80 | 0x1
	switch n := len(p); {
	case n <= 125:
		b = append(b, finText, byte(n))
	case n <= 0xffff:
		b = append(b, finText, 126, byte(n>>8), byte(n))
	default:
		b = append(b, finText, 127,
			byte(uint64(n)>>56), byte(uint64(n)>>48), byte(uint64(n)>>40), byte(uint64(n)>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

// batchPool holds the writers' batch buffers between batches, so that an
// idle connection keeps none.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, maxBatch); return &b }}

// frame adds a text frame carrying p to c's batch, and sends the batch at
// once unless the writer is draining its queue (c.batching), or the batch
// is over maxBatch. It reports false when c's socket failed: c is then
// stopped. Writer only.
func (c *conn) frame(p []byte) bool {
	if c.wfailed {
		return false
	}
	if c.batch == nil {
		c.batch = batchPool.Get().(*[]byte)
	}
	if c.sse {
		*c.batch = appendSSEEvent(*c.batch, c.frameID, p)
	} else {
		*c.batch = appendTextFrame(*c.batch, p)
	}
	c.frameID = ""
	if c.batching && len(*c.batch) < maxBatch {
		return true
	}
	return c.flush()
}

// flush writes c's batch within WriteTimeout and reports whether it was
// sent; a failed write stops c and closes the socket at once (a frame may
// have been cut: nothing more can be written on it, not even a close).
// Writer only.
func (c *conn) flush() bool {
	if c.batch == nil {
		return !c.wfailed
	}
	err := c.raw.writeWithin(*c.batch, c.env.writeTimeout)
	if cap(*c.batch) <= 4*maxBatch { // a huge message's buffer is not kept
		*c.batch = (*c.batch)[:0]
		batchPool.Put(c.batch)
	}
	c.batch = nil
	if err == nil {
		c.env.stats.inboxFrames.Add(c.batchInbox)
		c.batchInbox = 0
		return true
	}
	c.batchInbox = 0
	c.wfailed = true
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.stop(stopWrite)
	} else {
		c.stop(stopClient) // the peer or the network went away
	}
	if c.sse {
		_ = c.raw.Close()
	} else {
		_ = c.ws.CloseNow()
	}
	return false
}
