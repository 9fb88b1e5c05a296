package wsgateway

// Disconnect closes every connection whose identity principal (the token's
// sub) is principal with protocol.CloseRevoked, and returns how many it closed;
// connections already closing for another reason are not counted. A
// connection of principal whose token was verified before this call but that
// is not registered yet is refused when it tries to register (logout frame,
// protocol.CloseUnauthorized). Disconnect only signals the writers: it never blocks on
// a socket. It satisfies pubsub.ControlSink.
//
// Disconnect does not refuse future tokens: the revocation store consulted
// by the Authenticator (auth.Revocable) does.
func (g *Gateway) Disconnect(principal string) int {
	if principal == "" {
		return 0
	}
	n := 0
	for _, c := range g.hub.disconnect(principal) {
		if c.stop(stopRevoked) {
			n++
		}
	}
	g.cfg.Logger.Info("wsgateway: principal disconnected", "principal", principal, "connections", n)
	return n
}

// Sites returns the sites (normalized origins) that currently have
// registered connections, sorted. The pubsub subscriber reads their history
// to fill the gap after it resubscribes.
func (g *Gateway) Sites() []string { return g.hub.siteList() }
