package history_test

import (
	"context"
	"testing"

	"github.com/notifyd/notifyd/history"
)

// TestChatNotInPyAMSList: a chat message (ChatCategory), stored by the
// publisher path or a batch, is in the site's order and its principal's
// index, not in PyAMS's list nor in its sender's own index (the sender's
// counts do not change).
func TestChatNotInPyAMSList(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h, _ := inboxHistory(t, rdb, history.Config{})
			if _, err := h.AppendPublishOnce(ctx, "", note("chat-1", "users:bob", history.ChatCategory, "space:s1"), history.Idempotency{}); err != nil {
				t.Fatal(err)
			}
			storeAll(t, h, note("chat-2", "users:bob", history.ChatCategory, "space:s1"),
				note("note-1", "users:alice", "content.review", "users:bob"))
			list, err := h.List(ctx, testHost)
			if err != nil || len(list) != 1 || list[0].ID != "note-1" {
				t.Fatalf("PyAMS list %v, %v: want only the notification", list, err)
			}
			space := history.Reader{Host: testHost, User: "space:s1", Principals: []string{"space:s1"}}
			page, err := h.Page(ctx, space, history.PageOptions{})
			if err != nil || len(page.Items) != 2 {
				t.Fatalf("space index %+v, %v: want both chat messages", page.Items, err)
			}
			if n, err := rdb.Exists(ctx, "{"+h.ListKey(testHost)+"}:o:users:bob").Result(); err != nil || n != 0 {
				t.Fatalf("bob's own index exists (%d, %v): chat must not enter it", n, err)
			}
			c, err := h.Count(ctx, bob)
			if err != nil || c.Unread != 1 {
				t.Fatalf("bob's counts %+v, %v: want the one notification", c, err)
			}
		})
	}
}
