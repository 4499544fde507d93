package bridge

import (
	"cmp"
	"context"
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
		return "", "", "", fmt.Errorf("connection %s: %w", redactURL(connection), redactErr(err, connection))
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
// owns that file; an app's database is never migrated implicitly (Migrate, `bridge migrate`).
func openSQL(ctx context.Context, c *Config, f format) (*backend, error) {
	dsn, table, prefix, err := sqlTable(c.Connection)
	if err != nil {
		return nil, err
	}
	embedded := c.Connection == EmbeddedConnection
	db, err := sqlstore.Open(ctx, dsn, &sqlstore.Options{Create: embedded})
	if err != nil {
		return nil, fmt.Errorf("queue database: %w", redactErr(err, dsn))
	}
	return sqlBackend(ctx, c, f, db, prefix+table, prefix+cmp.Or(c.FailedTable, sqlstore.DefaultFailedTable), embedded)
}

// sqlBackend works the jobs table on db (which close closes), its failed_jobs table beside it or in
// FailedDatabase; embedded creates both.
func sqlBackend(ctx context.Context, c *Config, f format, db *sqlstore.DB, jobsTable, failedTable string, embedded bool) (*backend, error) {
	be := &backend{format: f, memErrs: &memoryLastErrors{}}
	be.closers = append(be.closers, db)
	failedDB := db
	var err error
	if c.FailedDatabase != "" {
		if failedDB, err = sqlstore.Open(ctx, c.FailedDatabase, nil); err != nil {
			be.close()
			return nil, fmt.Errorf("failed database: %w", redactErr(err, c.FailedDatabase))
		}
		be.closers = append(be.closers, failedDB)
	}
	if embedded {
		if _, err := db.MigrateJobs(ctx, f.jobsTable(), jobsTable, false); err != nil {
			be.close()
			return nil, err
		}
		if _, err := failedDB.MigrateFailed(ctx, f.failedTable(), failedTable, false); err != nil {
			be.close()
			return nil, err
		}
	}
	failed, err := failedDB.Failed(f.failedTable(), failedTable)
	if err != nil {
		be.close()
		return nil, err
	}
	be.sqlFail, be.failed = failed, failed
	broker, err := db.Jobs(ctx, f.jobsTable(), jobsTable, &sqlstore.JobsConfig{Expire: c.Expire, NowFunc: c.Clock, Failed: failed})
	if err != nil {
		be.close()
		return nil, err
	}
	be.store, be.jobs = broker, broker
	if err := be.openCache(c); err != nil {
		be.close()
		return nil, err
	}
	return be, nil
}
