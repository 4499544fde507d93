package sql

import (
	"cmp"
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/queue"
)

// ErrDuplicateID is returned by Insert when the table already holds a failed job with this uuid
// (Laravel's failed_jobs_uuid_unique). PHP's log() fails the same way.
var ErrDuplicateID = errors.New("storage/sql: a failed job with this uuid already exists")

// The columns every failed jobs table has under these names (jobstable.Failed names the others).
const (
	colConnection = "connection"
	colException  = "exception"
)

// FailedStore is a PHP app's failed_jobs table used as the bridge's failed-job store: rows the bridge
// writes are rows the app's own queue:failed, queue:retry, queue:forget and queue:flush work on, and the
// other way round. It has the failed-store methods of the Redis broker (Failed, FailedJob, Forget, Flush)
// plus Insert. It is safe for concurrent use.
type FailedStore struct {
	db     *DB
	layout jobstable.Failed
	table  string
	q      failedQueries
	// writeLoc is the zone failed_at is written in; nil writes FailedAt's own wall clock.
	writeLoc *time.Location
	// readLoc is the zone failed_at text is read in.
	readLoc *time.Location
}

// failedQueries are one store's statements in the driver's spelling, its table and columns put in.
// failed_at travels as 'Y-m-d H:i:s' text both ways, as PHP's query builders send it: the caller's clock
// decides "now" (never NOW() or CURRENT_TIMESTAMP), and on MySQL the session time zone converts a
// TIMESTAMP column exactly as it does for PHP on the same server.
type failedQueries struct {
	// insert is the failed provider's log(). Params: [uuid,] connection, queue, payload, exception,
	// failed_at.
	insert string
	// list is all(), oldest first (PHP lists newest first): id, uuid (NULL without one), connection,
	// queue, payload, exception, failed_at.
	list string
	// find is find(id) with list's columns; forget is forget(id). Params: the uuid, or the row id.
	find, forget string
	// flush is queue:flush: every row.
	flush string
}

// Failed returns a store on the failed jobs table laid out as t. table "" means DefaultFailedTable; a
// table prefix the app configures is the caller's to include ("tp_failed_jobs"). The table is not checked:
// see MigrateFailed.
//
// Time: failed_at is 'Y-m-d H:i:s' text with no zone, as PHP writes it. With the DSN parameter loc (the
// PHP app's time zone), Insert writes FailedAt in that zone and reads parse in it. Without it, a layout
// that says UTC (Laravel's skeleton default) uses UTC; otherwise Insert writes FailedAt's own wall clock
// as given and reads are in time.Local (think-queue).
func (d *DB) Failed(t jobstable.Failed, table string) (*FailedStore, error) {
	table = cmp.Or(table, DefaultFailedTable)
	if err := validateTable(table); err != nil {
		return nil, err
	}
	cols := []string{t.FailedAt}
	if t.UUID != "" {
		cols = append(cols, t.UUID)
	}
	for _, c := range cols {
		if err := validateName("column", c); err != nil {
			return nil, fmt.Errorf("failed jobs table %s: %w", table, err)
		}
	}
	s := &FailedStore{db: d, layout: t, table: table, q: bindFailedQueries(d.drv, t, table), writeLoc: d.loc, readLoc: d.loc}
	if s.readLoc == nil {
		if t.UTC {
			s.writeLoc, s.readLoc = time.UTC, time.UTC
		} else {
			s.readLoc = time.Local
		}
	}
	return s, nil
}

// bindFailedQueries writes layout t's statements for driver d.
func bindFailedQueries(d *dbDriver, t jobstable.Failed, table string) failedQueries {
	tbl, id := d.ident(table), d.ident(colID)
	cols := []string{d.ident(colConnection), d.ident(colQueue), d.ident(colPayload), d.ident(colException), d.ident(t.FailedAt)}
	uuid := "NULL AS " + d.ident("uuid")
	key, limit := id+" = "+d.idParam, ""
	if t.UUID != "" {
		uuid = d.ident(t.UUID)
		cols = append([]string{uuid}, cols...)
		key, limit = uuid+" = ?", " LIMIT 1"
	}
	selected := "SELECT " + id + ", " + uuid + ", " + strings.Join(cols[len(cols)-5:len(cols)-1], ", ") + ", " +
		d.readTime(d.ident(t.FailedAt)) + " FROM " + tbl
	return failedQueries{
		insert: d.bind("INSERT INTO " + tbl + " (" + strings.Join(cols, ", ") + ") VALUES (" +
			strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"),
		list:   selected + " ORDER BY " + id + " ASC",
		find:   d.bind(selected + " WHERE " + key + limit),
		forget: d.bind("DELETE FROM " + tbl + " WHERE " + key),
		flush:  "DELETE FROM " + tbl,
	}
}

// Table returns the table name the store works on.
func (s *FailedStore) Table() string { return s.table }

// Insert writes job as one failed_jobs row, the row the PHP library's failed provider would write:
//
//   - with a uuid column (Laravel): uuid = job.ID (required; the payload's uuid), connection, queue,
//     payload, exception, failed_at. A uuid already in the table is ErrDuplicateID.
//   - without (think-queue): connection, queue, payload, exception, fail_time. job.ID is not stored: the
//     row's id is the table's, and Failed reports it.
//
// The payload bytes are stored exactly (text bound as text, as PDO binds PHP strings). failed_at is
// job.FailedAt as 'Y-m-d H:i:s' (see DB.Failed for the zone); it is required, since the caller's clock
// decides "now". On MySQL and PostgreSQL a value that is not valid UTF-8 is ErrNotUTF8; on PostgreSQL a
// value with a NUL byte is ErrNULByte.
func (s *FailedStore) Insert(ctx context.Context, job queue.FailedJob) error {
	if job.FailedAt.IsZero() {
		return fmt.Errorf("insert failed job %q into %s: FailedAt is zero (the caller's clock says when it failed)", job.ID, s.table)
	}
	for _, f := range []struct{ name, value string }{
		{"uuid", job.ID}, {"connection", job.Connection}, {"queue", job.Queue},
		{"payload", string(job.Payload)}, {"exception", job.Exception},
	} {
		if err := s.db.drv.checkText(f.value); err != nil {
			return fmt.Errorf("insert failed job %q into %s: %s: %w", job.ID, s.table, f.name, err)
		}
	}
	at := job.FailedAt
	if s.writeLoc != nil {
		at = at.In(s.writeLoc)
	}
	failedAt := at.Format(time.DateTime)
	args := []any{job.Connection, job.Queue, string(job.Payload), job.Exception, failedAt}
	if s.layout.UUID != "" {
		if job.ID == "" {
			return fmt.Errorf("insert failed job into %s: ID (the payload's uuid) is required", s.table)
		}
		args = append([]any{job.ID}, args...)
	}
	if _, err := s.db.pool.ExecContext(ctx, s.q.insert, args...); err != nil {
		if s.db.drv.uniqueViolation(err) {
			return fmt.Errorf("insert failed job %q into %s: %w: %w", job.ID, s.table, ErrDuplicateID, err)
		}
		return fmt.Errorf("insert failed job %q into %s: %w", job.ID, s.table, err)
	}
	return nil
}

// Failed returns every failed job, oldest (lowest id) first. ID is the uuid, or without a uuid column
// the numeric id as text. PHP's queue:failed lists the same rows newest first.
func (s *FailedStore) Failed(ctx context.Context) ([]queue.FailedJob, error) {
	rows, err := s.db.pool.QueryContext(ctx, s.q.list)
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

// FailedJob returns the failed job with id (a uuid, or a numeric id without a uuid column), and false
// when there is none.
func (s *FailedStore) FailedJob(ctx context.Context, id string) (queue.FailedJob, bool, error) {
	key, ok := s.key(id)
	if !ok {
		return queue.FailedJob{}, false, nil
	}
	rows, err := s.db.pool.QueryContext(ctx, s.q.find, key)
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
	res, err := s.db.pool.ExecContext(ctx, s.q.forget, key)
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
	res, err := s.db.pool.ExecContext(ctx, s.q.flush)
	if err != nil {
		return 0, fmt.Errorf("flush failed jobs in %s: %w", s.table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("flush failed jobs in %s: %w", s.table, err)
	}
	return int(n), nil
}

// key turns a failed-job id into the query parameter: the uuid as is, or think-queue's decimal id.
// ok is false for an id that cannot name a row.
func (s *FailedStore) key(id string) (any, bool) {
	if s.layout.UUID != "" {
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
	if s.layout.UUID != "" {
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
