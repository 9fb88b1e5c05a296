package wsgateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

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
