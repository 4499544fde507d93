package bridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	sqlstore "github.com/queuebridge/bridge/storage/sql"
)

// Migration is one table Migrate looked at: its name, its DDL as the PHP library ships it, and whether it
// existed already (then nothing was run for it).
type Migration struct {
	Table      string
	Statements []string
	Existed    bool
}

// Migrate creates the tables of a database queue as the PHP library ships them — the jobs table, and the
// failed_jobs table when failed jobs live in SQL (beside it, or in FailedDatabase) — where they do not
// exist yet, and reports each table; with dryRun it creates nothing. Running it twice is harmless. Nothing
// is ever created implicitly, except in the embedded default. It takes a Config, not a Bridge: a
// connection to a database queue needs its jobs table to exist.
func Migrate(ctx context.Context, cfg *Config, dryRun bool) ([]Migration, error) {
	c := cfg.WithDefaults()
	f, err := parseFormat(c.Dialect, c.Prefix)
	if err != nil {
		return nil, err
	}
	create := &sqlstore.Options{Create: true}
	var out []Migration
	add := func(m sqlstore.Migration) { out = append(out, Migration(m)) }
	failedTable := c.FailedTable
	if isSQL(c.Connection) {
		dsn, table, prefix, err := sqlTable(c.Connection)
		if err != nil {
			return nil, err
		}
		db, err := sqlstore.Open(ctx, dsn, create)
		if err != nil {
			return nil, fmt.Errorf("queue database: %w", redactErr(err, dsn))
		}
		defer db.Close()
		m, err := db.MigrateJobs(ctx, f.jobsTable(), prefix+table, dryRun)
		if err != nil {
			return nil, err
		}
		add(m)
		failedTable = prefix + cmp.Or(c.FailedTable, sqlstore.DefaultFailedTable)
		if c.FailedDatabase == "" {
			m, err := db.MigrateFailed(ctx, f.failedTable(), failedTable, dryRun)
			if err != nil {
				return nil, err
			}
			add(m)
			return out, nil
		}
	} else if c.FailedDatabase == "" {
		return nil, errors.New("migrate: the queue is on Redis and no failed database is configured (--failed-database)")
	}
	db, err := sqlstore.Open(ctx, c.FailedDatabase, create)
	if err != nil {
		return nil, fmt.Errorf("failed database: %w", redactErr(err, c.FailedDatabase))
	}
	defer db.Close()
	m, err := db.MigrateFailed(ctx, f.failedTable(), failedTable, dryRun)
	if err != nil {
		return nil, err
	}
	add(m)
	return out, nil
}

// NotifyTrigger is the SQL of the opt-in PostgreSQL trigger with which a job a PHP producer INSERTs into
// cfg's jobs table wakes the idle bridges at once, as the bridge's own pushes do, instead of at their next
// poll. The bridge never installs it; a person runs it once (`bridge migrate --notify` prints it).
func NotifyTrigger(cfg *Config) (string, error) {
	c := cfg.WithDefaults()
	if !strings.HasPrefix(c.Connection, "postgres://") && !strings.HasPrefix(c.Connection, "postgresql://") {
		return "", errors.New("migrate --notify: the trigger is PostgreSQL's; the queue is not on PostgreSQL (MySQL, MariaDB and SQLite workers poll every --sleep)")
	}
	_, table, prefix, err := sqlTable(c.Connection)
	if err != nil {
		return "", err
	}
	return sqlstore.NotifyTrigger(prefix + table)
}
