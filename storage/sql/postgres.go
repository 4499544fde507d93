package sql

import (
	dbsql "database/sql"

	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres returns a pool on pgx's database/sql driver.
func openPostgres(cfg dsnConfig) *dbsql.DB { return stdlib.OpenDB(*cfg.pgConfig) }
