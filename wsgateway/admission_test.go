package wsgateway

import "testing"

func TestSlotsReserveRelease(t *testing.T) {
	t.Parallel()
	h := newHub()
	if !h.reserve(2) || !h.reserve(2) || h.reserve(2) {
		t.Fatal("reserve(2) did not allow exactly two")
	}
	h.release()
	if !h.reserve(2) {
		t.Fatal("released slot not reusable")
	}
	for range 100 {
		if !h.reserve(-1) {
			t.Fatal("negative max limited")
		}
	}
	if !h.reservePrincipal("a", 1) || h.reservePrincipal("a", 1) || !h.reservePrincipal("b", 1) {
		t.Fatal("per-principal limit of 1 not applied per principal")
	}
	h.releasePrincipal("a")
	h.releasePrincipal("b")
	if len(h.slots.perPrincipal) != 0 {
		t.Errorf("zero entries left: %v", h.slots.perPrincipal)
	}
}

func TestAdmitAfterDisconnect(t *testing.T) {
	t.Parallel()
	h := newHub()
	alice := fakeConn(1, siteA, "users:alice", 1)
	bob := fakeConn(2, siteA, "users:bob", 1)
	late := fakeConn(3, siteA, "users:alice", 1)

	genAlice := h.beginAdmission()
	genBob := h.beginAdmission()
	if got := h.disconnect("users:alice"); len(got) != 0 {
		t.Errorf("disconnect returned %d unattached conns", len(got))
	}
	genLate := h.beginAdmission() // began after the Disconnect: its token was checked after
	if h.admit(alice, genAlice) {
		t.Error("alice admitted although disconnected during her admission")
	}
	if !h.admit(bob, genBob) {
		t.Error("bob refused")
	}
	if !h.admit(late, genLate) {
		t.Error("an admission begun after Disconnect was refused")
	}
	if len(h.slots.disconnected) != 0 || h.slots.admitting != 0 {
		t.Errorf("admission state not cleared: %+v", h.slots)
	}
	// Without admissions running, nothing is recorded.
	h.disconnect("users:carol")
	if len(h.slots.disconnected) != 0 {
		t.Errorf("recorded without admissions: %v", h.slots.disconnected)
	}
	if h.len() != 2 {
		t.Errorf("len = %d, want 2", h.len())
	}
}
