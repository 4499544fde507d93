package sql

import (
	"context"
	dbsql "database/sql"
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dbDriver is what differs between the databases, one value per driver: how statements are spelled,
// how a pool is opened, which errors are worth a retry. Nothing else in the package asks which database
// it is on.
type dbDriver struct {
	kind driverKind
	// title is the database's name in messages.
	title string
	// quote quotes identifiers: ` on MySQL and SQLite, " on PostgreSQL. SQLite takes a double-quoted
	// name that is no column for a string literal; a backquoted one is a column or an error.
	quote byte
	// numbered is true for $1, $2, … placeholders (PostgreSQL); "?" otherwise.
	numbered bool
	// returningID is true when an INSERT gives its id by RETURNING "id" (PostgreSQL has no LastInsertId).
	returningID bool
	// idParam is how one row id is compared. PostgreSQL compares as bigint, so an id past an int4
	// column finds nothing instead of failing; lists of ids do the same (withNumberedIDs).
	idParam string
	// least and greatest are the two-argument minimum and maximum: SQLite's scalar MIN / MAX.
	least, greatest string
	// signed makes an unsigned column signed before a subtraction (MySQL's TINYINT UNSIGNED attempts).
	signed func(expr string) string
	// timeText reads a failed-at column as 'Y-m-d H:i:s' text (CAST … AS TEXT): the driver would turn a
	// datetime column into a time.Time otherwise.
	timeText bool
	// versionQuery reads the server version once at open; "" when none matters (SQLite has no row locks).
	versionQuery string
	// skipLocked reports whether a server of that version has FOR UPDATE SKIP LOCKED.
	skipLocked func(version string) bool
	// reserveTx are the reserve transaction's options. READ COMMITTED on MySQL, so think-queue 1.x's
	// recovery UPDATE skips rows other transactions hold instead of waiting on them; on PostgreSQL too
	// (its default, set whatever default_transaction_isolation says), where a row another reserve
	// updated meanwhile is checked again and skipped. SQLite's BEGIN IMMEDIATE takes the write lock.
	reserveTx *dbsql.TxOptions
	// tableExists counts the tables of that name (one parameter) in the connection's database or schema.
	tableExists string
	// notify is true where pushes raise a notification a waiting worker LISTENs for (PostgreSQL).
	notify bool
	// ddlInTx runs a table's DDL in one transaction (SQLite, PostgreSQL); MySQL commits each statement.
	ddlInTx bool
	// maxIdentifier is the longest table or index name the server takes; 0 when the server has no
	// limit worth checking (SQLite; PostgreSQL truncates at 63 with a notice).
	maxIdentifier int
	// utf8Only and noNUL describe what the text columns hold: only valid UTF-8 (MySQL's utf8mb4,
	// PostgreSQL's UTF8), and no NUL byte (PostgreSQL). SQLite keeps any bytes.
	utf8Only, noNUL bool
	// timeoutParam is the DSN parameter that bounds a new connection.
	timeoutParam string
	// connect opens the pool on a parsed DSN; timeout bounds each new connection (0: no bound).
	connect func(cfg dsnConfig, timeout time.Duration) (*dbsql.DB, error)
	// retryable reports a deadlock, lock wait timeout, serialization failure or busy database, which roll
	// the transaction back whole and are worth running again.
	retryable func(err error) bool
	// uniqueViolation reports a duplicate key.
	uniqueViolation func(err error) bool
}

var (
	mysqlDriver = &dbDriver{
		kind:            driverMySQL,
		title:           "MySQL",
		quote:           '`',
		idParam:         "?",
		least:           "LEAST",
		greatest:        "GREATEST",
		signed:          func(e string) string { return "CAST(" + e + " AS SIGNED)" },
		versionQuery:    "SELECT VERSION()",
		skipLocked:      hasSkipLocked,
		reserveTx:       &dbsql.TxOptions{Isolation: dbsql.LevelReadCommitted},
		tableExists:     "SELECT COUNT(*) FROM `information_schema`.`TABLES` WHERE `TABLE_SCHEMA` = DATABASE() AND `TABLE_NAME` = ?",
		maxIdentifier:   64,
		utf8Only:        true,
		timeoutParam:    "timeout",
		connect:         connectMySQL,
		retryable:       func(err error) bool { return mysqlErrorIs(err, 1213, 1205) }, // deadlock, lock wait timeout
		uniqueViolation: func(err error) bool { return mysqlErrorIs(err, 1062) },       // ER_DUP_ENTRY
	}
	sqliteDriver = &dbDriver{
		kind:            driverSQLite,
		title:           "SQLite",
		quote:           '`',
		idParam:         "?",
		least:           "MIN",
		greatest:        "MAX",
		signed:          func(e string) string { return e },
		timeText:        true,
		tableExists:     `SELECT COUNT(*) FROM "sqlite_master" WHERE "type" = 'table' AND "name" = ?`,
		ddlInTx:         true,
		connect:         connectSQLite,
		retryable:       isSQLiteBusy,
		uniqueViolation: isSQLiteUnique,
	}
	postgresDriver = &dbDriver{
		kind:         driverPostgres,
		title:        "PostgreSQL",
		quote:        '"',
		numbered:     true,
		returningID:  true,
		notify:       true,
		idParam:      "CAST(? AS bigint)",
		least:        "LEAST",
		greatest:     "GREATEST",
		signed:       func(e string) string { return e },
		timeText:     true,
		versionQuery: "SHOW server_version_num",
		skipLocked:   pgHasSkipLocked,
		reserveTx:    &dbsql.TxOptions{Isolation: dbsql.LevelReadCommitted},
		// The first schema of search_path, where unqualified names resolve.
		tableExists:     `SELECT COUNT(*) FROM "information_schema"."tables" WHERE "table_schema" = current_schema() AND "table_name" = ?`,
		ddlInTx:         true,
		utf8Only:        true,
		noNUL:           true,
		timeoutParam:    "connect_timeout",
		connect:         connectPostgres,
		retryable:       func(err error) bool { return pgErrorIs(err, "40001", "40P01", "55P03") }, // serialization, deadlock, lock timeout
		uniqueViolation: func(err error) bool { return pgErrorIs(err, "23505") },
	}
)

// driverFor returns the description of a driver kind.
func driverFor(k driverKind) *dbDriver {
	switch k {
	case driverMySQL:
		return mysqlDriver
	case driverPostgres:
		return postgresDriver
	}
	return sqliteDriver
}

// ident quotes a name that validateIdentifier accepted.
func (d *dbDriver) ident(name string) string {
	q := string(d.quote)
	return q + name + q
}

// bind turns a statement written with "?" into the driver's placeholders: $1, $2, … on PostgreSQL. No
// statement of the package has a "?" inside a literal.
func (d *dbDriver) bind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteString("$" + strconv.Itoa(n))
	}
	return b.String()
}

// withIDs puts n placeholders in for {{ids}}: "?, ?, …", or on PostgreSQL "$k::bigint, …" numbered after
// the statement's own.
func (d *dbDriver) withIDs(q string, n int) string {
	if d.numbered {
		return withNumberedIDs(q, n)
	}
	return withIDs(q, n)
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

// increment is col + 1, capped at maxAttempts (MySQL's TINYINT UNSIGNED): a poison job never makes the
// reservation fail in strict mode and wedge the queue on its head row (think-queue #97, Laravel #24636).
func (d *dbDriver) increment(col string) string {
	return d.least + "(" + col + " + 1, " + strconv.Itoa(maxAttempts) + ")"
}

// decrement is col - 1, at least 0.
func (d *dbDriver) decrement(col string) string {
	return d.greatest + "(" + d.signed(col) + " - 1, 0)"
}

// readTime is a failed-at column as the store scans it.
func (d *dbDriver) readTime(col string) string {
	if d.timeText {
		return "CAST(" + col + " AS TEXT)"
	}
	return col
}

var (
	// ErrNotUTF8 is returned by inserts on MySQL and PostgreSQL when a text value is not valid UTF-8: the
	// table's utf8mb4 (MySQL) or UTF8 (PostgreSQL) text columns cannot hold it (SQLite keeps any bytes).
	ErrNotUTF8 = errors.New("storage/sql: MySQL utf8mb4 columns hold only valid UTF-8")
	// ErrNULByte is returned by inserts on PostgreSQL when a text value holds a NUL byte (0x00), which
	// PostgreSQL's text types cannot store. A payload's JSON escapes NUL as \u0000, which is fine.
	ErrNULByte = errors.New("storage/sql: PostgreSQL text columns cannot hold NUL bytes")
)

// checkText refuses, before the database would, text values the driver's columns cannot hold.
func (d *dbDriver) checkText(values ...string) error {
	for _, v := range values {
		if d.utf8Only && !utf8.ValidString(v) {
			return ErrNotUTF8
		}
		if d.noNUL && strings.IndexByte(v, 0) >= 0 {
			return ErrNULByte
		}
	}
	return nil
}

// connectMySQL opens go-sql-driver's pool. UPDATE reports matched rows (ClientFoundRows), so an Extend to
// the same second still says the row is held.
func connectMySQL(cfg dsnConfig, timeout time.Duration) (*dbsql.DB, error) {
	mc := cfg.mysqlConfig.Clone()
	mc.ClientFoundRows = true
	connector, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, err
	}
	db := dbsql.OpenDB(timeoutConnector{connector, timeout})
	db.SetConnMaxLifetime(3 * time.Minute) // under the usual server and proxy idle timeouts
	return db, nil
}

// timeoutConnector bounds each new connection as a whole: go-sql-driver's timeout covers only the dial,
// so a server that accepts and never sends its handshake would hold Connect for ever.
type timeoutConnector struct {
	driver.Connector
	timeout time.Duration
}

func (c timeoutConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	return c.Connector.Connect(ctx)
}

// connectSQLite opens modernc.org/sqlite's pool. ":memory:" lives and dies with one connection, so its
// pool keeps exactly one.
func connectSQLite(cfg dsnConfig, _ time.Duration) (*dbsql.DB, error) {
	db, err := dbsql.Open("sqlite", cfg.sqliteDSN)
	if err != nil {
		return nil, err
	}
	if cfg.memory {
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	return db, nil
}

// connectPostgres opens a pool on pgx's database/sql driver; its ConnectTimeout bounds the whole
// connection (dial, TLS, startup, authentication).
func connectPostgres(cfg dsnConfig, timeout time.Duration) (*dbsql.DB, error) {
	pc := cfg.pgConfig.Copy()
	pc.ConnectTimeout = timeout
	db := stdlib.OpenDB(*pc)
	db.SetConnMaxLifetime(3 * time.Minute)
	return db, nil
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

func mysqlErrorIs(err error, numbers ...uint16) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}

func pgErrorIs(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

func isSQLiteUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) &&
		(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
