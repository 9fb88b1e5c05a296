package wsgateway

import (
	"errors"
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
		{"minimal", Config{Auth: nopAuth{}, Sites: policy}, false},
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
		c.ReadLimit != 4096 || c.ShutdownSpread != time.Second {
		t.Errorf("defaults = %+v", c)
	}
	g, err = New(Config{Auth: nopAuth{}, Sites: mustPolicy(t), PingInterval: -1, ShutdownSpread: -1})
	if err != nil {
		t.Fatal(err)
	}
	if g.cfg.PingInterval >= 0 || g.cfg.ShutdownSpread >= 0 {
		t.Errorf("negative PingInterval/ShutdownSpread were replaced: %+v", g.cfg)
	}
}
