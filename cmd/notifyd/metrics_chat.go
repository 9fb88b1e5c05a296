package main

import (
	"github.com/notifyd/notifyd/internal/metrics"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/webhook"
)

// appendChat adds the space service's and the webhook dispatcher's
// figures; nothing when spaces are off.
func appendChat(out []metrics.Sample, sp *space.Service, d *webhook.Dispatcher) []metrics.Sample {
	if sp == nil || d == nil {
		return out
	}
	s, w := sp.Stats(), d.Stats()
	return append(out,
		metrics.Sample{Name: "notifyd_space_created_total", Help: "Spaces created (group and direct).", Value: float64(s.Created)},
		metrics.Sample{Name: "notifyd_space_sent_total", Help: "Space messages published.", Value: float64(s.Sent)},
		metrics.Sample{Name: "notifyd_space_reactions_total", Help: "Reactions added or removed.", Value: float64(s.Reactions)},
		metrics.Sample{Name: "notifyd_space_typing_total", Help: "Typing events published.", Value: float64(s.Typing)},
		metrics.Sample{Name: "notifyd_space_typing_dropped_total", Help: "Typing events dropped by the per-user interval.", Value: float64(s.TypingDropped)},
		metrics.Sample{Name: "notifyd_space_events_published_total", Help: "Space events (membership, typing, reactions) published to every gateway.", Value: float64(s.EventsPublished)},
		metrics.Sample{Name: "notifyd_space_events_received_total", Help: "Space events received and applied to this gateway's connections.", Value: float64(s.EventsReceived)},
		metrics.Sample{Name: "notifyd_space_rate_limited_total", Help: "Space messages refused by the per-user send rate.", Value: float64(s.RateLimited)},
		metrics.Sample{Name: "notifyd_space_errors_total", Help: "Space operations that failed on Redis, history or the publisher, and event resubscriptions.", Value: float64(s.Errors)},
		metrics.Sample{Name: "notifyd_webhook_queued_total", Help: "Webhook deliveries queued (one per message and matching webhook).", Value: float64(w.Queued)},
		metrics.Sample{Name: "notifyd_webhook_delivered_total", Help: "Webhook deliveries answered 2xx.", Value: float64(w.Delivered)},
		metrics.Sample{Name: "notifyd_webhook_attempts_total", Help: "Webhook POSTs started.", Value: float64(w.Attempts)},
		metrics.Sample{Name: "notifyd_webhook_failed_total", Help: "Webhook attempts that failed (retried while the delivery is young enough).", Value: float64(w.Failed)},
		metrics.Sample{Name: "notifyd_webhook_gave_up_total", Help: "Webhook deliveries abandoned: too old, 410, another permanent answer, or a refused address.", Value: float64(w.GaveUp)},
		metrics.Sample{Name: "notifyd_webhook_refused_total", Help: "Webhook attempts refused at dial time: the address is not public.", Value: float64(w.Refused)},
		metrics.Sample{Name: "notifyd_webhook_retries_total", Help: "Webhook deliveries moved to the retry set.", Value: float64(w.Retries)},
		metrics.Sample{Name: "notifyd_webhook_claimed_total", Help: "Webhook deliveries taken over from a gateway that held them too long.", Value: float64(w.Claimed)},
		metrics.Sample{Name: "notifyd_webhook_pending", Help: "Webhook POSTs in progress on this gateway.", Gauge: true, Value: float64(w.Pending)},
	)
}
