package main

import (
	"sort"
	"strconv"

	"github.com/notifyd/notifyd/api"
	"github.com/notifyd/notifyd/handler"
	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/internal/httpguard"
	"github.com/notifyd/notifyd/internal/metrics"
	"github.com/notifyd/notifyd/pubsub"
	"github.com/notifyd/notifyd/space"
	"github.com/notifyd/notifyd/webhook"
	"github.com/notifyd/notifyd/wsgateway"
)

// newCollector maps the Stats snapshots of the running parts to Prometheus
// metrics, read at every scrape.
func newCollector(gw *wsgateway.Gateway, sub *pubsub.Subscriber, hist *history.Store, reg *handler.Registry,
	guard *httpguard.Listener, requests *api.Recorder, sp *space.Service, wh *webhook.Dispatcher) *metrics.Collector {
	return metrics.NewCollector(func() []metrics.Sample {
		g, s, h, r := gw.Stats(), sub.Stats(), hist.Stats(), requests.Stats()
		ready := 0.0
		if sub.Ready() {
			ready = 1
		}
		out := []metrics.Sample{
			{Name: "notifyd_ws_connections", Help: "Open authenticated websocket connections.", Gauge: true, Value: float64(g.Connections)},
			{Name: "notifyd_ws_accepted_total", Help: "Websocket connections authenticated and registered.", Value: float64(g.Accepted)},
			{Name: "notifyd_ws_delivered_total", Help: "Messages enqueued for a websocket.", Value: float64(g.Delivered)},
			{Name: "notifyd_ws_dropped_total", Help: "Messages a matching websocket did not get (queue full or closing).", Value: float64(g.Dropped)},
			{Name: "notifyd_ws_ignored_total", Help: "Inbound text frames other than PING.", Value: float64(g.Ignored)},
			{Name: "notifyd_ws_replayed_total", Help: "Messages replayed to reconnecting clients (since).", Value: float64(g.Replayed)},
			{Name: "notifyd_ws_gaps_total", Help: "Gap frames sent: since was no longer kept.", Value: float64(g.Gaps)},
			{Name: "notifyd_ws_history_errors_total", Help: "History reads that failed during a replay.", Value: float64(g.HistoryErrors)},
			{Name: "notifyd_ws_history_reads_total", Help: "History reads made for catch-ups.", Value: float64(g.HistoryReads)},
			{Name: "notifyd_ws_history_joins_total", Help: "Catch-ups served by a history read another connection asked for.", Value: float64(g.HistoryJoins)},
			{Name: "notifyd_ws_seam_skipped_total", Help: "Live messages skipped because the replay already sent them.", Value: float64(g.SeamSkipped)},
			{Name: "notifyd_ws_writers", Help: "Websocket and stream writers running now (an idle connection has none).", Gauge: true, Value: float64(g.Writers)},
			{Name: "notifyd_ws_refusing", Help: "Refused websockets being closed now (they hold no connection slot).", Gauge: true, Value: float64(g.Refusing)},
			{Name: "notifyd_ws_refusals_unanswered_total", Help: "Refused websockets whose client never answered the close (cut after 1 s).", Value: float64(g.RefusalsUnanswered)},
			{Name: "notifyd_ws_muted", Help: "Open websockets muted at token expiry (PyAMS subprotocol), waiting for their client to close them.", Gauge: true, Value: float64(g.Muted)},
			{Name: "notifyd_ws_mutes_total", Help: "Websockets muted at token expiry.", Value: float64(g.Mutes)},
			{Name: "notifyd_ws_muted_skipped_total", Help: "Queued messages skipped because their websocket was muted.", Value: float64(g.MutedSkipped)},
			{Name: "notifyd_http_conns_refused_total", Help: "TCP connections closed at accept: their client address held NOTIFYD_MAX_CONNECTIONS_PER_ADDR.", Value: float64(guard.Refused())},
			{Name: "notifyd_ws_inbox_frames_total", Help: "Inbox frames (badge counts) sent.", Value: float64(g.InboxFrames)},
			{Name: "notifyd_ws_muted_by_prefs_total", Help: "Live messages and updates not sent because the user muted their category.", Value: float64(g.MutedByPrefs)},
			{Name: "notifyd_ws_acks_total", Help: "Device ack frames accepted.", Value: float64(g.Acks)},
			{Name: "notifyd_ws_inbox_errors_total", Help: "Inbox reads or writes of the gateway that failed or timed out.", Value: float64(g.InboxErrors)},
			{Name: "notifyd_ws_recounts_total", Help: "Inbox counts read again after a retract.", Value: float64(g.Recounts)},
			{Name: "notifyd_ws_space_messages_total", Help: "Space messages fanned out to member websockets.", Value: float64(g.SpaceMessages)},
			{Name: "notifyd_ws_space_malformed_total", Help: "Space messages without a valid space field (not delivered).", Value: float64(g.SpaceMalformed)},
			{Name: "notifyd_ws_commands_total", Help: "Space commands received on websockets.", Value: float64(g.Commands)},
			{Name: "notifyd_ws_command_errors_total", Help: "Space commands answered with an error.", Value: float64(g.CommandErrors)},
			{Name: "notifyd_ws_space_errors_total", Help: "Reads of a user's spaces by the gateway that failed (at connect or resync).", Value: float64(g.SpaceErrors)},
			{Name: "notifyd_delivery_received_total", Help: "Payloads read from the delivery channel (the inbox pipeline).", Value: float64(s.Deliveries)},
			{Name: "notifyd_delivery_reused_total", Help: "Deliveries of messages this gateway prepared from the intake itself, not decoded again.", Value: float64(s.DeliveriesReused)},
			{Name: "notifyd_changes_delivered_total", Help: "Updates and retracts delivered.", Value: float64(s.Updated + s.Retracted)},
			{Name: "notifyd_inbox_announcements_total", Help: "Inbox count and preference changes received from the control channel.", Value: float64(s.InboxChanges + s.PrefsChanges)},
			{Name: "notifyd_subscriber_ready", Help: "1 while subscribed to the Redis channels.", Gauge: true, Value: ready},
			{Name: "notifyd_channel_received_total", Help: "Payloads read from the Redis channel.", Value: float64(s.Received)},
			{Name: "notifyd_channel_delivered_total", Help: "Channel messages handed to the gateway.", Value: float64(s.Delivered)},
			{Name: "notifyd_channel_duplicates_total", Help: "Channel payloads skipped as already dispatched.", Value: float64(s.Duplicates)},
			{Name: "notifyd_subscriber_reconnects_total", Help: "Subscription confirmations after the first.", Value: float64(s.Reconnects)},
			{Name: "notifyd_gap_fills_total", Help: "Gap fills run after a lost subscription.", Value: float64(s.GapFills)},
			{Name: "notifyd_gap_filled_total", Help: "Messages delivered by gap fills.", Value: float64(s.GapFilled)},
			{Name: "notifyd_gap_fill_errors_total", Help: "History reads that failed during a gap fill.", Value: float64(s.GapFillErrors)},
			{Name: "notifyd_control_total", Help: "Control messages received.", Value: float64(s.Control)},
			{Name: "notifyd_control_rejected_total", Help: "Control messages malformed, unknown or dropped.", Value: float64(s.ControlMalformed + s.ControlUnknown + s.ControlDropped)},
			{Name: "notifyd_revocation_disconnects_total", Help: "Connections closed by revocation orders.", Value: float64(s.Disconnected)},
			{Name: "notifyd_history_pending", Help: "History writes waiting for a retry (their site's Redis failed).", Gauge: true, Value: float64(s.HistoryPending)},
			{Name: "notifyd_history_deferred_total", Help: "Messages delivered before they could be stored (their store failed or timed out).", Value: float64(s.HistoryDeferred)},
			{Name: "notifyd_history_written_total", Help: "Messages this gateway stored in history.", Value: float64(s.HistoryWritten)},
			{Name: "notifyd_history_duplicates_total", Help: "History writes refused because the message was already stored.", Value: float64(s.HistoryDuplicates)},
			{Name: "notifyd_history_added_total", Help: "History entries added through this process (publisher and subscriber).", Value: float64(h.Added)},
			{Name: "notifyd_history_undecodable_total", Help: "History entries skipped on read because they did not decode.", Value: float64(h.Undecodable)},
			{Name: "notifyd_unhandled_total", Help: "Messages without target whose category has no handler (they reach nobody).", Value: float64(reg.Unhandled())},
		}
		out = appendLabelled(out, "notifyd_ws_rejected_total", "Refused websocket requests by reason.", "reason", g.Rejected)
		out = appendLabelled(out, "notifyd_ws_disconnects_total", "Ended websocket connections by reason.", "reason", g.Disconnects)
		out = appendLabelled(out, "notifyd_channel_dropped_total", "Channel payloads dropped by reason.", "reason", s.Dropped)
		out = appendLabelled(out, "notifyd_publishes_total", "POST /api/chat/messages by outcome.", "outcome", r.Publishes)
		out = appendChat(out, sp, wh)
		return appendLatencies(out, g, s, r)
	})
}

// appendLatencies adds the histograms (seconds) and the HTTP request counts.
func appendLatencies(out []metrics.Sample, g wsgateway.Stats, s pubsub.SubscriberStats, r api.Stats) []metrics.Sample {
	const (
		handshake = "Time from the websocket request to its admission or refusal, by result."
		requests  = "REST requests answered, by route pattern (other: none matched), method and status."
		durations = "REST request durations, by route pattern and method."
	)
	out = append(out,
		metrics.Sample{Name: "notifyd_publish_to_delivery_seconds", Histogram: &s.PublishToDelivery,
			Help: "Age of each message handed to the websockets live: now minus its timestamp (a bare PUBLISH: the producer's clock)."},
		metrics.Sample{Name: "notifyd_ws_handshake_seconds", Help: handshake, LabelName: "result", LabelValue: "accepted", Histogram: &g.HandshakeAccepted},
		metrics.Sample{Name: "notifyd_ws_handshake_seconds", Help: handshake, LabelName: "result", LabelValue: "refused", Histogram: &g.HandshakeRefused},
	)
	for _, c := range r.Requests {
		out = append(out, metrics.Sample{Name: "notifyd_http_requests_total", Help: requests, Value: float64(c.Count),
			Labels: []metrics.Label{{Name: "route", Value: c.Route}, {Name: "method", Value: c.Method}, {Name: "status", Value: strconv.Itoa(c.Status)}}})
	}
	for i := range r.Durations {
		d := &r.Durations[i]
		out = append(out, metrics.Sample{Name: "notifyd_http_request_duration_seconds", Help: durations, Histogram: &d.Duration,
			Labels: []metrics.Label{{Name: "route", Value: d.Route}, {Name: "method", Value: d.Method}}})
	}
	return out
}

// appendLabelled adds one sample per key of counts, labelled label, in a
// stable order.
func appendLabelled[K ~string](out []metrics.Sample, name, help, label string, counts map[K]uint64) []metrics.Sample {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, metrics.Sample{Name: name, Help: help, LabelName: label, LabelValue: k, Value: float64(counts[K(k)])})
	}
	return out
}
