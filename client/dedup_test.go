package client

import "testing"

func TestRecent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
		adds []string
		want []bool
	}{
		{"new then duplicate", 4, []string{"a", "b", "a"}, []bool{true, true, false}},
		{"oldest forgotten when full", 2, []string{"a", "b", "c", "a", "c"}, []bool{true, true, true, true, false}},
		{"disabled remembers nothing", 0, []string{"a", "a"}, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRecent(tt.size)
			for i, id := range tt.adds {
				if got := r.add(id); got != tt.want[i] {
					t.Fatalf("add #%d (%q) = %v, want %v", i, id, got, tt.want[i])
				}
			}
			if len(r.set) > max(tt.size, 0) {
				t.Fatalf("set holds %d ids, capacity %d", len(r.set), tt.size)
			}
		})
	}
}
