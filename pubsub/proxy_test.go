package pubsub_test

import (
	"net"
	"sync"
	"testing"
)

// stallProxy forwards TCP connections to a Redis server and can stall them:
// while stalled, bytes are held (not lost) in both directions and new
// connections are accepted but not forwarded, as in a network partition the
// kernel has not noticed. It is a failure injector, not a fake Redis.
type stallProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup // every goroutine of the proxy

	mu      sync.Mutex
	resume  chan struct{} // non-nil while stalled; closed on unstall
	conns   []net.Conn
	closing bool
}

func newStallProxy(t testing.TB, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &stallProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *stallProxy) Addr() string { return p.ln.Addr().String() }

// Stall holds all traffic until Unstall.
func (p *stallProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resume == nil {
		p.resume = make(chan struct{})
	}
}

// Unstall lets the held traffic through.
func (p *stallProxy) Unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resume != nil {
		close(p.resume)
		p.resume = nil
	}
}

// wait blocks while the proxy is stalled; false when it is closing.
func (p *stallProxy) wait() bool {
	p.mu.Lock()
	ch, closing := p.resume, p.closing
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
	return !closing
}

// track records c to be closed by close; false when already closing.
func (p *stallProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *stallProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *stallProxy) serve(c net.Conn) {
	defer p.wg.Done()
	if !p.wait() {
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(up) {
		_ = up.Close()
		return
	}
	p.wg.Add(2)
	go p.pipe(up, c)
	go p.pipe(c, up)
}

// pipe copies src to dst, holding each chunk while stalled, and closes both
// ends when either fails.
func (p *stallProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // io.EOF or a closed connection
			return
		}
	}
}

func (p *stallProxy) close() {
	p.mu.Lock()
	p.closing = true
	if p.resume != nil {
		close(p.resume)
		p.resume = nil
	}
	conns := p.conns
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}
