package bridge_test

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/queuebridge/bridge"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

// A database job whose attempts column reached 255 fails instead of being run (and its column overflowed),
// even with unlimited tries; the job behind it runs.
func TestAttemptsColumnCeiling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "app.db")
	cfg := &bridge.Config{
		Connection: "sqlite:" + file,
		Dialect:    "thinkqueue-v3",
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker:     bridge.WorkerConfig{Queues: []string{"default"}, StopWhenEmpty: true, Sleep: time.Millisecond},
	}
	_, err := bridge.Migrate(ctx, cfg, false)
	require.NoError(t, err)
	cn, err := bridge.Open(ctx, cfg)
	require.NoError(t, err)
	defer cn.Close()

	poison, err := cn.Push(ctx, "default", `app\job\Hello`, "poison")
	require.NoError(t, err)
	_, err = cn.Push(ctx, "default", `app\job\Hello`, "next")
	require.NoError(t, err)
	db, err := dbsql.Open("sqlite", file)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`UPDATE jobs SET attempts = 255 WHERE id = ?`, poison)
	require.NoError(t, err)

	var ran []string
	cn.HandleFunc(`app\job\Hello`, func(_ context.Context, j *bridge.Job) error {
		ran = append(ran, string(j.Data()))
		return nil
	})
	require.NoError(t, cn.Run(ctx))

	require.Equal(t, []string{`"next"`}, ran)
	failed, err := cn.Failed(ctx)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	require.Contains(t, failed[0].Exception, "reached 255")
	var left int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM jobs`).Scan(&left))
	require.Zero(t, left)
}

// The app's table prefix applies to both tables, whatever FailedTable defaults to.
func TestTablePrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "app.db")
	migrations, err := bridge.Migrate(ctx, &bridge.Config{
		Connection: "sqlite:" + file + "?prefix=tp_",
		Dialect:    "laravel-8",
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, true)
	require.NoError(t, err)
	joined := fmt.Sprint(migrations)
	require.Contains(t, joined, `"tp_jobs"`)
	require.Contains(t, joined, `"tp_failed_jobs"`)
}
