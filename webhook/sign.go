package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of every webhook POST.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the
	// registration's secret, of timestamp + "." + body (see Sign).
	HeaderSignature = "X-Notifyd-Signature"
	// HeaderTimestamp is the Unix time in seconds at which the attempt was
	// signed; each retry is signed afresh.
	HeaderTimestamp = "X-Notifyd-Timestamp"
	// HeaderDelivery is the delivery id, the same on every attempt of one
	// delivery: the receiver's deduplication key.
	HeaderDelivery = "X-Notifyd-Delivery"
	// HeaderEvent is the kind of event; "message" for a new space message.
	HeaderEvent = "X-Notifyd-Event"
	// UserAgent is the User-Agent of every POST.
	UserAgent = "notifyd-webhook"
	// EventMessage is the HeaderEvent of a new space message.
	EventMessage = "message"
	// DefaultTolerance is Verify's tolerance when it is given none.
	DefaultTolerance = 5 * time.Minute
)

// Sign returns the value of the X-Notifyd-Signature header of a POST of
// body signed at timestamp (decimal Unix seconds, the X-Notifyd-Timestamp
// header) with secret: "sha256=" followed by the lower-case hex
// HMAC-SHA256(secret, timestamp + "." + body).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify is what a receiver (a bot) runs on each POST before trusting it:
// it checks that header carries a timestamp within tolerance of now (zero
// tolerance: DefaultTolerance), which bounds replays, and a signature of
// body with secret, compared in constant time. body must be the raw bytes
// received, before any JSON decoding. Errors match ErrSignature.
//
//	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//	if err := webhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//	// dedupe on r.Header.Get(webhook.HeaderDelivery), then handle body
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts := header.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrSignature, HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)).Abs(); d > tolerance {
		return fmt.Errorf("%w: %s is %v away from now, over %v", ErrSignature, HeaderTimestamp, d.Round(time.Second), tolerance)
	}
	got := header.Get(HeaderSignature)
	if !strings.HasPrefix(got, "sha256=") {
		return fmt.Errorf("%w: %s does not start with sha256=", ErrSignature, HeaderSignature)
	}
	if !hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("%w: %s does not match", ErrSignature, HeaderSignature)
	}
	return nil
}
