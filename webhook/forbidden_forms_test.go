package webhook_test

import (
	"net/netip"
	"testing"

	"github.com/notifyd/notifyd/webhook"
)

func TestForbiddenEmbeddedAndTunnelledForms(t *testing.T) {
	for _, s := range []string{"::127.0.0.1", "::10.0.0.1", "::ffff:0:127.0.0.1", "2002:7f00:1::1", "2002:a00:1::1", "fec0::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe", "100::1", "2001:db8::1"} {
		if !webhook.Forbidden(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
}

// TestPublicAddressesAllowed: the rules above do not refuse public
// endpoints.
func TestPublicAddressesAllowed(t *testing.T) {
	for _, s := range []string{"2606:4700:4700::1111", "2a00:1450:4007:80e::200e", "93.184.216.34", "::ffff:93.184.216.34"} {
		if webhook.Forbidden(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
}
