package sql

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/queue"
)

// DefaultExpire is the reservation lifetime when JobsConfig.Expire is 0: think-queue's expire and
// Laravel's retry_after default.
const DefaultExpire = 60 * time.Second

// maxAttempts is the largest value of the attempts column (TINYINT UNSIGNED on MySQL). Increments stop
// there instead of failing the reservation in strict mode (which would wedge the queue on its head row).
// SQLite and PostgreSQL (smallint / integer) could count further; they stop at 255 too, so a job gives up
// at the same count on every database.
const maxAttempts = 255

// The columns every jobs table has under these names (jobstable.Jobs names the others).
const (
	colID       = "id"
	colQueue    = "queue"
	colPayload  = "payload"
	colAttempts = "attempts"
)

// JobsConfig tunes a Broker. A nil config means every default.
type JobsConfig struct {
	// Expire is how long a reservation lasts (think-queue's expire, Laravel's retry_after); a row reserved
	// longer is given to the next Reserve. 0 means DefaultExpire; a negative value means reservations
	// never lapse (think-queue 1.x's expire null). It is counted in whole seconds, rounded up.
	Expire time.Duration
	// NowFunc is the clock every "now" comes from; nil means time.Now.
	NowFunc func() time.Time
	// Failed is where Fail writes; nil makes Fail an error.
	Failed *FailedStore
}

// Broker is a PHP app's jobs table used as a queue: rows the bridge pushes are jobs the app's PHP workers
// run, and the other way round. It satisfies worker.Broker. It is safe for concurrent use.
//
// A reservation's Member is the row id as decimal text, Raw the payload column, Expires the reservation
// time plus Expire, and Attempts what the PHP library's attempts() reports for the run: the column after
// the reservation's increment when the layout counts at reserve, the column + 1 otherwise. Every time
// value is Unix seconds from the injected clock.
type Broker struct {
	db     *DB
	layout jobstable.Jobs
	table  string
	q      jobsQueries
	now    func() time.Time
	// expire is the reservation lifetime in seconds; < 0 means reservations never lapse.
	expire int64
	failed *FailedStore
	// trendsReady is set once TrendsTable is known to exist (see ensureTrends).
	trendsReady atomic.Bool
	// marks are each queue's reserve watermark (see Reserve).
	marks watermarks
	// listen is the LISTEN connection of WaitReady (PostgreSQL).
	listen listener
}

// Jobs returns a broker on the jobs table laid out as t. table "" means DefaultJobsTable; the app's table
// prefix is the caller's to include. The table must exist and have t's columns: a missing table is
// ErrNoTable, with a message naming it (see MigrateJobs).
func (d *DB) Jobs(ctx context.Context, t jobstable.Jobs, table string, cfg *JobsConfig) (*Broker, error) {
	table = cmp.Or(table, DefaultJobsTable)
	if err := validateTable(table); err != nil {
		return nil, err
	}
	var c JobsConfig
	if cfg != nil {
		c = *cfg
	}
	b := &Broker{db: d, layout: t, table: table, now: c.NowFunc, failed: c.Failed}
	if b.now == nil {
		b.now = time.Now
	}
	switch {
	case c.Expire == 0:
		b.expire = int64(DefaultExpire / time.Second)
	case c.Expire < 0:
		b.expire = -1
	default:
		b.expire = int64(math.Ceil(c.Expire.Seconds()))
	}
	var err error
	if b.q, err = bindJobsQueries(d.drv, t, table, d.lock); err != nil {
		return nil, err
	}
	exists, err := d.tableExists(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("storage/sql: %s: jobs table %s: %w", d.where, table, err)
	}
	if !exists {
		return nil, fmt.Errorf("storage/sql: %s: jobs table %s %w (`bridge migrate` creates it)", d.where, table, ErrNoTable)
	}
	rows, err := d.pool.QueryContext(ctx, b.q.probe)
	if err != nil {
		return nil, fmt.Errorf("storage/sql: %s: jobs table %s lacks one of the columns %s: %w", d.where, table, strings.Join(jobsColumns(t), ", "), err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("storage/sql: %s: jobs table %s: %w", d.where, table, err)
	}
	return b, nil
}

// Table returns the table name the broker works on.
func (b *Broker) Table() string { return b.table }

// jobsColumns are every column of layout t.
func jobsColumns(t jobstable.Jobs) []string {
	cols := []string{colID, colQueue, colPayload, colAttempts}
	if t.Reserved != "" {
		cols = append(cols, t.Reserved)
	}
	return append(cols, t.ReservedAt, t.AvailableAt, t.CreatedAt)
}

// insertArg is what one parameter of the insert statement carries.
type insertArg int

const (
	argQueue insertArg = iota
	argPayload
	argAttempts
	argAvailable
	argCreated
)

// jobsQueries are one broker's statements in the driver's spelling, its table, columns and lock clause
// put in. Those with {{ids}} still hold it (dbDriver.withIDs). Every value is a parameter: every "now"
// is the caller's clock as Unix seconds, never the database's.
type jobsQueries struct {
	// insert is the library's push: attempts as given, not reserved, available and created as given.
	insert     string
	insertArgs []insertArg
	// recover puts reservations that lapsed back as waiting with attempts + 1 (think-queue 1.x's
	// releaseJobsThatHaveBeenReservedTooLong), inside the reserve transaction; "" for layouts without
	// that step. Params: queue, lapsed-before.
	recover string
	// reserveSelect is the library's getNextAvailableJob, n rows at a time, lowest id first: waiting
	// and available, or (without a recover step) reserved and lapsed. Params: queue, now,
	// [lapsed-before,] n.
	reserveSelect string
	// reserveAbove is reserveSelect for rows above an id (the queue's watermark). Params: queue, id,
	// now, [lapsed-before,] n.
	reserveAbove string
	// nextDue finds when the next row of some queues becomes ready by itself: a delayed job's
	// available_at, or a reservation's lapse. PostgreSQL only (see WaitReady). Params: expire, queues,
	// now, lapsed-before.
	nextDue string
	// reserveUpdate is markJobAsReserved for a list of ids. Params: now, ids….
	reserveUpdate string
	// handBack undoes a reservation: the row as it was before it. Params: id.
	handBack string
	// extend moves the reservation time so it lapses later. Params: reserved-at, id.
	extend string
	// held counts the row if it is reserved. Params: id.
	held string
	// deleteIDs acknowledges finished jobs of one queue. Params: queue, ids….
	deleteIDs string
	// deleteID is Release's and Fail's delete of the reserved row. Params: id.
	deleteID string
	// size is the libraries' size(): every row of the queue, reserved and delayed ones included.
	size string
	// sizes counts a queue by state and finds when its oldest ready job became ready. Params: now,
	// lapsed-before, now, lapsed-before, now, lapsed-before, expire, queue.
	sizes string
	// list has one statement per state, oldest first. Params: queue, the state's, limit, offset.
	list map[queue.State]listQuery
	// queues lists the queue names in the table.
	queues string
	// probe selects every column of the layout and no row.
	probe string
}

// listQuery is one state's listing and what its state's parameters are.
type listQuery struct {
	q string
	// args are the state's parameters: now or lapsed-before, in order.
	args []stateArg
}

type stateArg int

const (
	argNow stateArg = iota
	argLapsed
)

// bindJobsQueries writes layout t's statements for driver d.
func bindJobsQueries(d *dbDriver, t jobstable.Jobs, table, lock string) (jobsQueries, error) {
	for _, c := range jobsColumns(t)[4:] {
		if err := validateName("column", c); err != nil {
			return jobsQueries{}, fmt.Errorf("jobs table %s: %w", table, err)
		}
	}
	want := slices.Sorted(slices.Values(jobsColumns(t)[1:]))
	if got := slices.Sorted(slices.Values(t.InsertColumns)); !slices.Equal(got, want) {
		return jobsQueries{}, fmt.Errorf("storage/sql: jobs table %s: insert columns %v are not the layout's %v", table, t.InsertColumns, want)
	}
	tbl := d.ident(table)
	id, qu, pl, at := d.ident(colID), d.ident(colQueue), d.ident(colPayload), d.ident(colAttempts)
	ra, aa := d.ident(t.ReservedAt), d.ident(t.AvailableAt)
	waiting, held := ra+" IS NULL", ra+" IS NOT NULL"
	markReserved, markWaiting := "", ""
	if t.Reserved != "" {
		flag := d.ident(t.Reserved)
		waiting, held = flag+" = 0", flag+" = 1"
		markReserved, markWaiting = flag+" = 1, ", flag+" = 0, "
	}
	byID := id + " = " + d.idParam

	var q jobsQueries
	cols := make([]string, len(t.InsertColumns))
	vals := make([]string, len(t.InsertColumns))
	for i, c := range t.InsertColumns {
		cols[i], vals[i] = d.ident(c), "?"
		switch c {
		case colQueue:
			q.insertArgs = append(q.insertArgs, argQueue)
		case colPayload:
			q.insertArgs = append(q.insertArgs, argPayload)
		case colAttempts:
			q.insertArgs = append(q.insertArgs, argAttempts)
		case t.AvailableAt:
			q.insertArgs = append(q.insertArgs, argAvailable)
		case t.CreatedAt:
			q.insertArgs = append(q.insertArgs, argCreated)
		case t.Reserved:
			vals[i] = "0"
		case t.ReservedAt:
			vals[i] = "NULL"
		}
	}
	q.insert = "INSERT INTO " + tbl + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
	if d.returningID {
		q.insert += " RETURNING " + id
	}
	if d.notify {
		// The notification goes out when the INSERT's transaction commits, so it never precedes the row.
		q.insert = "WITH \"j\" AS (" + q.insert + ") SELECT " + id + " FROM \"j\", pg_notify('" + notifyChannel(table) + "', ?)"
		q.insertArgs = append(q.insertArgs, argQueue)
		q.nextDue = "SELECT MIN(CASE WHEN " + waiting + " THEN " + aa + " ELSE " + ra + " + ? END) FROM " + tbl +
			" WHERE " + qu + " = ANY(?) AND ((" + waiting + " AND " + aa + " > ?) OR (" + held + " AND " + ra + " > ?))"
	}

	available := "((" + waiting + " AND " + aa + " <= ?) OR " + ra + " <= ?)"
	if t.RecoveryAddsAttempt {
		q.recover = "UPDATE " + tbl + " SET " + markWaiting + ra + " = NULL, " + at + " = " + d.increment(at) +
			" WHERE " + qu + " = ? AND " + held + " AND " + ra + " <= ?"
		available = waiting + " AND " + aa + " <= ?"
	}
	q.reserveSelect = "SELECT " + id + ", " + pl + ", " + at + " FROM " + tbl + " WHERE " + qu + " = ? AND " + available +
		" ORDER BY " + id + " ASC LIMIT ?"
	q.reserveAbove = "SELECT " + id + ", " + pl + ", " + at + " FROM " + tbl + " WHERE " + qu + " = ? AND " + id + " > " +
		d.idParam + " AND " + available + " ORDER BY " + id + " ASC LIMIT ?"
	if lock != "" {
		q.reserveSelect += " " + lock
		q.reserveAbove += " " + lock
	}
	q.reserveUpdate = "UPDATE " + tbl + " SET " + markReserved + ra + " = ?"
	q.handBack = "UPDATE " + tbl + " SET " + markWaiting + ra + " = NULL"
	if t.CountsAtReserve {
		q.reserveUpdate += ", " + at + " = " + d.increment(at)
		q.handBack += ", " + at + " = " + d.decrement(at)
	}
	q.reserveUpdate += " WHERE " + id + " IN ({{ids}})"
	q.handBack += " WHERE " + byID + " AND " + held
	q.extend = "UPDATE " + tbl + " SET " + ra + " = ? WHERE " + byID + " AND " + held
	q.held = "SELECT COUNT(*) FROM " + tbl + " WHERE " + byID + " AND " + held
	q.deleteIDs = "DELETE FROM " + tbl + " WHERE " + qu + " = ? AND " + id + " IN ({{ids}})"
	q.deleteID = "DELETE FROM " + tbl + " WHERE " + byID
	q.size = "SELECT COUNT(*) FROM " + tbl + " WHERE " + qu + " = ?"

	// A lapsed reservation counts as ready: any worker may take it.
	ready := "((" + waiting + " AND " + aa + " <= ?) OR (" + held + " AND " + ra + " <= ?))"
	delayed := "(" + waiting + " AND " + aa + " > ?)"
	reserved := "(" + held + " AND " + ra + " > ?)"
	q.sizes = "SELECT COUNT(CASE WHEN " + ready + " THEN 1 END), COUNT(CASE WHEN " + delayed + " THEN 1 END), " +
		"COUNT(CASE WHEN " + reserved + " THEN 1 END), " +
		"MIN(CASE WHEN " + waiting + " AND " + aa + " <= ? THEN " + aa + " WHEN " + held + " AND " + ra + " <= ? THEN " + ra + " + ? END) " +
		"FROM " + tbl + " WHERE " + qu + " = ?"
	listed := "SELECT " + id + ", " + pl + ", " + at + ", " + aa + ", " + ra + " FROM " + tbl + " WHERE " + qu + " = ? AND "
	page := " ORDER BY " + id + " ASC LIMIT ? OFFSET ?"
	q.list = map[queue.State]listQuery{
		queue.StateReady:    {d.bind(listed + ready + page), []stateArg{argNow, argLapsed}},
		queue.StateDelayed:  {d.bind(listed + delayed + page), []stateArg{argNow}},
		queue.StateReserved: {d.bind(listed + reserved + page), []stateArg{argLapsed}},
	}
	q.queues = "SELECT DISTINCT " + qu + " FROM " + tbl + " WHERE " + qu + " IS NOT NULL"
	probe := make([]string, 0, 8)
	for _, c := range jobsColumns(t) {
		probe = append(probe, d.ident(c))
	}
	q.probe = "SELECT " + strings.Join(probe, ", ") + " FROM " + tbl + " WHERE 1 = 0"

	for _, s := range []*string{&q.insert, &q.recover, &q.reserveSelect, &q.reserveAbove, &q.reserveUpdate, &q.handBack, &q.extend,
		&q.held, &q.nextDue, &q.deleteIDs, &q.deleteID, &q.size, &q.sizes, &q.queues, &q.probe} {
		*s = d.bind(*s)
	}
	return q, nil
}
