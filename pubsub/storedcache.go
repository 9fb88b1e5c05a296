package pubsub

import (
	"hash/maphash"

	"github.com/notifyd/notifyd/message"
)

// storedCacheBatches is how many dispatcher batches of intake messages a
// dispatcher remembers until their delivery arrives: as many as can wait
// for the storer (intakeBatches), be in its round trip (storeRoundMax) and
// be in preparation. At a steady rate a few messages are in flight;
// through a burst more are (deliveries queue behind the intake read
// meanwhile), and those forgotten are decoded
// (BenchmarkSubscriberThroughput/inbox: 3 % reused with 1024 entries,
// 60-100 % with these).
const storedCacheBatches = intakeBatches + storeRoundMax + 1

// storedCacheBytes bounds the stored forms the cache holds (each entry
// holds about twice that with its message): entries whose delivery never
// comes (a store refused or dropped, another gateway's store of a
// different stored form, a delivery lost with the subscription) stay
// until newer ones push them out, however long that takes.
const storedCacheBytes = 8 << 20

// storedCache remembers, by their stored form, the intake messages the
// dispatcher prepared and sent to the storer, until the delivery of that
// stored form arrives: a delivery whose stored form is byte for byte the
// stored form of one of them is delivered as that message, without a
// second decode (the decode of the delivery was a sixth of a targeted
// message's allocated bytes; issue 9). Its encodings are the delivery's
// bytes by construction; as a struct it can differ from a decode only
// where nothing reads the difference (Extra values keep the intake's
// spacing, which every encoding compacts; a target the Resolver made
// from keys alone has nil principals rather than empty ones).
// Deliveries stored by other gateways or Publishers, and those whose
// entry was forgotten, are decoded. A FIFO of at most n entries and
// storedCacheBytes of stored forms, owned by the dispatcher goroutine.
type storedCache struct {
	seed  maphash.Seed
	ring  []storedSlot // entries in insertion order, a circular buffer
	head  int          // the oldest slot
	n     int          // slots in use
	seq   uint64       // numbers the entries, so that a slot removes only its own
	bytes int          // stored bytes of the entries still in byKey
	byKey map[uint64]storedEntry
}

// storedSlot is an entry's place in the insertion order.
type storedSlot struct {
	h   uint64
	seq uint64
}

// storedEntry is a remembered message with its stored form.
type storedEntry struct {
	stored []byte
	m      *message.Message
	seq    uint64
}

func newStoredCache(n int) *storedCache {
	return &storedCache{seed: maphash.MakeSeed(), ring: make([]storedSlot, n), byKey: make(map[uint64]storedEntry)}
}

// add remembers m by its stored form, forgetting the oldest entries to stay
// within the bounds; a stored form larger than the byte bound is not
// remembered. stored must not change afterwards.
func (c *storedCache) add(stored []byte, m *message.Message) {
	if len(stored) > storedCacheBytes {
		return
	}
	for c.n > 0 && (c.n == len(c.ring) || c.bytes+len(stored) > storedCacheBytes) {
		c.evict()
	}
	h := maphash.Bytes(c.seed, stored)
	if old, ok := c.byKey[h]; ok { // the same stored form again, or a collision: the newer wins
		c.bytes -= len(old.stored)
	}
	c.seq++
	c.ring[(c.head+c.n)%len(c.ring)] = storedSlot{h: h, seq: c.seq}
	c.n++
	c.byKey[h] = storedEntry{stored: stored, m: m, seq: c.seq}
	c.bytes += len(stored)
}

// evict forgets the oldest slot's entry, unless it was taken or replaced.
func (c *storedCache) evict() {
	s := c.ring[c.head]
	if e, ok := c.byKey[s.h]; ok && e.seq == s.seq {
		delete(c.byKey, s.h)
		c.bytes -= len(e.stored)
	}
	c.ring[c.head] = storedSlot{}
	c.head = (c.head + 1) % len(c.ring)
	c.n--
}

// take returns and forgets the message whose stored form is stored, or nil.
func (c *storedCache) take(stored string) *message.Message {
	h := maphash.String(c.seed, stored)
	e, ok := c.byKey[h]
	if !ok || string(e.stored) != stored {
		return nil
	}
	delete(c.byKey, h)
	c.bytes -= len(e.stored)
	return e.m
}
