package integration

// Shared helpers of the database-queue cross-tests (db_*_test.go): a private MariaDB database or SQLite file
// per test, the bridge's tables created as `bridge migrate` does (bridge.Migrate), and the Laravel test app on
// the same database (its `database` queue connection, testdata/laravel/bootstrap.php).

import (
	"context"
	"crypto/rand"
	dbsql "database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/queuebridge/bridge"
)

// dbBackend is one test's private database: a MariaDB database qb_<random>, or an SQLite file in t.TempDir().
type dbBackend struct {
	Kind       string // "mysql" or "sqlite"
	Connection string // the bridge's Config.Connection
	DB         *dbsql.DB
	Name       string // mysql: the database; sqlite: the file
	mysql      mysqlDSN
}

// dbKinds are the backends every database cross-test runs on.
var dbKinds = []string{"mysql", "sqlite"}

func newDBBackend(t testing.TB, kind string) *dbBackend {
	t.Helper()
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	switch kind {
	case "mysql":
		d, err := parseMySQLDSN(Local().MySQLDSN())
		require.NoError(t, err)
		name := "qb_" + tag
		root, err := dbsql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", d.User, d.Password, d.Host, d.Port))
		require.NoError(t, err)
		_, err = root.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		require.NoError(t, err, "MariaDB at %s:%s (QB_MYSQL_DSN)", d.Host, d.Port)
		t.Cleanup(func() {
			if _, err := root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
				t.Errorf("cleanup: DROP DATABASE %s: %v", name, err)
			}
			_ = root.Close()
		})
		db, err := dbsql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/%s", d.User, d.Password, d.Host, d.Port, name))
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		userinfo := url.User(d.User)
		if d.Password != "" {
			userinfo = url.UserPassword(d.User, d.Password)
		}
		u := url.URL{Scheme: "mysql", User: userinfo, Host: d.Host + ":" + d.Port, Path: "/" + name}
		dd := d
		dd.DBName = name
		return &dbBackend{Kind: kind, Connection: u.String(), DB: db, Name: name, mysql: dd}
	case "sqlite":
		path := filepath.Join(t.TempDir(), "queue-"+tag+".sqlite")
		db, err := dbsql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return &dbBackend{Kind: kind, Connection: "sqlite:" + path, DB: db, Name: path}
	}
	require.FailNowf(t, "backend", "%q", kind)
	return nil
}

// config is the bridge's view of the backend in dialect.
func (d *dbBackend) config(dialect string, expire time.Duration, w bridge.WorkerConfig) *bridge.Config {
	return &bridge.Config{
		Connection: d.Connection,
		Dialect:    dialect,
		Expire:     expire,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker:     w,
	}
}

// migrate creates the jobs and failed_jobs tables as `bridge migrate` does.
func (d *dbBackend) migrate(t testing.TB, dialect string) {
	t.Helper()
	ctx := context.Background()
	migrations, err := bridge.Migrate(ctx, d.config(dialect, 0, bridge.WorkerConfig{}), false)
	require.NoError(t, err)
	require.NotEmpty(t, migrations)
}

// open returns an in-process bridge on the backend, closed when the test ends.
func (d *dbBackend) open(t testing.TB, dialect string, expire time.Duration, w bridge.WorkerConfig) *bridge.Bridge {
	t.Helper()
	b, err := bridge.Open(context.Background(), d.config(dialect, expire, w))
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// count is SELECT COUNT(*) FROM table [WHERE where].
func (d *dbBackend) count(t testing.TB, table, where string, args ...any) int {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	require.NoError(t, d.DB.QueryRow(q, args...).Scan(&n))
	return n
}

// rows reads a query into maps of column name → value (text columns as strings, NULL as nil).
func (d *dbBackend) rows(t testing.TB, q string, args ...any) []map[string]any {
	t.Helper()
	rs, err := d.DB.Query(q, args...)
	require.NoError(t, err)
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(t, err)
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rs.Scan(ptrs...))
		m := map[string]any{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	require.NoError(t, rs.Err())
	return out
}

// laravelEnv are the Laravel app's variables that put its `database` queue connection (and its failed_jobs
// provider) on this backend.
func (d *dbBackend) laravelEnv() []string {
	switch d.Kind {
	case "mysql":
		return []string{"QUEUE_DB_CONNECTION=mysql", "QUEUE_FAILED_CONNECTION=mysql", "QUEUE_FAILED_TABLE=failed_jobs",
			"DB_HOST=" + d.mysql.Host, "DB_PORT=" + d.mysql.Port, "DB_DATABASE=" + d.mysql.DBName,
			"DB_USERNAME=" + d.mysql.User, "DB_PASSWORD=" + d.mysql.Password}
	default:
		return []string{"QUEUE_DB_CONNECTION=sqlite", "QUEUE_FAILED_CONNECTION=sqlite", "QUEUE_FAILED_TABLE=failed_jobs",
			"DB_SQLITE_PATH=" + d.Name}
	}
}

// newDBLaravelApp makes the Laravel app of a test on backend d, whose tables the bridge made (laravel-8).
func newDBLaravelApp(t testing.TB, d *dbBackend, retryAfter int) *laravelApp {
	t.Helper()
	d.migrate(t, "laravel-8")
	env := append(d.laravelEnv(), fmt.Sprintf("QUEUE_DB_RETRY_AFTER=%d", retryAfter))
	return newLaravelApp(t, laravelOptions{Env: env})
}

// dbDispatched is one line of dispatch.php on the database connection: id is the row id.
type dbDispatched struct {
	Kind        string         `json:"kind"`
	N           int            `json:"n"`
	Class       string         `json:"class"`
	Job         string         `json:"job"`
	UUID        string         `json:"uuid"`
	ID          json.Number    `json:"id"`
	Queue       string         `json:"queue"`
	Delay       int            `json:"delay"`
	PushedAt    int64          `json:"pushed_at"`
	AvailableAt int64          `json:"available_at"`
	Props       map[string]any `json:"props"`
	Data        any            `json:"data"`
}

// dbDispatch runs dispatch.php on the app's database connection.
func dbDispatch(t testing.TB, a *laravelApp, args ...string) []dbDispatched {
	t.Helper()
	out := a.PHP("dispatch.php", append([]string{"--connection=database", "--no-readback"}, args...)...)
	return laravelLines[dbDispatched](t, out)
}

// dbRecord is one record of App\Support\Recorder for a job of the database connection (id: the row id).
type dbRecord struct {
	Runner     string         `json:"runner"`
	Outcome    string         `json:"outcome"`
	Class      string         `json:"class"`
	UUID       string         `json:"uuid"`
	ID         any            `json:"id"`
	Attempts   int            `json:"attempts"`
	Queue      string         `json:"queue"`
	Connection string         `json:"connection"`
	Props      map[string]any `json:"props"`
	Data       any            `json:"data"`
}

func dbRecords(t testing.TB, a *laravelApp, key string) []dbRecord {
	t.Helper()
	v, err := a.Redis().LRange(context.Background(), key, 0, -1).Result()
	require.NoError(t, err)
	out := make([]dbRecord, 0, len(v))
	for _, s := range v {
		var r dbRecord
		require.NoError(t, json.Unmarshal([]byte(s), &r), s)
		out = append(out, r)
	}
	return out
}

// dbIDString prints a row id the way the bridge's job.ID() does.
func dbIDString(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%d", int64(x))
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return strings.TrimSpace(fmt.Sprint(v))
}
