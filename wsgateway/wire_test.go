package wsgateway

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/protocol"
)

// TestAppendTextFrame checks the frame header of each payload length
// encoding of RFC 6455 section 5.2: 7-bit, 16-bit and 64-bit.
func TestAppendTextFrame(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    int
		head []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{0xffff, []byte{0x81, 126, 0xff, 0xff}},
		{0x10000, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		p := bytes.Repeat([]byte{'x'}, tt.n)
		got := appendTextFrame([]byte("prefix"), p)
		want := append(append([]byte("prefix"), tt.head...), p...)
		if !bytes.Equal(got, want) {
			t.Errorf("n=%d: header % x, want % x", tt.n, got[6:6+len(tt.head)], tt.head)
		}
	}
}

// TestBatchedFrames queues messages of every header size, larger than a
// batch too, behind a PING answer, and checks that the client reads each
// as one message, in order.
func TestBatchedFrames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.connect(t, siteA, "users:alice")
	c.SetReadLimit(1 << 20)
	var want []string
	for i, size := range []int{0, 100, 1000, 70_000, 10, maxBatch + 1, 5} {
		m := newMessage(siteA, "users:zed", fmt.Sprintf("m%d", i), "users:alice")
		m.Body = strings.Repeat("b", size)
		push := m.PushJSON()
		want = append(want, string(push))
		e.g.Deliver(m, push)
	}
	writeText(t, c, protocol.Ping)
	want = append(want, protocol.Pong)
	for i, w := range want {
		if got := readText(t, c); got != w {
			t.Fatalf("message %d: %d bytes %.40q, want %d bytes %.40q", i, len(got), got, len(w), w)
		}
	}
}

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	sets []time.Time
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.sets = append(d.sets, t)
	return nil
}

func (d *deadlineConn) SetDeadline(t time.Time) error { return d.SetWriteDeadline(t) }

// TestWireConnBound: a write's deadline falls between timeout/2 and
// timeout from now, moved only when it would not; a shorter timeout moves
// it closer; SetDeadline's limit is never exceeded.
func TestWireConnBound(t *testing.T) {
	dc := &deadlineConn{}
	w := &wireConn{Conn: dc}
	t0 := time.Unix(1000, 0)
	const timeout = 10 * time.Second
	step := func(now time.Time, timeout time.Duration, want []time.Time) {
		t.Helper()
		if err := w.bound(now, timeout); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dc.sets, want) {
			t.Fatalf("at +%v (timeout %v): deadlines set %v, want %v", now.Sub(t0), timeout, dc.sets, want)
		}
	}
	step(t0, timeout, []time.Time{t0.Add(timeout)})                    // none yet
	step(t0.Add(4*time.Second), timeout, []time.Time{t0.Add(timeout)}) // 6 s left: kept
	d2 := t0.Add(6 * time.Second).Add(timeout)
	step(t0.Add(6*time.Second), timeout, []time.Time{t0.Add(timeout), d2}) // 4 s left: moved
	d3 := t0.Add(6 * time.Second).Add(time.Second)
	step(t0.Add(6*time.Second), time.Second, []time.Time{t0.Add(timeout), d2, d3}) // shorter timeout: closer
	limit := t0.Add(6*time.Second + 500*time.Millisecond)
	if err := w.SetDeadline(limit); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{t0.Add(timeout), d2, d3, limit}
	step(t0.Add(6*time.Second+400*time.Millisecond), timeout, want) // the limit stands
	if !w.deadline.Equal(limit) {
		t.Fatalf("deadline %v, want the limit %v", w.deadline, limit)
	}
}
