package bridge_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/queuebridge/bridge"
	"github.com/stretchr/testify/require"
)

// Opening a database queue labels what failed: the queue's database, the failed database, or a table —
// never the failed jobs table for the queue database's own errors — and repeats no password.
func TestOpenSQLErrorsLabelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	refused := "mysql://root:s3cr3t@127.0.0.1:1/db?timeout=1s"

	_, err := bridge.Open(ctx, &bridge.Config{Connection: refused, Dialect: "laravel-8", Logger: quiet})
	require.ErrorContains(t, err, "queue database: storage/sql: connect to mysql 127.0.0.1:1/db")
	require.NotContains(t, err.Error(), "failed jobs table")
	require.NotContains(t, err.Error(), "s3cr3t")

	// An app's database without the jobs table: the table is named, with the way to create it.
	file := filepath.Join(t.TempDir(), "app.db")
	require.NoError(t, os.WriteFile(file, nil, 0o600)) // an empty SQLite database
	app := &bridge.Config{Connection: "sqlite:" + file + "?prefix=tp_", Dialect: "thinkqueue-v3", Logger: quiet}
	_, err = bridge.Open(ctx, app)
	require.ErrorContains(t, err, "jobs table tp_jobs does not exist (`bridge migrate` creates it)")
	require.NotContains(t, err.Error(), "failed jobs table")

	_, err = bridge.Migrate(ctx, app, false)
	require.NoError(t, err)
	app.FailedDatabase = refused
	_, err = bridge.Open(ctx, app)
	require.ErrorContains(t, err, "failed database: storage/sql: connect to mysql 127.0.0.1:1/db")
	require.NotContains(t, err.Error(), "s3cr3t")

	// A path that does not exist is not made into an empty database by opening it.
	missing := filepath.Join(t.TempDir(), "typo.db")
	_, err = bridge.Open(ctx, &bridge.Config{Connection: "sqlite:" + missing, Logger: quiet})
	require.ErrorContains(t, err, "queue database: ")
	require.ErrorContains(t, err, "does not exist")
	require.NoFileExists(t, missing)
}

// Migrate creates what is missing and reports what existed; a dry run makes nothing, not even the file.
func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "app.db")
	cfg := &bridge.Config{Connection: "sqlite:" + file, Dialect: "laravel-8", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	dry, err := bridge.Migrate(ctx, cfg, true)
	require.NoError(t, err)
	require.Len(t, dry, 2)
	require.NoFileExists(t, file)
	first, err := bridge.Migrate(ctx, cfg, false)
	require.NoError(t, err)
	require.Len(t, first, 2)
	for i, m := range first {
		require.False(t, m.Existed, m.Table)
		require.Equal(t, dry[i], m)
	}
	again, err := bridge.Migrate(ctx, cfg, false)
	require.NoError(t, err)
	require.Len(t, again, 2)
	for i, m := range again {
		require.True(t, m.Existed, m.Table)
		require.Equal(t, first[i].Statements, m.Statements)
	}
	cn, err := bridge.Open(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, cn.Close())
}
