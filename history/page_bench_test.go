package history_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/notifyd/notifyd/history"
)

// BenchmarkPage: one page of 50 for a user who never read 1000 entries,
// on a real redis-server, with and without the counts (which scan up to
// the count cap).
func BenchmarkPage(b *testing.B) {
	rdb, _ := realRedis(b)
	h, _ := inboxHistory(b, rdb, history.Config{})
	entries := make([]history.Entry, 0, 100)
	for i := range 1000 {
		entries = append(entries, note(fmt.Sprintf("id-%04d", i), "users:alice", "c", "users:bob"))
		if len(entries) == cap(entries) {
			storeAll(b, h, entries...)
			entries = entries[:0]
		}
	}
	ctx := context.Background()
	for _, counts := range []bool{true, false} {
		b.Run(fmt.Sprintf("counts=%v", counts), func(b *testing.B) {
			for b.Loop() {
				p, err := h.Page(ctx, bob, history.PageOptions{Limit: 50, Counts: counts})
				if err != nil || len(p.Items) != 50 {
					b.Fatalf("Page: %d items, %v", len(p.Items), err)
				}
			}
		})
	}
}
