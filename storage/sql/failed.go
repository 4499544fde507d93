package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/queuebridge/bridge/queue"
)

var (
	// ErrDuplicateID is returned by Insert when the table already holds a failed job with this uuid
	// (SchemaLaravel: failed_jobs_uuid_unique). PHP's log() fails the same way.
	ErrDuplicateID = errors.New("storage/sql: a failed job with this uuid already exists")
	// ErrTableExists is returned by Migrate when the table is already there; nothing was run.
	ErrTableExists = errors.New("storage/sql: table already exists")
	// ErrNotUTF8 is returned by Insert on MySQL and PostgreSQL when a text value is not valid UTF-8: the
	// table's utf8mb4 (MySQL) or UTF8 (PostgreSQL) text columns cannot hold it (SQLite keeps any bytes).
	ErrNotUTF8 = errors.New("storage/sql: MySQL utf8mb4 columns hold only valid UTF-8")
	// ErrNULByte is returned by Insert on PostgreSQL when a text value holds a NUL byte (0x00), which
	// PostgreSQL's text types cannot store. A payload's JSON escapes NUL as \u0000, which is fine.
	ErrNULByte = errors.New("storage/sql: PostgreSQL text columns cannot hold NUL bytes")
)

// checkText refuses, before the database would, text values the driver's columns cannot hold: invalid
// UTF-8 on MySQL and PostgreSQL, NUL bytes on PostgreSQL. SQLite keeps any bytes.
func checkText(d driverKind, values ...string) error {
	if d == driverSQLite {
		return nil
	}
	for _, v := range values {
		if !utf8.ValidString(v) {
			return ErrNotUTF8
		}
		if d == driverPostgres && strings.IndexByte(v, 0) >= 0 {
			return ErrNULByte
		}
	}
	return nil
}

// FailedStore is a PHP app's failed_jobs table used as the bridge's failed-job store: rows the bridge
// writes are rows the app's own queue:failed, queue:retry, queue:forget and queue:flush work on, and the
// other way round. It has the failed-store methods of the Redis broker (Failed, FailedJob, Forget, Flush)
// plus Insert and Migrate. It is safe for concurrent use.
type FailedStore struct {
	db     *dbsql.DB
	driver driverKind
	schema Schema
	table  string
	q      boundQueries
	// writeLoc is the zone failed_at is written in; nil writes FailedAt's own wall clock.
	writeLoc *time.Location
	// readLoc is the zone failed_at text is read in.
	readLoc *time.Location
}

// OpenFailedStore connects to the database dsn names and returns a store on its failed_jobs table laid
// out as schema. table "" means DefaultFailedTable; a table prefix the app configures is the caller's to
// include ("tp_failed_jobs"). The table is not created or checked: see Migrate. ctx bounds the first
// connection.
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
// PDO's pgsql: form is ErrUnsupportedDriver. On MySQL the store sets parseTime=false,
// utf8mb4 / utf8mb4_unicode_ci and a strict sql_mode unless the DSN sets them; on SQLite busy_timeout
// 5000 ms, WAL and _txlock=immediate, likewise; on PostgreSQL DateStyle ISO, likewise.
//
// Time: failed_at is 'Y-m-d H:i:s' text with no zone, as PHP writes it. The DSN parameter loc names the
// PHP app's time zone (app.timezone / default_timezone, e.g. loc=Asia%2FShanghai). With it, Insert writes
// FailedAt in that zone and reads parse in it. Without it, SchemaLaravel uses UTC (Laravel's skeleton
// default), and SchemaThinkQueue writes FailedAt's own wall clock as given and reads in time.Local.
func OpenFailedStore(ctx context.Context, dsn string, schema Schema, table string) (*FailedStore, error) {
	if err := schema.validate(); err != nil {
		return nil, err
	}
	if table == "" {
		table = DefaultFailedTable
	}
	if err := validateTable(table); err != nil {
		return nil, err
	}
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	q, err := bindQueries(cfg.driver, schema, table)
	if err != nil {
		return nil, err
	}
	var db *dbsql.DB
	switch cfg.driver {
	case driverMySQL:
		connector, err := mysql.NewConnector(cfg.mysqlConfig)
		if err != nil {
			return nil, fmt.Errorf("storage/sql: mysql: %w", err)
		}
		db = dbsql.OpenDB(connector)
		db.SetConnMaxLifetime(3 * time.Minute) // under the usual server and proxy idle timeouts
	case driverSQLite:
		db, err = dbsql.Open("sqlite", cfg.sqliteDSN)
		if err != nil {
			return nil, fmt.Errorf("storage/sql: sqlite: %w", err)
		}
		if cfg.memory {
			db.SetMaxOpenConns(1) // each connection to :memory: is its own database
			db.SetConnMaxLifetime(0)
			db.SetConnMaxIdleTime(0)
		}
	case driverPostgres:
		db = openPostgres(cfg)
		db.SetConnMaxLifetime(3 * time.Minute)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("storage/sql: connect to %s: %w", cfg.driver, err)
	}
	s := &FailedStore{db: db, driver: cfg.driver, schema: schema, table: table, q: q,
		writeLoc: cfg.loc, readLoc: cfg.loc}
	if s.readLoc == nil {
		if schema == SchemaLaravel {
			s.writeLoc, s.readLoc = time.UTC, time.UTC
		} else {
			s.readLoc = time.Local
		}
	}
	return s, nil
}

// Close closes the store's connections.
func (s *FailedStore) Close() error { return s.db.Close() }

// Table returns the table name the store works on.
func (s *FailedStore) Table() string { return s.table }

// Insert writes job as one failed_jobs row, the row the PHP library's failed provider would write:
//
//   - SchemaLaravel: uuid = job.ID (required; the payload's uuid), connection, queue, payload, exception,
//     failed_at. A uuid already in the table is ErrDuplicateID.
//   - SchemaThinkQueue: connection, queue, payload, exception, fail_time. job.ID is not stored: the row's
//     id is the table's, and Failed reports it.
//
// The payload bytes are stored exactly. failed_at is job.FailedAt as 'Y-m-d H:i:s' (see OpenFailedStore
// for the zone); it is required, since the caller's clock decides "now". On MySQL and PostgreSQL a value
// that is not valid UTF-8 is ErrNotUTF8; on PostgreSQL a value with a NUL byte is ErrNULByte.
func (s *FailedStore) Insert(ctx context.Context, job queue.FailedJob) error {
	if job.FailedAt.IsZero() {
		return fmt.Errorf("insert failed job %q into %s: FailedAt is zero (the caller's clock says when it failed)", job.ID, s.table)
	}
	for _, f := range []struct{ name, value string }{
		{"uuid", job.ID}, {"connection", job.Connection}, {"queue", job.Queue},
		{"payload", string(job.Payload)}, {"exception", job.Exception},
	} {
		if err := checkText(s.driver, f.value); err != nil {
			return fmt.Errorf("insert failed job %q into %s: %s: %w", job.ID, s.table, f.name, err)
		}
	}
	at := job.FailedAt
	if s.writeLoc != nil {
		at = at.In(s.writeLoc)
	}
	failedAt := at.Format(time.DateTime)
	var err error
	switch s.schema {
	case SchemaLaravel:
		if job.ID == "" {
			return fmt.Errorf("insert failed job into %s: ID (the payload's uuid) is required", s.table)
		}
		_, err = s.db.ExecContext(ctx, s.q.insert,
			job.ID, job.Connection, job.Queue, string(job.Payload), job.Exception, failedAt)
	case SchemaThinkQueue:
		_, err = s.db.ExecContext(ctx, s.q.insert,
			job.Connection, job.Queue, string(job.Payload), job.Exception, failedAt)
	}
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("insert failed job %q into %s: %w: %w", job.ID, s.table, ErrDuplicateID, err)
		}
		return fmt.Errorf("insert failed job %q into %s: %w", job.ID, s.table, err)
	}
	return nil
}

// Failed returns every failed job, oldest (lowest id) first. ID is the uuid (SchemaLaravel) or the
// numeric id as text (SchemaThinkQueue). PHP's queue:failed lists the same rows newest first.
func (s *FailedStore) Failed(ctx context.Context) ([]queue.FailedJob, error) {
	rows, err := s.db.QueryContext(ctx, s.q.list)
	if err != nil {
		return nil, fmt.Errorf("list failed jobs in %s: %w", s.table, err)
	}
	defer rows.Close()
	var jobs []queue.FailedJob
	for rows.Next() {
		job, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list failed jobs in %s: %w", s.table, err)
		}
		jobs = append(jobs, job)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list failed jobs in %s: %w", s.table, err)
	}
	return jobs, nil
}

// FailedJob returns the failed job with id (a uuid, or a numeric id for SchemaThinkQueue), and false
// when there is none.
func (s *FailedStore) FailedJob(ctx context.Context, id string) (queue.FailedJob, bool, error) {
	key, ok := s.key(id)
	if !ok {
		return queue.FailedJob{}, false, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q.find, key)
	if err != nil {
		return queue.FailedJob{}, false, fmt.Errorf("read failed job %q in %s: %w", id, s.table, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return queue.FailedJob{}, false, fmt.Errorf("read failed job %q in %s: %w", id, s.table, err)
		}
		return queue.FailedJob{}, false, nil
	}
	job, err := s.scan(rows)
	if err != nil {
		return queue.FailedJob{}, false, fmt.Errorf("read failed job %q in %s: %w", id, s.table, err)
	}
	return job, true, nil
}

// Forget deletes the failed job with id and reports whether it existed.
func (s *FailedStore) Forget(ctx context.Context, id string) (bool, error) {
	key, ok := s.key(id)
	if !ok {
		return false, nil
	}
	res, err := s.db.ExecContext(ctx, s.q.forget, key)
	if err != nil {
		return false, fmt.Errorf("forget failed job %q in %s: %w", id, s.table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("forget failed job %q in %s: %w", id, s.table, err)
	}
	return n > 0, nil
}

// Flush deletes every failed job and returns how many there were.
func (s *FailedStore) Flush(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q.flush)
	if err != nil {
		return 0, fmt.Errorf("flush failed jobs in %s: %w", s.table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("flush failed jobs in %s: %w", s.table, err)
	}
	return int(n), nil
}

// Migrate returns the statements that create the table as the PHP library ships it for this database
// (Laravel's failed_jobs stub, or think-queue's through think-migration), with the store's table name in
// them, and runs them unless dryRun. A table that exists already is ErrTableExists, and nothing is run.
// On SQLite and PostgreSQL the statements run in one transaction; MySQL commits each DDL statement by
// itself. The
// PHP app owns the table: the store never calls Migrate on its own.
func (s *FailedStore) Migrate(ctx context.Context, dryRun bool) ([]string, error) {
	stmts := append([]string(nil), s.q.migrate...)
	if s.driver == driverMySQL && s.schema == SchemaLaravel && len(s.table+"_uuid_unique") > maxIdentifier {
		return stmts, fmt.Errorf("migrate %s: index name %s_uuid_unique is longer than MySQL's %d bytes", s.table, s.table, maxIdentifier)
	}
	if dryRun {
		return stmts, nil
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.q.tableExists, s.table).Scan(&n); err != nil {
		return stmts, fmt.Errorf("migrate %s: %w", s.table, err)
	}
	if n > 0 {
		return stmts, fmt.Errorf("migrate %s: %w", s.table, ErrTableExists)
	}
	if s.driver == driverSQLite || s.driver == driverPostgres {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return stmts, fmt.Errorf("migrate %s: %w", s.table, err)
		}
		defer func() { _ = tx.Rollback() }()
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return stmts, fmt.Errorf("migrate %s: %w", s.table, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return stmts, fmt.Errorf("migrate %s: %w", s.table, err)
		}
		return stmts, nil
	}
	for i, stmt := range stmts {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return stmts, fmt.Errorf("migrate %s: statement %d of %d: %w", s.table, i+1, len(stmts), err)
		}
	}
	return stmts, nil
}

// key turns a failed-job id into the query parameter: the uuid as is, or think-queue's decimal id.
// ok is false for an id that cannot name a row.
func (s *FailedStore) key(id string) (any, bool) {
	if s.schema == SchemaLaravel {
		return id, id != ""
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n > 1<<63-1 {
		return nil, false
	}
	return int64(n), true
}

// scan reads one row of a List or Find query: id, uuid, connection, queue, payload, exception, failed_at.
func (s *FailedStore) scan(rows *dbsql.Rows) (queue.FailedJob, error) {
	var (
		id                                   int64
		uuid, conn, que, exception, failedAt dbsql.NullString
		payload                              []byte
	)
	if err := rows.Scan(&id, &uuid, &conn, &que, &payload, &exception, &failedAt); err != nil {
		return queue.FailedJob{}, err
	}
	job := queue.FailedJob{
		ID:         strconv.FormatInt(id, 10),
		Connection: conn.String,
		Queue:      que.String,
		Payload:    payload,
		Exception:  exception.String,
	}
	if s.schema == SchemaLaravel {
		job.ID = uuid.String
	}
	if failedAt.Valid {
		t, err := parseWallClock(failedAt.String, s.readLoc)
		if err != nil {
			return queue.FailedJob{}, fmt.Errorf("row %d: %w", id, err)
		}
		job.FailedAt = t
	}
	return job, nil
}

// parseWallClock reads a failed_at value: 'Y-m-d H:i:s' as PHP writes it, with fractional seconds or a
// 'T' as other writers may leave them; MySQL's zero date is the zero time.
func parseWallClock(s string, loc *time.Location) (time.Time, error) {
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("failed_at %q is not a 'Y-m-d H:i:s' time", s)
}

// isUniqueViolation reports a duplicate-key error from any driver.
func isUniqueViolation(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062 // ER_DUP_ENTRY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
