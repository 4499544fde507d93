package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/laravel"
)

// A Laravel job that fails for good lands in the app's failed_jobs table as Laravel writes it (uuid from the
// payload, connection, queue, the pushed bytes, the exception), leaves Redis, and `retry` brings it back.
func TestFailedJobsTable(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t)
	prefix := fmt.Sprintf("qbfailsql%d_", rand.Int64())
	t.Cleanup(func() { deleteKeys(rdb, prefix+"*") })
	db := "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	ctx := context.Background()
	cfg := &bridge.Config{
		Dialect:        "laravel-8",
		Prefix:         prefix,
		FailedDatabase: db,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker:         bridge.WorkerConfig{Queues: []string{"default"}, Tries: 1, StopWhenEmpty: true, Sleep: time.Millisecond},
	}
	// The queue is the caller's Redis client: Migrate only needs to know the queue is not a database.
	_, err := bridge.Migrate(ctx, &bridge.Config{Connection: "redis://unused", Dialect: cfg.Dialect, FailedDatabase: db}, false)
	require.NoError(t, err)
	cn, err := bridge.OpenRedis(ctx, rdb, cfg)
	require.NoError(t, err)
	defer cn.Close()

	_, err = cn.Push(ctx, "default", `App\Jobs\Legacy@handle`, "x")
	require.NoError(t, err)
	raw, err := rdb.LIndex(ctx, prefix+"queues:default", 0).Result()
	require.NoError(t, err)
	p, err := laravel.Dialect{Version: laravel.V8, Prefix: prefix}.Parse([]byte(raw))
	require.NoError(t, err)

	cn.HandleFunc(`App\Jobs\Legacy@handle`, func(context.Context, *bridge.Job) error {
		return errors.New("boom")
	})
	require.NoError(t, cn.Run(ctx))

	failed, err := cn.Failed(ctx)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	require.Equal(t, p.UUID, failed[0].ID)
	require.Equal(t, "redis", failed[0].Connection)
	require.Equal(t, "default", failed[0].Queue)
	require.Equal(t, raw, string(failed[0].Payload), "failed_jobs.payload is the pushed bytes")
	require.Contains(t, failed[0].Exception, "boom")
	for _, k := range []string{"", ":reserved", ":delayed"} {
		n, err := rdb.Exists(ctx, prefix+"queues:default"+k).Result()
		require.NoError(t, err)
		require.Zero(t, n, "queues:default%s", k)
	}

	require.NoError(t, cn.Retry(ctx, p.UUID))
	back, err := rdb.LRange(ctx, prefix+"queues:default", 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, back, 1)
	require.True(t, strings.HasSuffix(back[0], `"attempts":0}`))
	failed, err = cn.Failed(ctx)
	require.NoError(t, err)
	require.Empty(t, failed)
}
