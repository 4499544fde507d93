package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// Options tunes Open. A nil *Options means every default.
type Options struct {
	// Create lets Open start an SQLite database whose file does not exist yet: the file is made on
	// first use (`bridge migrate`, the bridge's embedded default). Without it a missing file is an
	// error, and opening leaves no empty file behind. A server's database is never created.
	Create bool
}

// DB is one database: one pool, shared by the jobs broker and the failed store on it ([DB.Jobs],
// [DB.Failed]), and the migrations of their tables ([DB.MigrateJobs], [DB.MigrateFailed]). It is safe
// for concurrent use. A failed store in another database is a second DB.
type DB struct {
	pool *dbsql.DB
	drv  *dbDriver
	// where names the database in messages: driver, address and database, never a password.
	where string
	// lock is the reserve statement's lock clause: FOR UPDATE SKIP LOCKED where the server has it, the
	// PHP libraries' plain FOR UPDATE on older servers, none on SQLite.
	lock string
	// loc is the DSN's loc parameter (the PHP app's time zone), nil when absent.
	loc *time.Location
	// path is an SQLite file that may not exist yet (Options.Create); "" otherwise.
	path string
	// borrowed is a pool the caller gave (Wrap), which Close leaves open.
	borrowed bool
	// closers run at Close, before the pool closes (the brokers' LISTEN connections).
	closersMu sync.Mutex
	closers   []func()
}

// onClose makes Close run f first.
func (d *DB) onClose(f func()) {
	d.closersMu.Lock()
	defer d.closersMu.Unlock()
	d.closers = append(d.closers, f)
}

// Open connects to the database dsn names, checks that it answers, and on MySQL and PostgreSQL reads the
// server version once: MySQL >= 8.0.1, MariaDB >= 10.6 and PostgreSQL >= 9.5 reserve with FOR UPDATE
// SKIP LOCKED, older servers with the libraries' plain FOR UPDATE.
//
// DSNs:
//
//	mysql://user:pass@host:3306/db?param=value   (also mariadb://; params are go-sql-driver's)
//	mysql:user:pass@tcp(host:3306)/db?param=value (go-sql-driver's own form)
//	sqlite:./path/bridge.db?param=value          (sqlite:///abs/path.db, sqlite::memory:; params are
//	                                              modernc.org/sqlite's, e.g. _pragma=…)
//	postgres://user:pass@host:5432/db?param=value (also postgresql://; params are pgx's / libpq's, e.g.
//	                                              sslmode=disable, or server settings like search_path)
//
// In the URL forms a password may hold '/', '#', '?' and '@' as they are or percent-encoded; an '@' in
// a query value must be percent-encoded. PDO's pgsql: form is ErrUnsupportedDriver. No error repeats the
// password.
//
// Every new connection must be made within the URL's timeout (MySQL) or connect_timeout (PostgreSQL),
// 10 s when the URL does not say; a server that accepts and never answers is an error naming its
// address. Open's first query gets as long again.
//
// On MySQL the pool sets parseTime=false, utf8mb4 / utf8mb4_unicode_ci and a strict sql_mode unless the
// DSN sets them; on SQLite busy_timeout 5000 ms, WAL and _txlock=immediate, likewise; on PostgreSQL
// DateStyle ISO, likewise.
//
// Time: failed_at is 'Y-m-d H:i:s' text with no zone, as PHP writes it. The DSN parameter loc names the
// PHP app's time zone (app.timezone / default_timezone, e.g. loc=Asia%2FShanghai); see [DB.Failed].
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	d := &DB{drv: driverFor(cfg.driver), where: cfg.where, loc: cfg.loc}
	missing := false
	if cfg.path != "" {
		switch _, err := os.Stat(cfg.path); {
		case errors.Is(err, fs.ErrNotExist) && o.Create:
			missing, d.path = true, cfg.path
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("storage/sql: %s: the database file does not exist (`bridge migrate` creates it)", d.where)
		case err != nil:
			return nil, fmt.Errorf("storage/sql: %s: %w", d.where, err)
		}
	}
	if d.pool, err = d.drv.connect(cfg, cfg.connectTimeout); err != nil {
		return nil, fmt.Errorf("storage/sql: %s: %w", d.where, scrubbed(err, cfg.secrets()...))
	}
	if missing {
		return d, nil // connecting would make the file: the first statement does
	}
	if err := d.firstQuery(ctx, cfg); err != nil {
		_ = d.pool.Close()
		return nil, err
	}
	return d, nil
}

// firstQuery connects and reads what the reserve statement's lock clause depends on, within the connect
// timeout each.
func (d *DB) firstQuery(ctx context.Context, cfg dsnConfig) error {
	wait := func(f func(ctx context.Context) error) error {
		qctx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.connectTimeout > 0 {
			qctx, cancel = context.WithTimeout(ctx, cfg.connectTimeout)
		}
		defer cancel()
		err := f(qctx)
		if err != nil && ctx.Err() == nil && (qctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)) {
			// The drivers' own words for it vary ("invalid connection", "bad connection", "i/o timeout"):
			// say what happened, and let errors.Is see it.
			if !errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
			}
			err = fmt.Errorf("no answer within %v (the DSN's %s parameter sets the limit): %w", cfg.connectTimeout, d.drv.timeoutParam, err)
		}
		return err
	}
	if err := wait(d.pool.PingContext); err != nil {
		return fmt.Errorf("storage/sql: connect to %s: %w", d.where, scrubbed(err, cfg.secrets()...))
	}
	if d.drv.versionQuery == "" {
		return nil
	}
	var version string
	err := wait(func(ctx context.Context) error {
		return d.pool.QueryRowContext(ctx, d.drv.versionQuery).Scan(&version)
	})
	if err != nil {
		return fmt.Errorf("storage/sql: %s: read the server version: %w", d.where, scrubbed(err, cfg.secrets()...))
	}
	d.lock = "FOR UPDATE"
	if d.drv.skipLocked(version) {
		d.lock = "FOR UPDATE SKIP LOCKED"
	}
	return nil
}

// Close closes the pool. The brokers and stores on the DB stop working.
func (d *DB) Close() error {
	d.closersMu.Lock()
	closers := d.closers
	d.closers = nil
	d.closersMu.Unlock()
	for _, f := range closers {
		f()
	}
	if d.borrowed {
		return nil
	}
	return d.pool.Close()
}

// String names the database as messages do: driver, address and database ("mysql 127.0.0.1:3306/app",
// "sqlite ./bridge.db"), never a password.
func (d *DB) String() string { return d.where }
