package history_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, "127.0.0.1:1") // never contacted
	tests := []struct {
		name    string
		cfg     history.Config
		wantErr bool
		wantKey string
	}{
		{"defaults", history.Config{}, false, "chat:notifications::" + testHost},
		{"custom key", history.Config{Key: "n"}, false, "n::" + testHost},
		{"braces", history.Config{Key: "{n}"}, true, ""},
		{"negative length", history.Config{Length: -1}, true, ""},
		{"window under a millisecond", history.Config{DedupWindow: time.Microsecond}, true, ""},
		{"idempotency window under a millisecond", history.Config{IdempotencyWindow: time.Microsecond}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := history.New(rdb, tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && h.ListKey(testHost) != tt.wantKey {
				t.Errorf("ListKey = %q, want %q", h.ListKey(testHost), tt.wantKey)
			}
		})
	}
	if _, err := history.New(nil, history.Config{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// stored returns the stored form of a message with the given id and title.
func stored(id, title string) []byte {
	m := newMessage(title)
	m.ID = id
	return m.AppendJSON(nil, true)
}

func ids(ms []*message.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestAppendOnce(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			// Two Histories on one Redis stand for two gateways.
			h1 := newHistory(t, rdb, history.Config{})
			h2 := newHistory(t, rdb, history.Config{})
			for i, h := range []*history.Store{h1, h2, h1} {
				added, err := h.Append(ctx, testHost, "id-1", stored("id-1", "one"))
				if err != nil {
					t.Fatalf("Append #%d: %v", i, err)
				}
				if want := i == 0; added != want {
					t.Errorf("Append #%d added = %v, want %v", i, added, want)
				}
			}
			n, err := rdb.LLen(ctx, h1.ListKey(testHost)).Result()
			if err != nil || n != 1 {
				t.Fatalf("LLEN = %d, %v; want 1", n, err)
			}
			list, err := h2.List(ctx, testHost)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(list) != 1 || list[0].ID != "id-1" || !list[0].HasTarget() {
				t.Fatalf("List = %+v, want id-1 with its target", list)
			}
			if got := h1.Stats(); got.Added != 1 || got.Duplicates != 1 {
				t.Errorf("h1 stats = %+v, want 1 added, 1 duplicate", got)
			}
			if got := h2.Stats(); got.Added != 0 || got.Duplicates != 1 {
				t.Errorf("h2 stats = %+v, want 0 added, 1 duplicate", got)
			}
			// The seen key lives in the list key's hash slot and expires.
			seen := "{" + h1.ListKey(testHost) + "}:seen:id-1"
			if ttl, err := rdb.PTTL(ctx, seen).Result(); err != nil || ttl <= 0 || ttl > history.DefaultDedupWindow {
				t.Errorf("PTTL %s = %v, %v; want within the dedup window", seen, ttl, err)
			}
		})
	}
}

func TestTrimAndOrder(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h := newHistory(t, rdb, history.Config{Length: 3})
			for i := 1; i <= 5; i++ {
				id := fmt.Sprintf("id-%d", i)
				if _, err := h.Append(ctx, testHost, id, stored(id, id)); err != nil {
					t.Fatalf("Append: %v", err)
				}
			}
			// Another site has its own list.
			other := "https://other.example.com"
			if _, err := h.Append(ctx, other, "id-x", stored("id-x", "x")); err != nil {
				t.Fatalf("Append: %v", err)
			}
			list, err := h.List(ctx, testHost)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got, want := fmt.Sprint(ids(list)), "[id-5 id-4 id-3]"; got != want {
				t.Errorf("List ids = %s, want %s (newest first, trimmed)", got, want)
			}
			list, err = h.List(ctx, "https://nobody.example.com")
			if err != nil || len(list) != 0 {
				t.Errorf("List(unknown host) = %v, %v; want empty", list, err)
			}
		})
	}
}

func TestAppendBatch(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h := newHistory(t, rdb, history.Config{})
			if _, err := h.Append(ctx, testHost, "a", stored("a", "a")); err != nil {
				t.Fatalf("Append: %v", err)
			}
			// Drop the script cache: the batch must fall back to EVAL.
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatalf("SCRIPT FLUSH: %v", err)
			}
			entries := []history.Entry{
				{Host: testHost, ID: "a", Stored: stored("a", "a")}, // already stored
				{Host: testHost, ID: "b", Stored: stored("b", "b")},
				{Host: testHost, ID: "b", Stored: stored("b", "b")}, // twice in one batch
				{Host: testHost, ID: "c", Stored: stored("c", "c")},
			}
			added, err := h.AppendBatch(ctx, entries)
			if err != nil {
				t.Fatalf("AppendBatch: %v", err)
			}
			if got, want := fmt.Sprint(added), "[false true false true]"; got != want {
				t.Errorf("added = %s, want %s", got, want)
			}
			list, err := h.List(ctx, testHost)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got, want := fmt.Sprint(ids(list)), "[c b a]"; got != want {
				t.Errorf("List ids = %s, want %s", got, want)
			}
			if added, err := h.AppendBatch(ctx, nil); err != nil || len(added) != 0 {
				t.Errorf("AppendBatch(nil) = %v, %v", added, err)
			}
		})
	}
}

func TestPyAMSEntries(t *testing.T) {
	t.Parallel()
	// As PyAMS's own websocket server stores them: json.dumps defaults, no id.
	pyams := `{"host": "https://app.example.com", "channel": "chat:main", "action": "notify", ` +
		`"category": "user.login", "status": "info", "title": "User login", "message": "Bob logged in...", ` +
		`"image": null, "source": {"id": "users:bob", "title": "Bob"}, "target": {"principals": ["system:admin"]}, ` +
		`"url": null, "modal": false, "timestamp": "2025-01-18T17:20:54.123456+00:00"}`
	nullSource := `{"host": "https://app.example.com", "channel": "chat:main", "action": "notify", ` +
		`"category": "x", "status": "info", "title": "T", "message": "M", "source": null, "timestamp": "2025-01-18T17:20:55+00:00"}`
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rdb, _ := b.New(t)
			ctx := context.Background()
			h := newHistory(t, rdb, history.Config{})
			key := h.ListKey(testHost)
			// LPUSH order: the last pushed is the newest.
			for _, e := range []string{pyams, "garbage", `["not", "an", "object"]`, nullSource} {
				if err := rdb.LPush(ctx, key, e).Err(); err != nil {
					t.Fatalf("LPUSH: %v", err)
				}
			}
			list, err := h.List(ctx, testHost)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(list) != 2 {
				t.Fatalf("List returned %d messages, want 2: %v", len(list), ids(list))
			}
			if want := message.DeriveID("2025-01-18T17:20:55+00:00", []byte(nullSource)); list[0].ID != want {
				t.Errorf("newest id = %q, want DeriveID of its bytes %q", list[0].ID, want)
			}
			if want := message.DeriveID("2025-01-18T17:20:54.123456+00:00", []byte(pyams)); list[1].ID != want {
				t.Errorf("oldest id = %q, want %q", list[1].ID, want)
			}
			if list[1].Title != "User login" || list[1].Principals()[0] != "system:admin" {
				t.Errorf("PyAMS entry decoded as %+v", list[1])
			}
			again, err := h.List(ctx, testHost)
			if err != nil || fmt.Sprint(ids(again)) != fmt.Sprint(ids(list)) {
				t.Errorf("second List ids = %v, %v; want the same ids %v", ids(again), err, ids(list))
			}
			if got := h.Stats().Undecodable; got != 4 {
				t.Errorf("Undecodable = %d, want 4 (2 entries, listed twice)", got)
			}
		})
	}
}

func TestDedupWindowExpires(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := newClient(t, mr.Addr())
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{DedupWindow: time.Minute})
	for i, want := range []bool{true, false} {
		if added, err := h.Append(ctx, testHost, "id", stored("id", "t")); err != nil || added != want {
			t.Fatalf("Append #%d = %v, %v; want %v", i, added, err, want)
		}
	}
	mr.FastForward(time.Minute + time.Second)
	if added, err := h.Append(ctx, testHost, "id", stored("id", "t")); err != nil || !added {
		t.Fatalf("Append after the window = %v, %v; want true", added, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	rdb, srv := realRedis(t)
	ctx := context.Background()
	h := newHistory(t, rdb, history.Config{})

	invalid := []struct{ name, host, id string }{
		{"empty id", testHost, ""},
		{"braces in host", "https://{a}.example.com", "id"},
	}
	for _, tt := range invalid {
		if _, err := h.Append(ctx, tt.host, tt.id, []byte("{}")); !errors.Is(err, message.ErrInvalid) {
			t.Errorf("Append(%s) err = %v, want ErrInvalid", tt.name, err)
		}
		if _, err := h.AppendBatch(ctx, []history.Entry{{Host: tt.host, ID: tt.id}}); !errors.Is(err, message.ErrInvalid) {
			t.Errorf("AppendBatch(%s) err = %v, want ErrInvalid", tt.name, err)
		}
	}

	// A list key something else overwrote: an error, not ErrInvalid.
	if err := rdb.Set(ctx, h.ListKey(testHost), "not a list", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if _, err := h.Append(ctx, testHost, "id", stored("id", "t")); err == nil || errors.Is(err, message.ErrInvalid) {
		t.Errorf("Append to a string key err = %v, want a Redis error", err)
	}
	const fine = "https://fine.example.com"
	added, err := h.AppendBatch(ctx, []history.Entry{
		{Host: testHost, ID: "id", Stored: stored("id", "t")},
		{Host: fine, ID: "id", Stored: stored("id", "t")},
		{Host: fine, ID: ""},
	})
	var be *history.BatchError
	if !errors.As(err, &be) || len(be.Errs) != 3 || be.Errs[0] == nil || be.Errs[1] != nil ||
		!errors.Is(be.Errs[2], message.ErrInvalid) || !errors.Is(err, message.ErrInvalid) {
		t.Fatalf("AppendBatch with a string key: err = %#v", err)
	}
	if !added[1] {
		t.Errorf("added = %v, want the entry of the other site stored", added)
	}
	// The failed append did not leave its id marked as stored.
	if err := rdb.Del(ctx, h.ListKey(testHost)).Err(); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if added, err := h.Append(ctx, testHost, "id", stored("id", "t")); err != nil || !added {
		t.Errorf("Append after fixing the key = %v, %v; want stored", added, err)
	}

	srv.Stop()
	if _, err := h.Append(ctx, testHost, "id2", stored("id2", "t")); !errors.Is(err, history.ErrUnavailable) {
		t.Errorf("Append with Redis stopped: err = %v, want ErrUnavailable", err)
	}
	if _, err := h.AppendBatch(ctx, []history.Entry{{Host: testHost, ID: "id3", Stored: stored("id3", "t")}}); !errors.Is(err, history.ErrUnavailable) {
		t.Errorf("AppendBatch with Redis stopped: err = %v, want ErrUnavailable", err)
	}
	if _, err := h.List(ctx, testHost); !errors.Is(err, history.ErrUnavailable) {
		t.Errorf("List with Redis stopped: err = %v, want ErrUnavailable", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.List(canceled, testHost); !errors.Is(err, context.Canceled) || errors.Is(err, history.ErrUnavailable) {
		t.Errorf("List with a canceled context: err = %v, want context.Canceled only", err)
	}
}

func TestKeyIgnoresHostCase(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := newClient(t, mr.Addr())
	h, err := history.New(rdb, history.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.ListKey("https://App.Example.com"); got != "chat:notifications::https://app.example.com" {
		t.Fatalf("ListKey = %q", got)
	}
	if _, err := h.Append(t.Context(), "https://App.Example.com", "01KAKF8G0V7P3HZ2W9QX4T1B6C", []byte(`{"host":"https://App.Example.com"}`)); err != nil {
		t.Fatal(err)
	}
	if n := mr.Exists("chat:notifications::https://app.example.com"); !n {
		t.Fatal("entry not stored under the lower-cased key")
	}
}
