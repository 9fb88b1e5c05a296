package redistest

import "testing"

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if _, err := s.Do("SET", "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Stop()
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("PING succeeded after Stop")
	}
	s.Restart()
	if got, err := s.Do("EXISTS", "k"); err != nil || got != ":0" {
		t.Fatalf("after restart EXISTS k = %q, %v; want :0 (not persistent)", got, err)
	}
}
