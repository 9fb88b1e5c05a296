package handler

import (
	"context"
	"errors"
	"slices"

	"github.com/notifyd/notifyd/message"
)

// Sentinel errors; test them with errors.Is.
var (
	// ErrDuplicate: a category already has a handler.
	ErrDuplicate = errors.New("handler: duplicate category")
	// ErrInvalid: a registration or a rule is malformed (empty category, nil
	// handler, bad rules file).
	ErrInvalid = errors.New("handler: invalid")
)

// Handler computes the target principals of a message of its category. The
// message's Source, Category and Extra are set; its Target names no principal.
// A Handler must be safe for concurrent use and must not modify the message.
type Handler interface {
	Target(ctx context.Context, m *message.Message) ([]string, error)
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, m *message.Message) ([]string, error)

// Target calls f(ctx, m).
func (f HandlerFunc) Target(ctx context.Context, m *message.Message) ([]string, error) {
	return f(ctx, m)
}

var _ Handler = HandlerFunc(nil)

// TargetKeyer is implemented by handlers that compute targets from extra keys
// of the message (Rule does, for its "$name" references). Those keys are part
// of the target: Registry.Resolve records the ones a message carries in its
// target (message.Target.Keys), so that they are stored with it and never
// sent to recipients.
type TargetKeyer interface {
	// TargetKeys returns the names of the extra keys the handler reads.
	TargetKeys() []string
}

// dedupe returns a new slice holding the non-empty strings of in, each once,
// in first-seen order. The copy keeps a handler's own slice out of the message.
func dedupe(in []string) []string {
	const linear = 16 // up to this many, a quadratic scan beats a map
	out := make([]string, 0, len(in))
	var seen map[string]struct{}
	if len(in) > linear {
		seen = make(map[string]struct{}, len(in))
	}
	for _, p := range in {
		if p == "" {
			continue
		}
		if seen != nil {
			if _, dup := seen[p]; dup {
				continue
			}
			seen[p] = struct{}{}
		} else if slices.Contains(out, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}
