package wsgateway

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()
	policy := mustPolicy(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"no auth", Config{Sites: policy}, true},
		{"no sites", Config{Auth: nopAuth{}}, true},
		{"negative queue", Config{Auth: nopAuth{}, Sites: policy, QueueSize: -1}, true},
		{"negative write timeout", Config{Auth: nopAuth{}, Sites: policy, WriteTimeout: -1}, true},
		{"negative read limit", Config{Auth: nopAuth{}, Sites: policy, ReadLimit: -1}, true},
		{"negative replay timeout", Config{Auth: nopAuth{}, Sites: policy, ReplayTimeout: -1}, true},
		{"negative replay concurrency", Config{Auth: nopAuth{}, Sites: policy, ReplayConcurrency: -1}, true},
		{"negative connect burst", Config{Auth: nopAuth{}, Sites: policy, ConnectBurst: -1}, true},
		{"NaN connect rate", Config{Auth: nopAuth{}, Sites: policy, ConnectRate: math.NaN()}, true},
		{"minimal", Config{Auth: nopAuth{}, Sites: policy}, false},
		{"limits disabled", Config{Auth: nopAuth{}, Sites: policy, MaxConnections: -1, MaxConnectionsPerPrincipal: -1, ConnectRate: -1}, false},
		{"pings disabled", Config{Auth: nopAuth{}, Sites: policy, PingInterval: -1, ShutdownSpread: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := New(tt.cfg)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("New = %v, want ErrInvalidConfig", err)
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
		c.ConnectBurst != 20 || c.ClientIPHeader != "" || c.History != nil || c.ReplayConcurrency != 4 {
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
