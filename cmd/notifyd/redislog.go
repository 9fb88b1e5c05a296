package main

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLogger routes go-redis's internal messages (pool dial failures and
// the like) to the structured log instead of unstructured stderr lines.
type redisLogger struct{ log *slog.Logger }

// Printf implements go-redis's internal.Logging.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
