package history_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

func TestParseDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payload string
		want    history.Delivery
		ok      bool
	}{
		{`m 12 {"id":"a"}`, history.Delivery{Kind: history.DeliveryMessage, Seq: 12, Stored: []byte(`{"id":"a"}`)}, true},
		{`u 1 {"a b":1}`, history.Delivery{Kind: history.DeliveryUpdate, Seq: 1, Stored: []byte(`{"a b":1}`)}, true},
		{`x 3 {}`, history.Delivery{Kind: history.DeliveryRetract, Seq: 3, Stored: []byte(`{}`)}, true},
		{`q 3 {}`, history.Delivery{}, false},
		{`m 0 {}`, history.Delivery{}, false},
		{`m -1 {}`, history.Delivery{}, false},
		{`m 1`, history.Delivery{}, false},
		{`m 1 `, history.Delivery{}, false},
		{`{"id":"a"}`, history.Delivery{}, false},
		{``, history.Delivery{}, false},
	}
	for _, tt := range tests {
		got, err := history.ParseDelivery(tt.payload)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, history.ErrBadDelivery)) {
			t.Errorf("ParseDelivery(%q) err = %v, want ok %v", tt.payload, err, tt.ok)
			continue
		}
		if tt.ok && (got.Kind != tt.want.Kind || got.Seq != tt.want.Seq || string(got.Stored) != string(tt.want.Stored)) {
			t.Errorf("ParseDelivery(%q) = %+v, want %+v", tt.payload, got, tt.want)
		}
		if tt.ok && got.String() != tt.payload {
			t.Errorf("String() = %q, want %q", got.String(), tt.payload)
		}
	}
}

func FuzzParseDelivery(f *testing.F) {
	f.Add(`m 12 {"id":"a"}`)
	f.Add(`x 1 {}`)
	f.Fuzz(func(t *testing.T, payload string) {
		d, err := history.ParseDelivery(payload)
		if err == nil && d.String() != payload {
			t.Fatalf("round trip %q -> %q", payload, d.String())
		}
	})
}

func TestInboxConfig(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, "127.0.0.1:1") // never contacted
	for _, cfg := range []history.Config{
		{InboxLength: -1}, {InboxTTL: time.Microsecond}, {CountCap: -1}, {DeliveryChannel: "a b"},
	} {
		if _, err := history.New(rdb, cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	// The inbox is off without a delivery channel.
	h := newHistory(t, rdb, history.Config{})
	if _, err := h.Count(context.Background(), bob); !errors.Is(err, history.ErrNoInbox) {
		t.Errorf("Count without inbox err = %v, want ErrNoInbox", err)
	}
}

func TestInboxInvalid(t *testing.T) {
	t.Parallel()
	rdb, _ := backends[0].New(t)
	ctx := context.Background()
	h, _ := inboxHistory(t, rdb, history.Config{})
	long := make([]byte, history.MaxPatternLength+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, muted := range [][]string{{""}, {".*"}, {"a*"}, {"a.*.*"}, {"a b"}, {string(long)}, make([]string, history.MaxMuted+1)} {
		if err := h.SetPrefs(ctx, testHost, "users:bob", history.Prefs{Muted: muted}); !errors.Is(err, message.ErrInvalid) {
			t.Errorf("SetPrefs(%q) err = %v, want ErrInvalid", muted, err)
		}
	}
	if _, err := h.AppendBatch(ctx, []history.Entry{note("id-1", "users:alice", "c", "a\nb")}); !errors.Is(err, message.ErrInvalid) {
		t.Errorf("principal with a newline: err = %v, want ErrInvalid", err)
	}
	if _, err := h.Page(ctx, bob, history.PageOptions{Before: "a", After: "b"}); !errors.Is(err, message.ErrInvalid) {
		t.Errorf("Page(before and after) err = %v", err)
	}
	if _, err := h.Count(ctx, history.Reader{Host: testHost}); !errors.Is(err, message.ErrInvalid) {
		t.Errorf("Count without user err = %v", err)
	}
}
