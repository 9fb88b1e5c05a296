package pubsub

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/notifyd/notifyd/history"
)

// parseDelivery parses "<kind> <seq> <stored>".
//
// TODO(inbox): history.ParseDelivery once s-inbox has it; this stand-in
// follows the design's wire form.
func parseDelivery(payload string) (history.Delivery, error) {
	kind, rest, ok1 := strings.Cut(payload, " ")
	seq, stored, ok2 := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok1 || !ok2 || len(kind) != 1 || err != nil || n <= 0 || stored == "" {
		return history.Delivery{}, fmt.Errorf("%w: not \"<kind> <seq> <stored>\"", errDeliveryMalformed)
	}
	return history.Delivery{Kind: history.DeliveryKind(kind[0]), Seq: n, Stored: []byte(stored)}, nil
}
