package httpguard

import (
	"net"
	"sync"
	"sync/atomic"
)

// DefaultMaxPerAddr is the default cap of Listener: connections (websockets
// and requests alike) one client address may hold at once.
const DefaultMaxPerAddr = 512

// Listener is a net.Listener that closes, as soon as they are accepted, the
// connections of a client address that already holds max of them. A
// websocket is one connection for its whole life; keep-alive HTTP requests
// share one.
type Listener struct {
	net.Listener // the wrapped listener; immutable after NewListener

	// immutable after NewListener
	max int
	key func(net.Addr) string

	mu    sync.Mutex
	count map[string]int // guarded by mu: open connections per key

	refused atomic.Uint64
}

// NewListener wraps l. key maps a peer address to the key connections are
// counted under (nil: the IP address without the port). max is the cap; zero
// means DefaultMaxPerAddr and a negative value returns l's connections
// uncounted.
func NewListener(l net.Listener, max int, key func(net.Addr) string) *Listener {
	if max == 0 {
		max = DefaultMaxPerAddr
	}
	if key == nil {
		key = hostOf
	}
	return &Listener{Listener: l, max: max, key: key, count: make(map[string]int)}
}

// Accept returns the next connection of an address under the cap, closing
// those over it (counted by Refused).
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.max < 0 {
			return c, err
		}
		k := l.key(c.RemoteAddr())
		if l.acquire(k) {
			return &conn{Conn: c, release: func() { l.release(k) }}, nil
		}
		l.refused.Add(1)
		_ = c.Close()
	}
}

// Refused is how many connections were closed for being over the cap.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

// Open is how many counted connections are open.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.count {
		n += c
	}
	return n
}

func (l *Listener) acquire(k string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count[k] >= l.max {
		return false
	}
	l.count[k]++
	return true
}

func (l *Listener) release(k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count[k] <= 1 {
		delete(l.count, k)
		return
	}
	l.count[k]--
}

// conn releases its slot once, on its first Close.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func hostOf(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
