package api

import (
	"net/url"

	"github.com/notifyd/notifyd/message"
)

// notificationsQuery holds the parameters of GET /api/chat/notifications.
type notificationsQuery struct {
	since string // id cursor; "" for none
	limit int    // 1..maxLimit; 0 for no limit
}

// parseNotificationsQuery reads since and limit from v. limit must be
// decimal digits only and within 1..maxLimit; since must not be longer than
// an id can be. The first value of a repeated parameter counts.
func parseNotificationsQuery(v url.Values, maxLimit int) (notificationsQuery, error) {
	var q notificationsQuery
	q.since = v.Get("since")
	if len(q.since) > message.MaxIDLength {
		return q, errBadSince
	}
	if s := v.Get("limit"); s != "" {
		n, ok := parseLimit(s, maxLimit)
		if !ok {
			return q, errBadLimit
		}
		q.limit = n
	}
	return q, nil
}

// parseLimit parses s as a decimal integer in 1..max without overflowing.
func parseLimit(s string, max int) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, n >= 1
}
