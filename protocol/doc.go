// Package protocol is notifyd's websocket wire protocol, written once for the
// gateway (package wsgateway) and the Go client (package client): the close
// codes and what a client should do on each, the control frames the server
// sends besides notifications, and the text frames a client may send.
//
// A notification frame is one PyAMS ChatMessage JSON object (package
// message); everything here is what surrounds it. Each frame is one JSON
// object per websocket text frame, except the keep-alive texts PING and PONG.
//
// Server to client, besides notifications: the logout frame (LogoutFrame),
// the gap frame (GapFrame) and, when the gateway serves the inbox, the
// inbox frame {"action":"inbox","unread":N,"unseen":M} (InboxFrame: the
// user's badge counts on the site, after every change), the update frame
// (UpdateFrame: a changed message's new push form with action "update")
// and the retract frame {"action":"retract","id":"<id>"} (RetractFrame).
// PyAMS's browser client ignores actions it has no handler for, so these
// reach it harmlessly.
//
// Client to server: PING, and the ack frame {"action":"ack","id":"<id>"}
// (AckFrame, ParseAck; at most MaxAckFrameSize bytes) of a connection
// opened with ?device=<id>. Any other text is ignored by the gateway.
//
// The package has no state and starts no goroutine.
package protocol
