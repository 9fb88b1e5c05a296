package pubsub

import (
	"github.com/redis/go-redis/v9"

	"github.com/notifyd/notifyd/history"
)

// HistoryConfig is history.Config.
//
// Deprecated: use history.Config. Kept only until the tests of package
// wsgateway call history.New; delete it then.
type HistoryConfig = history.Config

// NewHistory is history.New.
//
// Deprecated: use history.New. Kept only until the tests of package
// wsgateway call it; delete it then.
func NewHistory(rdb redis.UniversalClient, cfg HistoryConfig) (*history.Store, error) {
	return history.New(rdb, cfg)
}
