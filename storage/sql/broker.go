package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/queuebridge/bridge/queue"
)

// JobsSchema names the jobs table layout of a PHP queue library's database driver.
type JobsSchema int

const (
	// JobsThinkQueueV1 is think-queue 1.x/2.x: id, queue, payload, attempts, reserved, reserved_at,
	// available_at, created_at. attempts counts finished attempts: a reservation leaves it alone and
	// attempts() is the column + 1.
	JobsThinkQueueV1 JobsSchema = iota + 1
	// JobsThinkQueueV3 is think-queue 3.0.3–3.0.9: id, queue, payload, attempts, reserve_time,
	// available_time, create_time. A reservation increments attempts, and attempts() is the column.
	JobsThinkQueueV3
	// JobsLaravel is Laravel 8–12: id, queue, payload, attempts, reserved_at, available_at, created_at.
	// A reservation increments attempts, and attempts() is the column.
	JobsLaravel
)

// String returns "thinkqueue-v1", "thinkqueue-v3" or "laravel".
func (s JobsSchema) String() string {
	switch s {
	case JobsThinkQueueV1:
		return "thinkqueue-v1"
	case JobsThinkQueueV3:
		return "thinkqueue-v3"
	case JobsLaravel:
		return "laravel"
	}
	return fmt.Sprintf("JobsSchema(%d)", int(s))
}

func (s JobsSchema) validate() error {
	switch s {
	case JobsThinkQueueV1, JobsThinkQueueV3, JobsLaravel:
		return nil
	case 0:
		return errors.New("storage/sql: jobs schema is required (JobsThinkQueueV1, JobsThinkQueueV3 or JobsLaravel)")
	}
	return fmt.Errorf("storage/sql: unknown jobs schema %d", int(s))
}

func (s JobsSchema) prefix() string {
	switch s {
	case JobsThinkQueueV1:
		return "JobsV1"
	case JobsThinkQueueV3:
		return "JobsV3"
	}
	return "JobsLaravel"
}

// DefaultJobsTable is the table OpenBroker uses when given "": Laravel's and think-queue's default.
const DefaultJobsTable = "jobs"

// DefaultExpire is the reservation lifetime when BrokerConfig.Expire is 0: think-queue's expire and
// Laravel's retry_after default.
const DefaultExpire = 60 * time.Second

// maxAttempts is the largest value of the attempts column (TINYINT UNSIGNED on MySQL). Increments stop
// there instead of failing the reservation in strict mode (which would wedge the queue on its head row).
// SQLite and PostgreSQL (smallint / integer) could count further; they stop at 255 too, so a job gives up
// at the same count on every database.
const maxAttempts = 255

// maxTxTries is how many times a transaction that hit a deadlock, a lock wait timeout, a serialization
// failure or SQLITE_BUSY is run in all.
const maxTxTries = 8

// BrokerConfig tunes a Broker. A nil config means every default.
type BrokerConfig struct {
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
// time plus Expire, and Attempts what the PHP library's attempts() reports for the run: the column + 1
// for JobsThinkQueueV1, the column after the reservation's increment otherwise. Every time value is Unix
// seconds from the injected clock.
type Broker struct {
	db     *dbsql.DB
	driver driverKind
	schema JobsSchema
	table  string
	q      jobsQueries
	now    func() time.Time
	// expire is the reservation lifetime in seconds; < 0 means reservations never lapse.
	expire int64
	failed *FailedStore
	// txOpts are the reserve transaction's options: READ COMMITTED on MySQL, so the v1 recovery UPDATE
	// skips rows other transactions hold instead of waiting on them; READ COMMITTED on PostgreSQL too
	// (its default, set whatever default_transaction_isolation says), where a row another reserve
	// updated meanwhile is checked again and skipped.
	txOpts *dbsql.TxOptions
}

// jobsQueries are one broker's statements with its table name (and lock clause) put in. Those with
// {{ids}} still hold it.
type jobsQueries struct {
	insert, recover, reserveSelect, reserveUpdate, handBack, extend, held string
	deleteIDs, deleteID, size, tableExists                                string
	migrate                                                               []string
}

func bindJobsQueries(d driverKind, schema JobsSchema, table, lock string) (jobsQueries, error) {
	book := queryBooks[d]
	var firstErr error
	get := func(name string) string {
		q, ok := book[name]
		if !ok && firstErr == nil {
			firstErr = fmt.Errorf("storage/sql: no query %s for %s", name, d)
		}
		q = strings.ReplaceAll(q, tablePlaceholder, table)
		return strings.ReplaceAll(q, "{{lock}}", lock)
	}
	p := schema.prefix()
	q := jobsQueries{
		insert:        get(p + "Insert"),
		reserveSelect: get(p + "ReserveSelect"),
		reserveUpdate: get(p + "ReserveUpdate"),
		handBack:      get(p + "HandBack"),
		extend:        get(p + "Extend"),
		held:          get(p + "Held"),
		deleteIDs:     get("JobsDelete"),
		deleteID:      get("JobsDeleteID"),
		size:          get("JobsSize"),
		tableExists:   get("TableExists"),
	}
	if schema == JobsThinkQueueV1 {
		q.recover = get(p + "Recover")
	}
	q.migrate = append(q.migrate, get(p+"CreateTable"))
	if _, ok := book[p+"QueueIndex"]; ok {
		q.migrate = append(q.migrate, get(p+"QueueIndex"))
	}
	return q, firstErr
}

// withIDs puts n "?" placeholders in for {{ids}}.
func withIDs(q string, n int) string {
	return strings.Replace(q, "{{ids}}", strings.TrimSuffix(strings.Repeat("?, ", n), ", "), 1)
}

// withNumberedIDs puts n PostgreSQL placeholders in for {{ids}}, numbered after the highest $k already in
// q: "$2::bigint, $3::bigint, …".
func withNumberedIDs(q string, n int) string {
	last := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if k, err := strconv.Atoi(q[i+1 : j]); err == nil && k > last {
			last = k
		}
	}
	var ids strings.Builder
	for k := range n {
		if k > 0 {
			ids.WriteString(", ")
		}
		ids.WriteString("$" + strconv.Itoa(last+1+k) + "::bigint")
	}
	return strings.Replace(q, "{{ids}}", ids.String(), 1)
}

// withIDs puts n placeholders in for {{ids}} in the broker's driver's style.
func (b *Broker) withIDs(q string, n int) string {
	if b.driver == driverPostgres {
		return withNumberedIDs(q, n)
	}
	return withIDs(q, n)
}

// OpenBroker connects to the database dsn names (the DSNs of OpenFailedStore) and returns a broker on its
// jobs table laid out as schema. table "" means DefaultJobsTable; the app's table prefix is the caller's
// to include. The table is not created or checked: see Migrate. On MySQL and PostgreSQL the server
// version is read once: MySQL >= 8.0.1, MariaDB >= 10.6 and PostgreSQL >= 9.5 reserve with FOR UPDATE
// SKIP LOCKED, older servers with the libraries' plain FOR UPDATE.
func OpenBroker(ctx context.Context, dsn string, schema JobsSchema, table string, cfg *BrokerConfig) (*Broker, error) {
	if err := schema.validate(); err != nil {
		return nil, err
	}
	if table == "" {
		table = DefaultJobsTable
	}
	if err := validateTable(table); err != nil {
		return nil, err
	}
	var c BrokerConfig
	if cfg != nil {
		c = *cfg
	}
	b := &Broker{schema: schema, table: table, now: c.NowFunc, failed: c.Failed}
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
	dc, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	b.driver = dc.driver
	switch dc.driver {
	case driverMySQL:
		mc := dc.mysqlConfig.Clone()
		// UPDATE reports matched rows, so an Extend to the same second still says the row is held.
		mc.ClientFoundRows = true
		connector, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, fmt.Errorf("storage/sql: mysql: %w", err)
		}
		b.db = dbsql.OpenDB(connector)
		b.db.SetConnMaxLifetime(3 * time.Minute)
		b.txOpts = &dbsql.TxOptions{Isolation: dbsql.LevelReadCommitted}
	case driverSQLite:
		b.db, err = dbsql.Open("sqlite", dc.sqliteDSN)
		if err != nil {
			return nil, fmt.Errorf("storage/sql: sqlite: %w", err)
		}
		if dc.memory {
			b.db.SetMaxOpenConns(1)
			b.db.SetConnMaxLifetime(0)
			b.db.SetConnMaxIdleTime(0)
		}
	case driverPostgres:
		b.db = openPostgres(dc)
		b.db.SetConnMaxLifetime(3 * time.Minute)
		b.txOpts = &dbsql.TxOptions{Isolation: dbsql.LevelReadCommitted}
	}
	if err := b.db.PingContext(ctx); err != nil {
		_ = b.db.Close()
		return nil, fmt.Errorf("storage/sql: connect to %s: %w", dc.driver, err)
	}
	lock := ""
	if dc.driver == driverMySQL || dc.driver == driverPostgres {
		var version string
		if err := b.db.QueryRowContext(ctx, queryBooks[dc.driver]["ServerVersion"]).Scan(&version); err != nil {
			_ = b.db.Close()
			return nil, fmt.Errorf("storage/sql: read server version: %w", err)
		}
		lock = "FOR UPDATE"
		if dc.driver == driverMySQL && hasSkipLocked(version) || dc.driver == driverPostgres && pgHasSkipLocked(version) {
			lock = "FOR UPDATE SKIP LOCKED"
		}
	}
	if b.q, err = bindJobsQueries(dc.driver, schema, table, lock); err != nil {
		_ = b.db.Close()
		return nil, err
	}
	return b, nil
}

// hasSkipLocked reports whether a MySQL server version string is MySQL >= 8.0.1 or MariaDB >= 10.6
// (Laravel's getLockForPopping). MariaDB may report itself as "5.5.5-10.x.y-MariaDB".
func hasSkipLocked(version string) bool {
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return versionAtLeast(strings.TrimPrefix(version, "5.5.5-"), 10, 6, 0)
	}
	return versionAtLeast(version, 8, 0, 1)
}

// pgHasSkipLocked reports whether a PostgreSQL server_version_num (90500, 150020, …) is >= 9.5.
func pgHasSkipLocked(versionNum string) bool {
	n, err := strconv.Atoi(strings.TrimSpace(versionNum))
	return err == nil && n >= 90500
}

// versionAtLeast compares the leading x.y.z of v with want.
func versionAtLeast(v string, want ...int) bool {
	end := strings.IndexFunc(v, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	if end >= 0 {
		v = v[:end]
	}
	parts := strings.Split(v, ".")
	for i, w := range want {
		n := 0
		if i < len(parts) {
			n, _ = strconv.Atoi(parts[i])
		}
		if n != w {
			return n > w
		}
	}
	return true
}

// Close closes the broker's connections.
func (b *Broker) Close() error { return b.db.Close() }

// Table returns the table name the broker works on.
func (b *Broker) Table() string { return b.table }

// Migrate returns the statements that create the jobs table as the PHP library ships it for this database
// (see mysql/jobs_ddl.sql, sqlite/jobs_ddl.sql and postgres/jobs_ddl.sql), with the broker's table name in
// them, and runs them unless dryRun; on SQLite and PostgreSQL in one transaction. A table that exists already is ErrTableExists, and nothing is run. The broker never calls
// it on its own.
func (b *Broker) Migrate(ctx context.Context, dryRun bool) ([]string, error) {
	stmts := append([]string(nil), b.q.migrate...)
	if b.driver == driverMySQL && b.schema == JobsLaravel && len(b.table+"_queue_index") > maxIdentifier {
		return stmts, fmt.Errorf("migrate %s: index name %s_queue_index is longer than MySQL's %d bytes", b.table, b.table, maxIdentifier)
	}
	if dryRun {
		return stmts, nil
	}
	var n int
	if err := b.db.QueryRowContext(ctx, b.q.tableExists, b.table).Scan(&n); err != nil {
		return stmts, fmt.Errorf("migrate %s: %w", b.table, err)
	}
	if n > 0 {
		return stmts, fmt.Errorf("migrate %s: %w", b.table, ErrTableExists)
	}
	if b.driver == driverSQLite || b.driver == driverPostgres {
		err := b.inTx(ctx, nil, func(tx *dbsql.Tx) error {
			for _, stmt := range stmts {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return stmts, fmt.Errorf("migrate %s: %w", b.table, err)
		}
		return stmts, nil
	}
	for i, stmt := range stmts {
		if _, err := b.db.ExecContext(ctx, stmt); err != nil {
			return stmts, fmt.Errorf("migrate %s: statement %d of %d: %w", b.table, i+1, len(stmts), err)
		}
	}
	return stmts, nil
}

// Push adds payload to queue as the library's push does: attempts 0, not reserved, available and created
// now.
func (b *Broker) Push(ctx context.Context, queue string, payload []byte) error {
	_, err := b.Insert(ctx, queue, payload, b.now())
	return err
}

// Later adds payload to queue, available from at, as the library's later does (created now).
func (b *Broker) Later(ctx context.Context, queue string, payload []byte, at time.Time) error {
	_, err := b.Insert(ctx, queue, payload, at)
	return err
}

// Insert is Push (at = now) or Later returning the new row's id, which the libraries return as the job id
// (LastInsertId on MySQL and SQLite, INSERT … RETURNING "id" on PostgreSQL).
func (b *Broker) Insert(ctx context.Context, queue string, payload []byte, at time.Time) (int64, error) {
	return b.insert(ctx, b.db, queue, payload, 0, at, b.now())
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (dbsql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *dbsql.Row
}

// insert adds one row and returns its id.
func (b *Broker) insert(ctx context.Context, db execer, queue string, payload []byte, attempts int, available, created time.Time) (int64, error) {
	if err := checkText(b.driver, string(payload), queue); err != nil {
		return 0, fmt.Errorf("push to %s queue %q: %w", b.table, queue, err)
	}
	attempts = min(max(attempts, 0), maxAttempts)
	args := []any{queue, attempts, available.Unix(), created.Unix(), string(payload)}
	if b.schema == JobsThinkQueueV1 {
		args = []any{queue, string(payload), attempts, available.Unix(), created.Unix()}
	}
	var id int64
	if b.driver == driverPostgres {
		if err := db.QueryRowContext(ctx, b.q.insert, args...).Scan(&id); err != nil {
			return 0, fmt.Errorf("push to %s queue %q: %w", b.table, queue, err)
		}
		return id, nil
	}
	res, err := db.ExecContext(ctx, b.q.insert, args...)
	if err == nil {
		id, err = res.LastInsertId()
	}
	if err != nil {
		return 0, fmt.Errorf("push to %s queue %q: %w", b.table, queue, err)
	}
	return id, nil
}

// Reserve takes up to n jobs of queue, lowest id first, in one transaction: rows waiting and available,
// and (think-queue 3.x, Laravel) rows whose reservation lapsed; think-queue 1.x first puts lapsed rows
// back with attempts + 1, as its pop does. The rows are locked FOR UPDATE SKIP LOCKED on MySQL and
// PostgreSQL (plain FOR UPDATE on servers without it) and by BEGIN IMMEDIATE on SQLite. Deadlocks, lock
// wait timeouts, serialization failures and SQLITE_BUSY rerun the transaction. attempts never goes past 255: a row there is reserved with 255 and
// attempts() >= 255, for the worker to fail.
func (b *Broker) Reserve(ctx context.Context, name string, n int) ([]queue.Reservation, error) {
	if n < 1 {
		n = 1
	}
	var out []queue.Reservation
	err := b.inTx(ctx, b.txOpts, func(tx *dbsql.Tx) error {
		out = out[:0]
		now := b.now().Unix()
		lapsed := int64(-1) // no reserved_at is <= -1: reservations never lapse
		if b.expire >= 0 {
			lapsed = now - b.expire
		}
		var args []any
		if b.schema == JobsThinkQueueV1 {
			if b.expire >= 0 {
				if _, err := tx.ExecContext(ctx, b.q.recover, name, lapsed); err != nil {
					return err
				}
			}
			args = []any{name, now, n}
		} else {
			args = []any{name, now, lapsed, n}
		}
		rows, err := tx.QueryContext(ctx, b.q.reserveSelect, args...)
		if err != nil {
			return err
		}
		ids := make([]any, 0, n+1)
		ids = append(ids, now)
		for rows.Next() {
			var (
				id       int64
				payload  []byte
				attempts dbsql.NullInt64
			)
			if err := rows.Scan(&id, &payload, &attempts); err != nil {
				rows.Close()
				return err
			}
			a := int(attempts.Int64)
			if b.schema == JobsThinkQueueV1 {
				a++ // not stored: attempts() is the column + 1
			} else {
				a = min(a+1, maxAttempts)
			}
			var expires time.Time
			if b.expire >= 0 {
				expires = time.Unix(now+b.expire, 0)
			}
			out = append(out, queue.Reservation{Queue: name, Raw: payload, Member: []byte(strconv.FormatInt(id, 10)),
				Expires: expires, Attempts: a})
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, b.withIDs(b.q.reserveUpdate, len(out)), ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reserve from %s queue %q: %w", b.table, name, err)
	}
	return out, nil
}

// Delete removes the rows of queue whose ids members name and returns how many there were. Members that
// are not row ids are skipped.
func (b *Broker) Delete(ctx context.Context, queue string, members ...[]byte) (int, error) {
	args := make([]any, 0, len(members)+1)
	args = append(args, queue)
	for _, m := range members {
		if id, ok := parseMember(m); ok {
			args = append(args, id)
		}
	}
	if len(args) == 1 {
		return 0, nil
	}
	res, err := b.exec(ctx, b.withIDs(b.q.deleteIDs, len(args)-1), args...)
	if err != nil {
		return 0, fmt.Errorf("delete from %s queue %q: %w", b.table, queue, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete from %s queue %q: %w", b.table, queue, err)
	}
	return int(n), nil
}

// Release ends reservation r as the libraries' release does, in one transaction: the row is deleted and a
// new row (new id) is inserted with payload, attempts = r.Attempts (think-queue 1.x: the column + 1;
// others: the column as reserved), not reserved, available at at, created now. A row that is gone
// already is false, and nothing is inserted.
func (b *Broker) Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error) {
	id, ok := parseMember(r.Member)
	if !ok {
		return false, nil
	}
	var found bool
	err := b.inTx(ctx, nil, func(tx *dbsql.Tx) error {
		res, err := tx.ExecContext(ctx, b.q.deleteID, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if found = n > 0; !found {
			return nil
		}
		_, err = b.insert(ctx, tx, r.Queue, payload, r.Attempts, at, b.now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("release job %s of %s queue %q: %w", r.Member, b.table, r.Queue, err)
	}
	return found, nil
}

// HandBack ends reservation r leaving the row as it was before it: think-queue 1.x reserved 0 and
// reserved_at NULL; others reserved_at / reserve_time NULL and attempts - 1. false means the row is not
// reserved (any more).
func (b *Broker) HandBack(ctx context.Context, r queue.Reservation) (bool, error) {
	return b.update(ctx, "hand back", r, b.q.handBack)
}

// Extend moves the reservation time of r so the reservation lapses at until. false means the row is not
// reserved (any more). When reservations never lapse it only checks that.
func (b *Broker) Extend(ctx context.Context, r queue.Reservation, until time.Time) (bool, error) {
	if b.expire < 0 {
		id, ok := parseMember(r.Member)
		if !ok {
			return false, nil
		}
		var n int
		if err := b.db.QueryRowContext(ctx, b.q.held, id).Scan(&n); err != nil {
			return false, fmt.Errorf("extend job %s of %s queue %q: %w", r.Member, b.table, r.Queue, err)
		}
		return n > 0, nil
	}
	return b.update(ctx, "extend", r, b.q.extend, until.Unix()-b.expire)
}

func (b *Broker) update(ctx context.Context, what string, r queue.Reservation, q string, args ...any) (bool, error) {
	id, ok := parseMember(r.Member)
	if !ok {
		return false, nil
	}
	res, err := b.exec(ctx, q, append(args, id)...)
	if err != nil {
		return false, fmt.Errorf("%s job %s of %s queue %q: %w", what, r.Member, b.table, r.Queue, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s job %s of %s queue %q: %w", what, r.Member, b.table, r.Queue, err)
	}
	return n > 0, nil
}

// Fail writes rec to BrokerConfig.Failed (Queue and Payload default to r's), then deletes r's row.
func (b *Broker) Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error {
	if b.failed == nil {
		return fmt.Errorf("fail job %s of %s queue %q: the broker has no failed-job store (BrokerConfig.Failed)", r.Member, b.table, r.Queue)
	}
	if rec.Queue == "" {
		rec.Queue = r.Queue
	}
	if rec.Payload == nil {
		rec.Payload = r.Raw
	}
	if err := b.failed.Insert(ctx, rec); err != nil {
		return err
	}
	id, ok := parseMember(r.Member)
	if !ok {
		return nil
	}
	if _, err := b.exec(ctx, b.q.deleteID, id); err != nil {
		return fmt.Errorf("fail job %s of %s queue %q: delete: %w", r.Member, b.table, r.Queue, err)
	}
	return nil
}

// Size counts the rows of queue, reserved and delayed ones included, as the libraries' size() does.
func (b *Broker) Size(ctx context.Context, queue string) (int64, error) {
	var n int64
	if err := b.db.QueryRowContext(ctx, b.q.size, queue).Scan(&n); err != nil {
		return 0, fmt.Errorf("size of %s queue %q: %w", b.table, queue, err)
	}
	return n, nil
}

// parseMember reads a row id from a reservation's Member.
func parseMember(m []byte) (int64, bool) {
	id, err := strconv.ParseInt(string(m), 10, 64)
	return id, err == nil && id > 0
}

// inTx runs fn in a transaction and commits it, running it again (with a short random wait) when the
// database reports a deadlock, a lock wait timeout, a serialization failure or SQLITE_BUSY: those roll the
// whole transaction back, so no row is lost or reserved twice.
func (b *Broker) inTx(ctx context.Context, opts *dbsql.TxOptions, fn func(tx *dbsql.Tx) error) error {
	for try := 1; ; try++ {
		err := b.runTx(ctx, opts, fn)
		if err == nil || try >= maxTxTries || !isRetryable(err) {
			return err
		}
		if werr := retryWait(ctx, try); werr != nil {
			return errors.Join(err, werr)
		}
	}
}

// exec runs one statement in autocommit, running it again like inTx when it was a deadlock victim.
func (b *Broker) exec(ctx context.Context, q string, args ...any) (dbsql.Result, error) {
	for try := 1; ; try++ {
		res, err := b.db.ExecContext(ctx, q, args...)
		if err == nil || try >= maxTxTries || !isRetryable(err) {
			return res, err
		}
		if werr := retryWait(ctx, try); werr != nil {
			return nil, errors.Join(err, werr)
		}
	}
}

// retryWait sleeps a short, growing, random while before the next try.
func retryWait(ctx context.Context, try int) error {
	wait := time.Duration(try) * (2*time.Millisecond + rand.N(8*time.Millisecond))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b *Broker) runTx(ctx context.Context, opts *dbsql.TxOptions, fn func(tx *dbsql.Tx) error) error {
	tx, err := b.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isRetryable reports a deadlock (1213) or lock wait timeout (1205) on MySQL, a serialization failure
// (SQLSTATE 40001), deadlock (40P01) or lock timeout (55P03) on PostgreSQL, and SQLITE_BUSY / LOCKED.
func isRetryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "55P03"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}
