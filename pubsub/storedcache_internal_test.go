package pubsub

import (
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
	if len(c.byKey) != 0 {
		t.Errorf("%d entries left after every one was taken", len(c.byKey))
	}
	for i := range 10 { // refills past the ring: nothing stale is kept
		c.add([]byte(fmt.Sprint(i)), msgs[0])
	}
	if len(c.byKey) != 3 {
		t.Errorf("%d entries kept in a cache of 3", len(c.byKey))
	}
}
