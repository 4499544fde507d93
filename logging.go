package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// redisLogger routes go-redis's own messages (dial errors, pool and failover notices) into the bridge's
// slog logger at debug level, instead of its default printing to stderr around the bridge's lines: the
// bridge reports the errors that matter itself. go-redis keeps one logger per process, so the last
// Connect's logger gets them.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "from", "go-redis")
}

func routeRedisLogs(log *slog.Logger) { goredis.SetLogger(redisLogger{log}) }
