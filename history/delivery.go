package history

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadDelivery matches the error of ParseDelivery for a payload that is
// not "<kind> <seq> <stored>".
var ErrBadDelivery = errors.New("history: malformed delivery")

// ParseDelivery parses a payload of the delivery channel: "<kind> <seq>
// <stored>", kind one of m, u, x, seq a positive decimal. Stored is not
// decoded (message.Decode it).
func ParseDelivery(payload string) (Delivery, error) {
	k, seq, stored, err := CutDelivery(payload)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Kind: k, Seq: seq, Stored: []byte(stored)}, nil
}

// CutDelivery is ParseDelivery without the copy: the stored form is a
// substring of payload.
func CutDelivery(payload string) (kind DeliveryKind, seq int64, stored string, err error) {
	k, rest, ok := strings.Cut(payload, " ")
	if !ok || len(k) != 1 {
		return 0, 0, "", fmt.Errorf("%w: %.40q", ErrBadDelivery, payload)
	}
	kind = DeliveryKind(k[0])
	switch kind {
	case DeliveryMessage, DeliveryUpdate, DeliveryRetract:
	default:
		return 0, 0, "", fmt.Errorf("%w: kind %q", ErrBadDelivery, k)
	}
	num, stored, ok := strings.Cut(rest, " ")
	seq, err = strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || seq <= 0 || stored == "" {
		return 0, 0, "", fmt.Errorf("%w: %.40q", ErrBadDelivery, payload)
	}
	return kind, seq, stored, nil
}

// String returns the payload of d on the delivery channel.
func (d Delivery) String() string {
	var b bytes.Buffer
	b.WriteByte(byte(d.Kind))
	b.WriteByte(' ')
	b.WriteString(formatSeq(d.Seq))
	b.WriteByte(' ')
	b.Write(d.Stored)
	return b.String()
}
