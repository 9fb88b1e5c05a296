package handler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/notifyd/notifyd/message"
)

// Config configures a Registry.
type Config struct {
	// Logger receives a Debug record for each message whose category has no
	// handler. Nil discards.
	Logger *slog.Logger
}

// Registry maps categories to the handlers that compute their targets. It is
// safe for concurrent use. The zero value is not usable: call NewRegistry.
type Registry struct {
	// Immutable after NewRegistry.
	log *slog.Logger

	unhandled atomic.Uint64 // messages resolved without a handler

	mu       sync.RWMutex // guards handlers
	handlers map[string]Handler
}

// NewRegistry returns an empty registry. Register the built-in Login handler
// and any rules explicitly.
func NewRegistry(cfg Config) *Registry {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{log: log, handlers: make(map[string]Handler)}
}

// Register makes h the handler of category. It fails with ErrInvalid for an
// empty category or a nil handler, and with ErrDuplicate when the category
// already has a handler.
func (r *Registry) Register(category string, h Handler) error {
	if err := checkRegistration(category, h); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[category]; dup {
		return fmt.Errorf("handler: register %q: %w", category, ErrDuplicate)
	}
	r.handlers[category] = h
	return nil
}

func checkRegistration(category string, h Handler) error {
	if category == "" {
		return fmt.Errorf("handler: register: empty category: %w", ErrInvalid)
	}
	if f, ok := h.(HandlerFunc); h == nil || (ok && f == nil) {
		return fmt.Errorf("handler: register %q: nil handler: %w", category, ErrInvalid)
	}
	return nil
}

// Categories returns the categories that have a handler, sorted.
func (r *Registry) Categories() []string {
	r.mu.RLock()
	out := make([]string, 0, len(r.handlers))
	for c := range r.handlers {
		out = append(out, c)
	}
	r.mu.RUnlock()
	slices.Sort(out)
	return out
}

// Lookup returns the handler of category.
func (r *Registry) Lookup(category string) (Handler, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	h, ok := r.handlers[category]
	return h, ok
}

// Unhandled returns how many messages Resolve has seen whose category had no
// handler (and that named no target themselves).
func (r *Registry) Unhandled() uint64 {
	return r.unhandled.Load()
}

// Resolve sets m.Target, following PyAMS: a message that already names target
// principals keeps them unchanged; otherwise the handler of m.Category computes
// them, deduplicated and without empty strings, and an empty result leaves
// no principal. Without a handler no principal is set, the message is counted
// (Unhandled) and logged at Debug level. A handler error (or panic) is
// returned wrapped, with m left unchanged. Resolve mutates m: the caller must
// own it.
//
// When the category's handler is a TargetKeyer, the extra keys it reads that
// m carries are recorded in m.Target.Keys, whether the handler ran or the
// message came with its target: they are part of the target, stored with it
// and left out of the push form. Resolving a message twice records nothing
// new.
func (r *Registry) Resolve(ctx context.Context, m *message.Message) error {
	h, ok := r.Lookup(m.Category)
	if m.HasTarget() {
		if ok {
			recordKeys(m, h)
		}
		return nil
	}
	if !ok {
		setTarget(m, nil)
		r.unhandled.Add(1)
		r.log.DebugContext(ctx, "no handler for category", "category", m.Category, "host", m.Host)
		return nil
	}
	principals, err := callHandler(ctx, h, m)
	if err != nil {
		return fmt.Errorf("handler: category %q: %w", m.Category, err)
	}
	setTarget(m, dedupe(principals))
	recordKeys(m, h)
	return nil
}

// setTarget gives m the target principals, keeping the target keys already
// recorded; with neither, m.Target is nil.
func setTarget(m *message.Message, principals []string) {
	keys := m.TargetKeys()
	if len(principals) == 0 && len(keys) == 0 {
		m.Target = nil
		return
	}
	m.Target = &message.Target{Principals: principals, Keys: keys}
}

// recordKeys adds to m's target keys the extra keys h reads (when it is a
// TargetKeyer) that m carries and that are not recorded yet.
func recordKeys(m *message.Message, h Handler) {
	k, ok := h.(TargetKeyer)
	if !ok {
		return
	}
	for _, key := range k.TargetKeys() {
		if _, present := m.Extra[key]; !present || slices.Contains(m.TargetKeys(), key) {
			continue
		}
		if m.Target == nil {
			m.Target = &message.Target{}
		}
		m.Target.Keys = append(m.Target.Keys, key)
	}
}

// callHandler runs h, turning a panic into an error: one faulty handler must
// not take down the dispatcher that resolves every message.
func callHandler(ctx context.Context, h Handler, m *message.Message) (principals []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			principals, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return h.Target(ctx, m)
}
