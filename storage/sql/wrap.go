package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"time"
)

// wrapTimeout bounds the first query on a pool given to Wrap.
const wrapTimeout = 10 * time.Second

// Wrap is Open for a pool the caller already has (database/sql with go-sql-driver/mysql, pgx's stdlib, or
// modernc.org/sqlite): driver names it, "mysql", "postgres" or "sqlite". Close leaves the pool open. loc is
// the PHP app's time zone for failed_at (nil: UTC, as a DSN without loc).
func Wrap(ctx context.Context, pool *dbsql.DB, driver string, loc *time.Location) (*DB, error) {
	kind := driverKind(driver)
	switch kind {
	case driverMySQL, driverPostgres, driverSQLite:
	default:
		return nil, fmt.Errorf("storage/sql: driver %q: want mysql, postgres or sqlite", driver)
	}
	d := &DB{pool: pool, drv: driverFor(kind), where: driver + " (the caller's pool)", loc: loc, borrowed: true}
	if err := d.firstQuery(ctx, dsnConfig{driver: kind, where: d.where, connectTimeout: wrapTimeout}); err != nil {
		return nil, err
	}
	return d, nil
}
