package redistest

import "testing"

func TestKeySlot(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, 3)
	node := c.Nodes()[0]
	tests := []struct {
		key  string
		want int // what the server must say too; -1: whatever it says
	}{
		{"", 0},
		{"123456789", 0x31C3}, // the CRC16/XMODEM check value
		{"foo", 12182},
		{"chat:notifications::https://app.example.com", -1},
		{"{chat:notifications::https://app.example.com}:seen:01J", -1},
		{"{user1000}.following", -1},
		{"foo{}{bar}", -1}, // empty first tag: the whole key hashes
		{"foo{{bar}}zap", -1},
		{"foo{bar}{zap}", -1},
		{"{", -1},
	}
	for _, tt := range tests {
		n, err := node.Call("CLUSTER", "KEYSLOT", tt.key)
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %q: %v", tt.key, err)
		}
		want := int(n.(int64))
		if tt.want >= 0 && want != tt.want {
			t.Fatalf("CLUSTER KEYSLOT %q = %d, table says %d", tt.key, want, tt.want)
		}
		if got := KeySlot(tt.key); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", tt.key, got, want)
		}
	}
}
