package bridge

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
// FailedDatabase). The embedded default creates both tables, since the bridge owns that file; an app's
// database is never migrated implicitly (`bridge migrate`).
func openSQL(ctx context.Context, c *Config, f format) (*backend, error) {
	dsn, table, prefix, err := sqlTable(c.Connection)
	if err != nil {
		return nil, err
	}
	be := &backend{format: f, memErrs: &memoryLastErrors{}}
	failedDSN := dsn
	if c.FailedDatabase != "" {
		failedDSN = c.FailedDatabase
	}
	failed, err := sqlstore.OpenFailedStore(ctx, failedDSN, f.failedSchema(), prefix+cmp.Or(c.FailedTable, sqlstore.DefaultFailedTable))
	if err != nil {
		return nil, fmt.Errorf("failed jobs table: %w", redactErr(err, failedDSN))
	}
	be.closers = append(be.closers, failed)
	be.sqlFail, be.failed = failed, failed
	broker, err := sqlstore.OpenBroker(ctx, dsn, f.jobsSchema(), prefix+table, &sqlstore.BrokerConfig{
		Expire:  c.Expire,
		NowFunc: c.Clock,
		Failed:  failed,
	})
	if err != nil {
		be.close()
		return nil, fmt.Errorf("jobs table: %w", redactErr(err, dsn))
	}
	be.closers = append(be.closers, broker)
	be.store, be.jobs = broker, broker
	if c.Connection == EmbeddedConnection {
		if err := be.migrateMissing(ctx); err != nil {
			be.close()
			return nil, err
		}
	}
	if err := be.openCache(c.CacheConnection); err != nil {
		be.close()
		return nil, err
	}
	return be, nil
}

// migrateMissing creates whichever of the embedded default's tables do not exist yet.
func (be *backend) migrateMissing(ctx context.Context) error {
	if _, err := be.jobs.Migrate(ctx, false); err != nil && !errors.Is(err, sqlstore.ErrTableExists) {
		return fmt.Errorf("create jobs table: %w", err)
	}
	if _, err := be.sqlFail.Migrate(ctx, false); err != nil && !errors.Is(err, sqlstore.ErrTableExists) {
		return fmt.Errorf("create failed jobs table: %w", err)
	}
	return nil
}
