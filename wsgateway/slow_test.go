package wsgateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/notifyd/notifyd/internal/poll"
	"github.com/notifyd/notifyd/protocol"
)

// TestSlowConsumer delivers thousands of large messages to two clients: one
// that never reads, one that reads everything. The first is closed with
// protocol.CloseSlowConsumer once its socket buffers and queue are full; the second
// receives every message, in order, and stays connected.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	const queue = 8
	// A generous write timeout: the slow client's writer is blocked on a
	// full socket until the test lets that client read.
	e := newEnv(t, envOptions{cfg: Config{QueueSize: queue, WriteTimeout: time.Minute, PingInterval: -1}})
	slow := e.connect(t, siteA, "users:slow")
	fast := e.connect(t, siteA, "users:fast")

	// The fast client reads in its own goroutine and reports each index.
	got := make(chan int, 1024)
	readErr := make(chan error, 1)
	go func() {
		defer close(got)
		for {
			_, data, err := fast.Read(context.Background())
			if err != nil {
				readErr <- err
				return
			}
			i, err := indexOf(data)
			if err != nil {
				readErr <- err
				return
			}
			got <- i
		}
	}()
	received := 0
	receive := func() {
		t.Helper()
		select {
		case i, ok := <-got:
			if !ok {
				t.Fatalf("fast client stopped reading: %v", <-readErr)
			}
			if i != received {
				t.Fatalf("fast client got message %d, want %d", i, received)
			}
			received++
		case <-time.After(ioTimeout):
			t.Fatal("fast client received nothing")
		}
	}

	padding := bytes.Repeat([]byte("x"), 8<<10)
	const maxMessages = 50_000 // bound: 400 MB, far beyond any socket buffer
	sent := 0
	deliver := func() {
		m := newMessage(siteA, "users:producer", strconv.Itoa(sent), "users:slow", "users:fast")
		m.Body = string(padding)
		// Never let the fast client fall behind by more than half its queue.
		for sent-received > queue/2 {
			receive()
		}
		e.g.Deliver(m, m.PushJSON())
		sent++
	}
	for e.g.Stats().Dropped == 0 {
		if sent == maxMessages {
			t.Fatalf("no drop after %d messages", sent)
		}
		deliver()
	}
	for range 100 { // the fast client is unaffected by the slow one's end
		deliver()
	}
	for received < sent {
		receive()
	}
	t.Logf("slow client dropped after %d messages of %d bytes", sent-100, len(padding))

	// Now the slow client reads: a gap-free prefix of the messages, then 4000.
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	next := 0
	for {
		_, data, err := slow.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != protocol.CloseSlowConsumer {
				t.Fatalf("slow client read error %v (code %d), want close %d", err, code, protocol.CloseSlowConsumer)
			}
			break
		}
		i, err := indexOf(data)
		if err != nil {
			t.Fatal(err)
		}
		if i != next {
			t.Fatalf("slow client got message %d, want %d", i, next)
		}
		next++
	}
	if next >= sent {
		t.Errorf("slow client got all %d messages, want fewer", next)
	}
	poll.Until(t, "condition", func() bool { return e.g.Count() == 1 })
	s := e.g.Stats()
	if s.Disconnects[DisconnectSlow] != 1 || s.Dropped == 0 {
		t.Errorf("slow disconnects %d, dropped %d; want 1, > 0", s.Disconnects[DisconnectSlow], s.Dropped)
	}
	if s.Delivered < uint64(sent+next) {
		t.Errorf("delivered %d, want at least %d", s.Delivered, sent+next)
	}

	// The fast client is still served.
	m := newMessage(siteA, "users:producer", strconv.Itoa(sent), "users:fast")
	e.g.Deliver(m, m.PushJSON())
	sent++
	receive()
	fast.Close(websocket.StatusNormalClosure, "")
	for range got { // drain until the reader goroutine ends
	}
}

// indexOf returns the index carried in a test message's title.
func indexOf(data []byte) (int, error) {
	var v struct {
		Title string `json:"title"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(v.Title)
	if err != nil {
		return 0, errors.New("message without an index: " + string(data))
	}
	return i, nil
}

// TestWriteTimeout: a client that stops reading with room left in its queue
// is dropped when a write to its full socket exceeds WriteTimeout.
func TestWriteTimeout(t *testing.T) {
	t.Parallel()
	const queue = 10_000
	e := newEnv(t, envOptions{cfg: Config{QueueSize: queue, WriteTimeout: 20 * time.Millisecond, PingInterval: -1}})
	e.connect(t, siteA, "users:stuck")
	m := newMessage(siteA, "users:producer", "big", "users:stuck")
	m.Body = string(bytes.Repeat([]byte("x"), 64<<10))
	push := m.PushJSON()  // the same bytes every time: the queue costs no memory
	for range queue / 2 { // 320 MB of writes: the socket buffers fill first
		e.g.Deliver(m, push)
	}
	poll.Until(t, "condition", func() bool { return e.g.Count() == 0 })
	// Deliveries after the timeout are dropped (the connection is closing):
	// how many depends on the machine's speed, not on the rule.
	s := e.g.Stats()
	if s.Disconnects[DisconnectWriteTimeout] != 1 || s.Disconnects[DisconnectSlow] != 0 {
		t.Errorf("disconnects %v; want 1 write timeout, no slow consumer", s.Disconnects)
	}
}
