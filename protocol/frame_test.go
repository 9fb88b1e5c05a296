package protocol

import (
	"encoding/json"
	"testing"

	"github.com/coder/websocket"
)

func TestGapFrame(t *testing.T) {
	for _, since := range []string{"", "01KAKF8G0V7P3HZ2W9QX4T1B6C", `a"b\c<script>`} {
		var got struct{ Action, Status, Since string }
		if err := json.Unmarshal(GapFrame(since), &got); err != nil {
			t.Fatalf("GapFrame(%q) is not JSON: %v", since, err)
		}
		if got.Action != ActionGap || got.Status != StatusWarning || got.Since != since {
			t.Errorf("GapFrame(%q) = %+v", since, got)
		}
	}
}

func TestLogoutFrame(t *testing.T) {
	var got struct{ Action, Status string }
	if err := json.Unmarshal(LogoutFrame, &got); err != nil {
		t.Fatal(err)
	}
	if got.Action != ActionLogout || got.Status != StatusForbidden {
		t.Errorf("LogoutFrame = %+v", got)
	}
}

func TestCloseEvent(t *testing.T) {
	for _, c := range []struct {
		code   websocket.StatusCode
		reason string
		want   string
	}{
		{CloseSlowConsumer, ReasonSlow, `{"action":"close","code":4000,"reason":"slow consumer"}`},
		{CloseGoingAway, "", `{"action":"close","code":1001}`},
		{CloseUnauthorized, `a "quoted" <b>`, `{"action":"close","code":4001,"reason":"a \"quoted\" \u003cb\u003e"}`},
	} {
		if got := string(CloseEvent(c.code, c.reason)); got != c.want {
			t.Errorf("CloseEvent(%d, %q) = %s, want %s", c.code, c.reason, got, c.want)
		}
	}
}
