package conn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	sqlstore "github.com/queuebridge/bridge/storage/sql"
)

// EmbeddedConnection is the queue the bridge uses when none is configured: an SQLite file it owns, so
// `bridge work` runs on a machine with no server at all.
const EmbeddedConnection = "sqlite:./bridge.db"

// isSQL reports whether a connection names a database queue (a jobs table) rather than Redis.
func isSQL(connection string) bool {
	for _, prefix := range []string{"mysql://", "mariadb://", "sqlite:", "postgres://", "postgresql://"} {
		if strings.HasPrefix(connection, prefix) {
			return true
		}
	}
	return false
}

// sqlTable splits the bridge's own parameters off a database connection: `table` (the jobs table,
// default "jobs") and `prefix` (the app's table prefix, put before the jobs and failed_jobs tables).
func sqlTable(connection string) (dsn, table, prefix string, err error) {
	base, query, _ := strings.Cut(connection, "?")
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", "", "", fmt.Errorf("connection %s: %w", RedactURL(connection), err)
	}
	table, prefix = values.Get("table"), values.Get("prefix")
	values.Del("table")
	values.Del("prefix")
	if table == "" {
		table = "jobs"
	}
	dsn = base
	if rest := values.Encode(); rest != "" {
		dsn += "?" + rest
	}
	return dsn, table, prefix, nil
}

// openSQL opens a database queue: the app's jobs table, with its failed_jobs table beside it (or in
// FailedDatabase), on one pool per database. The embedded default creates both tables, since the bridge
// owns that file; an app's database is never migrated implicitly (`bridge migrate`).
func openSQL(ctx context.Context, c Config, embedded bool) (*Conn, error) {
	f, err := formatFor(&c)
	if err != nil {
		return nil, err
	}
	dsn, table, prefix, err := sqlTable(c.Connection)
	if err != nil {
		return nil, err
	}
	conn := &Conn{cfg: c, format: f, db: true}
	db, err := sqlstore.Open(ctx, dsn, &sqlstore.Options{Create: embedded})
	if err != nil {
		return nil, fmt.Errorf("queue database: %w", err)
	}
	conn.closers = append(conn.closers, db)
	failedDB := db
	if c.FailedDatabase != "" {
		if failedDB, err = sqlstore.Open(ctx, c.FailedDatabase, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("failed database: %w", err)
		}
		conn.closers = append(conn.closers, failedDB)
	}
	jobsTable, failedTable := prefix+table, prefix+cmp.Or(c.FailedTable, sqlstore.DefaultFailedTable)
	if embedded {
		if _, err := db.MigrateJobs(ctx, f.jobsTable(), jobsTable, false); err != nil {
			conn.Close()
			return nil, err
		}
		if _, err := failedDB.MigrateFailed(ctx, f.failedTable(), failedTable, false); err != nil {
			conn.Close()
			return nil, err
		}
	}
	failed, err := failedDB.Failed(f.failedTable(), failedTable)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.sqlStore, conn.failed = failed, failed
	broker, err := db.Jobs(ctx, f.jobsTable(), jobsTable, &sqlstore.JobsConfig{
		Expire:  c.Expire,
		NowFunc: c.Clock,
		Failed:  failed,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.store, conn.jobs = broker, broker
	if err := conn.openCache(); err != nil {
		conn.Close()
		return nil, err
	}
	conn.restartK = restartKey(f, c)
	return conn, nil
}

// Migrate creates the tables of a database queue as the PHP library ships them — the jobs table, and the
// failed_jobs table when failed jobs live in SQL (beside it or in FailedDatabase) — where they do not
// exist yet, and reports each table; with dryRun it creates nothing. An SQLite file that does not exist
// is made. It needs no Conn: a Conn's jobs table must exist already.
func Migrate(ctx context.Context, cfg *Config, dryRun bool) ([]sqlstore.Migration, error) {
	c := cfg.withDefaults()
	if c.Connection == "" {
		c.Connection = EmbeddedConnection
	}
	f, err := formatFor(&c)
	if err != nil {
		return nil, err
	}
	create := &sqlstore.Options{Create: true}
	var out []sqlstore.Migration
	failedTable := c.FailedTable
	if isSQL(c.Connection) {
		dsn, table, prefix, err := sqlTable(c.Connection)
		if err != nil {
			return nil, err
		}
		db, err := sqlstore.Open(ctx, dsn, create)
		if err != nil {
			return nil, fmt.Errorf("queue database: %w", err)
		}
		defer db.Close()
		m, err := db.MigrateJobs(ctx, f.jobsTable(), prefix+table, dryRun)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		failedTable = prefix + cmp.Or(c.FailedTable, sqlstore.DefaultFailedTable)
		if c.FailedDatabase == "" {
			m, err := db.MigrateFailed(ctx, f.failedTable(), failedTable, dryRun)
			if err != nil {
				return nil, err
			}
			return append(out, m), nil
		}
	} else if c.FailedDatabase == "" {
		return nil, errors.New("migrate: the queue is on Redis and no failed database is configured (--failed-database)")
	}
	db, err := sqlstore.Open(ctx, c.FailedDatabase, create)
	if err != nil {
		return nil, fmt.Errorf("failed database: %w", err)
	}
	defer db.Close()
	m, err := db.MigrateFailed(ctx, f.failedTable(), failedTable, dryRun)
	if err != nil {
		return nil, err
	}
	return append(out, m), nil
}
