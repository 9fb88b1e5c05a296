package wsgateway

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()
	policy := mustPolicy(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string // the invalid fields, in Config order
	}{
		{"no auth", Config{Sites: policy}, []string{"Auth"}},
		{"no sites", Config{Auth: nopAuth{}}, []string{"Sites"}},
		{"negative queue", Config{Auth: nopAuth{}, Sites: policy, QueueSize: -1}, []string{"QueueSize"}},
		{"negative write timeout", Config{Auth: nopAuth{}, Sites: policy, WriteTimeout: -1}, []string{"WriteTimeout"}},
		{"negative read limit", Config{Auth: nopAuth{}, Sites: policy, ReadLimit: -1}, []string{"ReadLimit"}},
		{"negative replay timeout", Config{Auth: nopAuth{}, Sites: policy, ReplayTimeout: -1}, []string{"ReplayTimeout"}},
		{"negative replay concurrency", Config{Auth: nopAuth{}, Sites: policy, ReplayConcurrency: -1}, []string{"ReplayConcurrency"}},
		{"negative connect burst", Config{Auth: nopAuth{}, Sites: policy, ConnectBurst: -1}, []string{"ConnectBurst"}},
		{"NaN connect rate", Config{Auth: nopAuth{}, Sites: policy, ConnectRate: math.NaN()}, []string{"ConnectRate"}},
		{"unknown expiry mode", Config{Auth: nopAuth{}, Sites: policy, ExpiryMode: "Mute"}, []string{"ExpiryMode"}},
		{"negative mute grace", Config{Auth: nopAuth{}, Sites: policy, MuteGrace: -1}, []string{"MuteGrace"}},
		{"close on expiry", Config{Auth: nopAuth{}, Sites: policy, ExpiryMode: ExpiryClose}, nil},
		{"every field at once", Config{QueueSize: -1, ConnectBurst: -1}, []string{"Auth", "Sites", "QueueSize", "ConnectBurst"}},
		{"minimal", Config{Auth: nopAuth{}, Sites: policy}, nil},
		{"limits disabled", Config{Auth: nopAuth{}, Sites: policy, MaxConnections: -1, MaxConnectionsPerPrincipal: -1, ConnectRate: -1}, nil},
		{"pings disabled", Config{Auth: nopAuth{}, Sites: policy, PingInterval: -1, ShutdownSpread: -1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := New(tt.cfg)
			if tt.wantErr != nil {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("New = %v, want ErrInvalidConfig", err)
				}
				if got := invalidFields(err); !slices.Equal(got, tt.wantErr) {
					t.Errorf("invalid fields %q, want %q", got, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if g.cfg.Logger == nil || g.cfg.Now == nil {
				t.Error("Logger or Now not defaulted")
			}
		})
	}
}

// invalidFields returns the fields named by New's error, in order.
func invalidFields(err error) []string {
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *fieldError
		if errors.As(e, &fe) {
			fields = append(fields, fe.field)
		}
	}
	return fields
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	g, err := New(Config{Auth: nopAuth{}, Sites: mustPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := g.cfg
	if c.QueueSize != 256 || c.WriteTimeout != 10*time.Second || c.PingInterval != 30*time.Second ||
		c.ReadLimit != 4096 || c.ShutdownSpread != time.Second || c.ReplayTimeout != 5*time.Second ||
		c.MaxConnections != 10000 || c.MaxConnectionsPerPrincipal != 32 || c.ConnectRate != 5 ||
		c.ConnectBurst != 20 || c.ClientIPHeader != "" || c.History != nil || c.ReplayConcurrency != 4 ||
		c.ExpiryMode != ExpiryMute || c.MuteGrace != 30*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	if !g.connects.Enabled() {
		t.Error("connection rate limiter disabled by default")
	}
	g, err = New(Config{Auth: nopAuth{}, Sites: mustPolicy(t), PingInterval: -1, ShutdownSpread: -1,
		MaxConnections: -1, MaxConnectionsPerPrincipal: -1, ConnectRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	if g.cfg.PingInterval >= 0 || g.cfg.ShutdownSpread >= 0 || g.cfg.MaxConnections >= 0 ||
		g.cfg.MaxConnectionsPerPrincipal >= 0 || g.connects.Enabled() {
		t.Errorf("negative values were replaced: %+v", g.cfg)
	}
}
