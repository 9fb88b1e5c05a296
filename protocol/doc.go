// Package protocol is notifyd's websocket wire protocol, written once for the
// gateway (package wsgateway) and the Go client (package client): the close
// codes and what a client should do on each, the control frames the server
// sends besides notifications, and the text frames a client may send.
//
// A notification frame is one PyAMS ChatMessage JSON object (package
// message); everything here is what surrounds it. Each frame is one JSON
// object per websocket text frame, except the keep-alive texts PING and PONG.
//
// The package has no state and starts no goroutine.
package protocol
