package wsgateway

import (
	"context"
	"errors"
	"testing"
)

func TestInboxCallsEndCancelsCallsInFlight(t *testing.T) {
	var ic inboxCalls
	a, cancelA := context.WithCancel(context.Background())
	b, cancelB := context.WithCancel(context.Background())
	unwatchA := ic.watch(cancelA)
	ic.watch(cancelB)
	unwatchA() // call a is over: end must not reach it
	if got := ic.inFlight(); got != 1 {
		t.Fatalf("in flight after one unwatch = %d, want 1", got)
	}
	ic.end()
	if a.Err() != nil {
		t.Errorf("a call that was over was cancelled: %v", a.Err())
	}
	if !errors.Is(b.Err(), context.Canceled) {
		t.Errorf("a call in flight was not cancelled: %v", b.Err())
	}
	if got := ic.inFlight(); got != 0 {
		t.Errorf("in flight after end = %d, want 0", got)
	}
}

func TestInboxCallsAfterEndCancelAtOnce(t *testing.T) {
	var ic inboxCalls
	ic.end()
	ctx, cancel := context.WithCancel(context.Background())
	unwatch := ic.watch(cancel)
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("a call after end was not cancelled: %v", ctx.Err())
	}
	unwatch()
	ic.end() // twice is harmless
	(*inboxCalls)(nil).end()
}

func TestInboxCallsIdleHoldsNothing(t *testing.T) {
	var ic inboxCalls
	for range 3 {
		_, cancel := context.WithCancel(context.Background())
		unwatch := ic.watch(cancel)
		unwatch()
		cancel()
	}
	if ic.cancels != nil {
		t.Fatalf("an idle connection keeps a slice of cap %d", cap(ic.cancels))
	}
}

// inFlight is the number of calls watched.
func (ic *inboxCalls) inFlight() int {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return len(ic.cancels)
}
