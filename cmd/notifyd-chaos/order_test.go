package main

import "testing"

func TestOutOfOrder(t *testing.T) {
	rank := map[int]int{10: 0, 11: 1, 12: 2, 13: 3}
	inPhase := func(seq int) bool { return seq >= 10 }
	for _, tc := range []struct {
		name                          string
		received                      []int
		inversions, unranked, checked int
	}{
		{"in order", []int{10, 11, 12, 13}, 0, 0, 4},
		{"a subsequence", []int{10, 13}, 0, 0, 2},
		{"one late", []int{10, 12, 11, 13}, 1, 0, 4},
		{"one early", []int{13, 10, 11, 12}, 3, 0, 4},
		{"other phases and trimmed ones ignored", []int{1, 10, 99, 11, 2}, 0, 1, 2},
	} {
		inv, unr, chk := outOfOrder(tc.received, rank, inPhase)
		if inv != tc.inversions || unr != tc.unranked || chk != tc.checked {
			t.Errorf("%s: outOfOrder = %d, %d, %d; want %d, %d, %d", tc.name, inv, unr, chk,
				tc.inversions, tc.unranked, tc.checked)
		}
	}
}
