package sql

import (
	"context"
	"crypto/rand"
	dbsql "database/sql"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // loc=Asia/Shanghai in tests on machines without zoneinfo

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// fixtureRoot is shared/fixtures seen from this package directory (storage/sql in the module at
// /work/main). The fixtures were captured from real PHP and are read, never written.
const fixtureRoot = "../../../shared/fixtures"

// drivers are the databases every behaviour test runs on.
var drivers = []driverKind{driverMySQL, driverSQLite, driverPostgres}

// jobsLayout is a PHP library's jobs table as the library describes it, named for subtests.
type jobsLayout struct {
	name string
	jobstable.Jobs
}

func (l *jobsLayout) String() string { return l.name }

// failedLayout is a PHP library's failed jobs table as the library describes it, named for subtests.
type failedLayout struct {
	name string
	jobstable.Failed
}

func (l *failedLayout) String() string { return l.name }

var (
	jobsV1      = &jobsLayout{"thinkqueue-v1", thinkqueue.V1.JobsTable()}
	jobsV3      = &jobsLayout{"thinkqueue-v3", thinkqueue.V3.JobsTable()}
	jobsLaravel = &jobsLayout{"laravel", laravel.JobsTable()}

	failedLaravel    = &failedLayout{"laravel", laravel.FailedTable()}
	failedThinkQueue = &failedLayout{"thinkqueue", thinkqueue.FailedTable()}
)

var schemas = []*failedLayout{failedLaravel, failedThinkQueue}

// mysqlServer returns the test server's go-sql-driver config: QB_MYSQL_DSN (go-sql-driver form, e.g.
// root@tcp(127.0.0.1:3306)/), by default root without a password on 127.0.0.1:3306.
func mysqlServer(t testing.TB) *mysql.Config {
	t.Helper()
	dsn := os.Getenv("QB_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err, "QB_MYSQL_DSN")
	require.Equal(t, "tcp", cfg.Net, "QB_MYSQL_DSN must name a TCP address (PHP connects to it too)")
	return cfg
}

// postgresServer returns the test server's URL: QB_POSTGRES_DSN, by default postgres (trust auth) on
// 127.0.0.1:5432, database test.
func postgresServer(t testing.TB) *url.URL {
	t.Helper()
	dsn := os.Getenv("QB_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err, "QB_POSTGRES_DSN")
	return u
}

var pgAdmin struct {
	once sync.Once
	db   *dbsql.DB
	err  error
}

// postgresAdmin is one pool on QB_POSTGRES_DSN's database for every test's CREATE / DROP DATABASE, so
// parallel tests stay well under max_connections.
func postgresAdmin(t testing.TB) *dbsql.DB {
	t.Helper()
	pgAdmin.once.Do(func() {
		cfg, err := parseDSN(postgresServer(t).String())
		if err != nil {
			pgAdmin.err = err
			return
		}
		if pgAdmin.db, pgAdmin.err = connectPostgres(cfg, 0); pgAdmin.err != nil {
			return
		}
		pgAdmin.db.SetMaxOpenConns(4)
		pgAdmin.err = pgAdmin.db.PingContext(context.Background())
	})
	require.NoError(t, pgAdmin.err, "PostgreSQL (set QB_POSTGRES_DSN)")
	return pgAdmin.db
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// database is one test's own empty database: a MySQL or PostgreSQL database qb_<random> dropped when the
// test ends, or an SQLite file in t.TempDir().
type database struct {
	driver driverKind
	// dsn is what Open takes.
	dsn string
	// raw is a plain connection for seeding and inspecting, next to the store's.
	raw *dbsql.DB
	// pdoDSN, pdoUser and pdoPass are how PHP's PDO connects to it.
	pdoDSN, pdoUser, pdoPass string
	// name is the MySQL database or the SQLite file path.
	name string
}

func newDatabase(t testing.TB, d driverKind) *database {
	t.Helper()
	ctx := context.Background()
	switch d {
	case driverMySQL:
		server := mysqlServer(t)
		admin := server.Clone()
		admin.DBName = ""
		adminDB := openMySQL(t, admin)
		name := "qb_" + randomHex(t, 6)
		_, err := adminDB.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		require.NoError(t, err, "MariaDB at %s (set QB_MYSQL_DSN)", server.Addr)
		t.Cleanup(func() {
			_, err := adminDB.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
			if err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
		})
		own := server.Clone()
		own.DBName = name
		u := url.URL{Scheme: "mysql", Host: own.Addr, Path: "/" + name}
		if own.Passwd != "" {
			u.User = url.UserPassword(own.User, own.Passwd)
		} else {
			u.User = url.User(own.User)
		}
		host, port, err := net.SplitHostPort(own.Addr)
		require.NoError(t, err)
		return &database{driver: d, dsn: u.String(), raw: openMySQL(t, own), name: name,
			pdoDSN:  "mysql:host=" + host + ";port=" + port + ";dbname=" + name + ";charset=utf8mb4",
			pdoUser: own.User, pdoPass: own.Passwd}
	case driverPostgres:
		admin := postgresAdmin(t)
		name := "qb_" + randomHex(t, 6)
		_, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`" ENCODING 'UTF8' TEMPLATE template0`)
		require.NoError(t, err)
		t.Cleanup(func() {
			_, err := admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
			if err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
		})
		u := *postgresServer(t)
		u.Path = "/" + name
		cfg, err := parseDSN(u.String())
		require.NoError(t, err)
		raw, err := connectPostgres(cfg, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = raw.Close() })
		require.NoError(t, raw.PingContext(ctx))
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		pass, _ := u.User.Password()
		return &database{driver: d, dsn: u.String(), raw: raw, name: name,
			pdoDSN:  "pgsql:host=" + u.Hostname() + ";port=" + port + ";dbname=" + name,
			pdoUser: u.User.Username(), pdoPass: pass}
	case driverSQLite:
		path := filepath.Join(t.TempDir(), "app.db")
		raw, err := dbsql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
		require.NoError(t, err)
		t.Cleanup(func() { _ = raw.Close() })
		return &database{driver: d, dsn: "sqlite:" + path, raw: raw, name: path, pdoDSN: "sqlite:" + path}
	}
	t.Fatalf("unknown driver %q", d)
	return nil
}

func openMySQL(t testing.TB, cfg *mysql.Config) *dbsql.DB {
	t.Helper()
	cfg = cfg.Clone()
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	connector, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	db := dbsql.OpenDB(connector)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.PingContext(context.Background()), "MariaDB at %s (set QB_MYSQL_DSN)", cfg.Addr)
	return db
}

// openDB opens the package's DB on a test database (creating an SQLite file), closed when the test
// ends. dsnParams are appended to the DSN's query.
func openDB(t testing.TB, db *database, dsnParams ...string) *DB {
	t.Helper()
	dsn := db.dsn
	if len(dsnParams) > 0 {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&" // postgres://…?sslmode=disable
		}
		dsn += sep + strings.Join(dsnParams, "&")
	}
	d, err := Open(context.Background(), dsn, &Options{Create: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// testBundle is one test's database with a store on it.
type testBundle struct {
	*database
	db     *DB
	store  *FailedStore
	schema *failedLayout
	table  string
}

// setup opens a store of schema on a fresh database; migrate creates its table first. table "" is
// failed_jobs. dsnParams are appended to the DSN's query.
func setup(t testing.TB, d driverKind, schema *failedLayout, table string, migrate bool, dsnParams ...string) *testBundle {
	t.Helper()
	db := newDatabase(t, d)
	sdb := openDB(t, db, dsnParams...)
	store, err := sdb.Failed(schema.Failed, table)
	require.NoError(t, err)
	if table == "" {
		table = DefaultFailedTable
	}
	tb := &testBundle{database: db, db: sdb, store: store, schema: schema, table: table}
	if migrate {
		_, err := tb.migrate(false)
		require.NoError(t, err)
	}
	return tb
}

// migrate is MigrateFailed of the bundle's table.
func (tb *testBundle) migrate(dryRun bool) (Migration, error) {
	return tb.db.MigrateFailed(context.Background(), tb.schema.Failed, tb.table, dryRun)
}

// rawTableExists asks the database, on the test's own connection, whether table exists.
func rawTableExists(t testing.TB, d *database, table string) bool {
	t.Helper()
	drv := driverFor(d.driver)
	var n int
	require.NoError(t, d.raw.QueryRowContext(context.Background(), drv.bind(drv.tableExists), table).Scan(&n))
	return n > 0
}

// rawRows reads every row of the table as PHP's PDO would see column values: text, nil for NULL, in id
// order, keyed by column name.
func (tb *testBundle) rawRows(t testing.TB) []map[string]*string {
	t.Helper()
	q := "SELECT * FROM " + quoteIdent(tb.driver, tb.table) + " ORDER BY id"
	if tb.driver == driverSQLite || tb.driver == driverPostgres {
		// CAST keeps the driver from turning a datetime column into a time.Time.
		col := "failed_at"
		if tb.schema == failedThinkQueue {
			col = "fail_time"
		}
		q = "SELECT *, CAST(" + col + " AS TEXT) AS _time_text FROM " + quoteIdent(tb.driver, tb.table) + " ORDER BY id"
	}
	rows, err := tb.raw.QueryContext(context.Background(), q)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]*string
	for rows.Next() {
		vals := make([]dbsql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := map[string]*string{}
		for i, c := range cols {
			if vals[i] != nil {
				s := string(vals[i])
				row[c] = &s
			} else {
				row[c] = nil
			}
		}
		if text, ok := row["_time_text"]; ok {
			delete(row, "_time_text")
			col := "failed_at"
			if tb.schema == failedThinkQueue {
				col = "fail_time"
			}
			row[col] = text
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

func quoteIdent(d driverKind, name string) string {
	if d == driverMySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

func strp(s string) *string { return &s }

// readJSON decodes a fixture file.
func readJSON(t testing.TB, rel string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureRoot, rel))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

// readFixture returns a fixture file's bytes.
func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureRoot, rel))
	require.NoError(t, err)
	return data
}

// fixtureRow is a failed_jobs row as a fixture records it (all values as PHP's PDO returned them).
type fixtureRow struct {
	ID         json.Number `json:"id"`
	UUID       string      `json:"uuid"`
	Connection string      `json:"connection"`
	Queue      string      `json:"queue"`
	Payload    string      `json:"payload"`
	Exception  string      `json:"exception"`
	FailedAt   string      `json:"failed_at"`
	FailTime   string      `json:"fail_time"`
}

// laravelFixtureRow is the failed_jobs row Laravel 8.83 wrote when a job popped from Redis failed
// (fixtures/laravel/v8/redis/fail.json), and its fixed clock.
func laravelFixtureRow(t testing.TB) (fixtureRow, time.Time) {
	t.Helper()
	var f struct {
		Meta struct {
			FixedNow int64 `json:"fixed_now"`
		} `json:"meta"`
		Rows []fixtureRow `json:"failed_jobs_rows"`
	}
	readJSON(t, "laravel/v8/redis/fail.json", &f)
	require.Len(t, f.Rows, 1)
	return f.Rows[0], time.Unix(f.Meta.FixedNow, 0)
}

// thinkQueueFixtureRow is the failed_jobs row think-queue 3.0.9 wrote when a job popped from Redis
// failed (fixtures/thinkqueue/v3/redis/fail_throw.json, round 2).
func thinkQueueFixtureRow(t testing.TB) fixtureRow {
	t.Helper()
	var f struct {
		Summary struct {
			PerRound []struct {
				Rows []fixtureRow `json:"failed_jobs_rows"`
			} `json:"per_round"`
		} `json:"summary"`
	}
	readJSON(t, "thinkqueue/v3/redis/fail_throw.json", &f)
	require.Len(t, f.Summary.PerRound, 2)
	require.Len(t, f.Summary.PerRound[1].Rows, 1)
	return f.Summary.PerRound[1].Rows[0]
}

// postgresDefinitions describes a PostgreSQL table as the catalog holds it (PostgreSQL keeps no CREATE
// text): one line per column (name, format_type, NOT NULL, default, identity), then its constraints and
// its indexes' definitions, by name.
func postgresDefinitions(t testing.TB, raw *dbsql.DB, table string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, q := range []string{
		`SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
			|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
			|| COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
			|| CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
		`SELECT 'CONSTRAINT ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = to_regclass(quote_ident($1)) ORDER BY conname`,
		`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname`,
	} {
		rows, err := raw.QueryContext(ctx, q, table)
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	return out
}
