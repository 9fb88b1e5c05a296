package pubsub

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/message"
)

// The cache gives back a message once, for exactly its stored form, and
// forgets the oldest entries beyond its size.
func TestStoredCache(t *testing.T) {
	t.Parallel()
	c := newStoredCache(3)
	msgs := make([]*message.Message, 5)
	for i := range msgs {
		msgs[i] = &message.Message{ID: fmt.Sprint(i)}
		c.add([]byte(fmt.Sprintf(`{"n":%d}`, i)), msgs[i])
	}
	for i := range 2 {
		if m := c.take(fmt.Sprintf(`{"n":%d}`, i)); m != nil {
			t.Errorf("entry %d of 5 in a cache of 3 was kept", i)
		}
	}
	if m := c.take(`{"n":3} `); m != nil {
		t.Error("a stored form one byte longer matched")
	}
	for i := 2; i < 5; i++ {
		if m := c.take(fmt.Sprintf(`{"n":%d}`, i)); m != msgs[i] {
			t.Errorf("take(entry %d) = %v, want its message", i, m)
		}
		if m := c.take(fmt.Sprintf(`{"n":%d}`, i)); m != nil {
			t.Errorf("entry %d given back twice", i)
		}
	}
	if len(c.byKey) != 0 || c.bytes != 0 {
		t.Errorf("%d entries, %d bytes left after every one was taken", len(c.byKey), c.bytes)
	}
	for i := range 10 { // refills past the ring: nothing stale is kept
		c.add([]byte(fmt.Sprint(i)), msgs[0])
	}
	if len(c.byKey) != 3 || c.bytes != 3 {
		t.Errorf("%d entries of %d bytes kept in a cache of 3 one-byte entries", len(c.byKey), c.bytes)
	}
}

// The same stored form added again replaces the older entry, and evicting
// the older slot later leaves the newer entry in place.
func TestStoredCacheAddedAgain(t *testing.T) {
	t.Parallel()
	c := newStoredCache(2)
	first, again := &message.Message{ID: "first"}, &message.Message{ID: "again"}
	c.add([]byte("x"), first)
	c.add([]byte("x"), again)
	c.add([]byte("y"), first) // evicts the first slot of "x"
	if m := c.take("x"); m != again {
		t.Fatalf("take = %v, want the entry added again", m)
	}
	if c.bytes != 1 || len(c.byKey) != 1 {
		t.Errorf("%d entries, %d bytes left, want only y's", len(c.byKey), c.bytes)
	}
}

// Stored forms are bounded in bytes as well as in number: the oldest go
// first, and a stored form larger than the bound is not remembered.
func TestStoredCacheBytes(t *testing.T) {
	t.Parallel()
	c := newStoredCache(100)
	big := func(b byte) []byte { return bytes.Repeat([]byte{b}, storedCacheBytes/3+1) }
	m := &message.Message{}
	for _, b := range []byte("abc") {
		c.add(big(b), m)
	}
	if c.take(string(big('a'))) != nil || c.take(string(big('b'))) == nil || c.take(string(big('c'))) == nil {
		t.Errorf("with 3 entries of a third of the bound and a byte: want the oldest forgotten, the others kept")
	}
	c.add(make([]byte, storedCacheBytes+1), m)
	if len(c.byKey) != 0 || c.bytes != 0 {
		t.Errorf("a stored form over the bound was kept: %d entries, %d bytes", len(c.byKey), c.bytes)
	}
}
