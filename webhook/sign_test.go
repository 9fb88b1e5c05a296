package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/notifyd/notifyd/webhook"
)

func TestSignIsHMACOfTimestampDotBody(t *testing.T) {
	t.Parallel()
	mac := hmac.New(sha256.New, []byte("s3cret-s3cret-s3cret"))
	mac.Write([]byte(`1700000000.{"a":1}`))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := webhook.Sign("s3cret-s3cret-s3cret", "1700000000", []byte(`{"a":1}`)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"m1","body":"hello"}`)
	signed := func(secret string, at time.Time, b []byte) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, b))
		return h
	}
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		ok     bool
	}{
		{"valid", signed(testSecret, now, body), body, true},
		{"within tolerance", signed(testSecret, now.Add(-4*time.Minute), body), body, true},
		{"tampered body", signed(testSecret, now, body), []byte(`{"id":"m1","body":"hellO"}`), false},
		{"old timestamp", signed(testSecret, now.Add(-6*time.Minute), body), body, false},
		{"future timestamp", signed(testSecret, now.Add(6*time.Minute), body), body, false},
		{"other secret", signed("another-secret-of-16", now, body), body, false},
		{"no headers", http.Header{}, body, false},
		{"timestamp changed", func() http.Header {
			h := signed(testSecret, now, body)
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return h
		}(), body, false},
		{"no sha256 prefix", func() http.Header {
			h := signed(testSecret, now, body)
			h.Set(webhook.HeaderSignature, h.Get(webhook.HeaderSignature)[len("sha256="):])
			return h
		}(), body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(testSecret, tt.header, tt.body, now, 0)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, webhook.ErrSignature) {
				t.Fatalf("Verify = %v, want ErrSignature", err)
			}
		})
	}
}

// A bot checks every POST before it trusts it, and dedupes on the delivery
// id (the same on every retry).
func ExampleVerify() {
	secret := "the secret given at registration"
	bot := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Skip r.Header.Get(webhook.HeaderDelivery) if already handled, then
		// handle body.
		w.WriteHeader(http.StatusNoContent)
	})

	// What notifyd sends:
	body := `{"space":"s1","id":"m1","body":"hello"}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	r.Header.Set(webhook.HeaderTimestamp, ts)
	r.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, []byte(body)))
	w := httptest.NewRecorder()
	bot.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output: 204
}

// FuzzVerify: Verify never panics on any header, and accepts what Sign
// made.
func FuzzVerify(f *testing.F) {
	f.Add("1700000000", "sha256=00", []byte(`{}`))
	f.Add("", "", []byte(nil))
	f.Add("-99999999999999999999", "sha256=", []byte("x"))
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		_ = webhook.Verify(testSecret, h, body, now, 0)
		h.Set(webhook.HeaderTimestamp, "1700000000")
		h.Set(webhook.HeaderSignature, webhook.Sign(testSecret, "1700000000", body))
		if err := webhook.Verify(testSecret, h, body, now, 0); err != nil {
			t.Fatalf("Verify of a signed body: %v", err)
		}
	})
}
