package pubsub

import (
	"hash/maphash"

	"github.com/notifyd/notifyd/message"
)

// storedCacheBatches is how many dispatcher batches of intake messages a
// dispatcher remembers until their delivery arrives: as many as can wait
// for the storer (intakeBatches), be in its round trip (storeRoundMax) and
// be in preparation. At a steady rate a few messages are in flight; through
// a burst every one of them is, and remembering fewer would make most
// deliveries miss (BenchmarkSubscriberThroughput/inbox: 3 % reused with
// 1024 entries). At most about 9 400 messages at the defaults, delivered
// (and so dropped from the cache) a delivery hop after their store.
const storedCacheBatches = intakeBatches + storeRoundMax + 1

// storedCache remembers, by their stored form, the intake messages the
// dispatcher prepared and sent to the storer, until the delivery of that
// stored form arrives: a delivery whose stored form is byte for byte the
// stored form of one of them is delivered as that message, without a
// second decode (the decode of the delivery was a sixth of a targeted
// message's allocated bytes; issue 9). The message and the decode of its
// stored form are the same message: message.FuzzDecode checks that a
// stored form decodes to the message it encodes (up to the spacing of
// Extra values, which every encoding compacts). Deliveries stored by other
// gateways or Publishers, and those whose entry was forgotten, are
// decoded. A FIFO ring of storedCacheBatches batches, owned by the dispatcher
// goroutine; its map grows on demand.
type storedCache struct {
	seed  maphash.Seed
	ring  []uint64 // hashes in insertion order, a circular buffer
	next  int      // the slot the next entry goes to (the oldest when full)
	byKey map[uint64]storedEntry
}

// storedEntry is a remembered message with its stored form.
type storedEntry struct {
	stored []byte
	m      *message.Message
}

func newStoredCache(n int) *storedCache {
	return &storedCache{seed: maphash.MakeSeed(), ring: make([]uint64, n), byKey: make(map[uint64]storedEntry)}
}

// add remembers m by its stored form, forgetting the oldest entry when the
// cache is full. stored must not change afterwards.
func (c *storedCache) add(stored []byte, m *message.Message) {
	h := maphash.Bytes(c.seed, stored) | 1 // 0 marks a free slot
	if old := c.ring[c.next]; old != 0 {
		delete(c.byKey, old) // a miss at worst, if old was added again since
	}
	c.ring[c.next] = h
	c.byKey[h] = storedEntry{stored: stored, m: m}
	c.next = (c.next + 1) % len(c.ring)
}

// take returns and forgets the message whose stored form is stored, or nil.
func (c *storedCache) take(stored string) *message.Message {
	h := maphash.String(c.seed, stored) | 1
	e, ok := c.byKey[h]
	if !ok || string(e.stored) != stored {
		return nil
	}
	delete(c.byKey, h)
	return e.m
}
