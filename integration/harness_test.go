package integration

// The harness of the cross-tests. A test asks for a backend (newBackend: a private slice of the shared Redis,
// or a jobs table in a MariaDB, PostgreSQL or SQLite database of its own; newLaravelApp: the Laravel test app
// on one), opens bridges on it in-process (Open), runs the command line in-process (CLI) or the testbridge
// binary as a subprocess (StartBridge), waits with waitFor, and records runs and events with a recorder
// (harness_record_test.go). Everything a test makes is removed by t.Cleanup, and TestMain fails the run if a
// goroutine outlives the tests.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	dbsql "database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	_ "modernc.org/sqlite"

	"github.com/queuebridge/bridge"
)

// The dialects the cross-tests use.
const (
	dialectV1      = "thinkqueue-v1"
	dialectV3      = "thinkqueue-v3"
	dialectLaravel = "laravel-8"
)

// thinkQueueDialects are the think-queue lines every think-queue cross-test runs on.
var thinkQueueDialects = []string{dialectV1, dialectV3}

// waitLimit bounds every wait on a condition, a process or a run: generous, so only a hang trips it.
const waitLimit = 60 * time.Second

var binDir string // made by TestMain for the binaries the tests build, removed after the run

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "queuebridge-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir for binaries:", err)
		os.Exit(2)
	}
	binDir = dir
	// Every bridge, client, database handle, subprocess and background run is closed or waited for by the
	// test that made it, so no goroutine of ours may be left once the tests are done. The one exception is the
	// Docker client of the container provider, whose keep-alive connection to the engine outlives it.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"), goleak.Cleanup(func(code int) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			if err := closeContainers(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "integration: remove the shared containers:", err)
			}
			cancel()
			_ = os.RemoveAll(dir)
			os.Exit(code)
		}))
}

// testEnv is the services' provider QB_PROVIDER names (see FromEnv).
func testEnv(t testing.TB) Env {
	t.Helper()
	env, err := FromEnv()
	require.NoError(t, err)
	return env
}

// fixturePath is a file of the golden fixtures (../shared/fixtures, seen from the checkout's integration/;
// QB_FIXTURES overrides the root). Fixtures are required: a missing one fails the test.
func fixturePath(t testing.TB, parts ...string) string {
	t.Helper()
	root := envOr("QB_FIXTURES", filepath.Join("..", "..", "shared", "fixtures"))
	p := filepath.Join(append([]string{root}, parts...)...)
	_, err := os.Stat(p)
	require.NoError(t, err, "golden fixture missing: %s", p)
	return p
}

// testCtx is a context that ends after d or with the test, so a hang fails the test instead of the run.
func testCtx(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds; after waitLimit it fails the test, saying what it waited for. cond
// runs on the test's goroutine, so it may use require.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for "+what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// uniqueName is a name no other test or run uses: the test's name (its first 60 bytes) and a random tag. It
// has no glob characters, so SCAN MATCH may use it as is.
func uniqueName(t testing.TB) string {
	var tag [6]byte
	_, err := rand.Read(tag[:])
	require.NoError(t, err)
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	return "qb." + name + "." + hex.EncodeToString(tag[:])
}

// backend is one test's private queue store, and what a bridge needs to work it.
//
// Kind "redis": keys of the shared Redis database, each containing Name: the queues the test names with
// Queue (Laravel: every key under Prefix), its failed store, its cache prefix and its trace keys (Key).
// Kinds "mysql", "postgres" and "sqlite": a database (a file) of the test's own, holding the bridge's tables
// made by Migrate in Dialect; trace keys still live in Redis.
type backend struct {
	t   testing.TB
	env Env

	Kind       string
	Dialect    string
	Name       string        // unique; every Redis key the test makes contains it
	Connection string        // Config.Connection, --connection
	Expire     time.Duration // Config.Expire, --expire; 0 is the bridge's default
	// Redis-kind names: Config.Prefix (Laravel's connection prefix: Name + ":"; none for think-queue),
	// Config.CachePrefix (the app's cache prefix) and Config.FailedKeyPrefix.
	Prefix, CachePrefix, FailedPrefix string

	Redis *goredis.Client // the tests' Redis database, no prefix: keys as stored
	DB    *dbsql.DB       // database kinds: the test's own database
	mysql mysqlDSN        // kind "mysql": the test's database as the PHP side reaches it
	file  string          // kind "sqlite": the database file

	log *lockedBuffer // the bridges' logs, printed when the test fails
}

// dbKinds are the database backends the database cross-tests run on; laravelDBKinds those the Laravel test
// app has a connection for.
var (
	dbKinds        = []string{"mysql", "postgres", "sqlite"}
	laravelDBKinds = []string{"mysql", "sqlite"}
)

// newBackend makes a backend of kind ("redis", "mysql", "postgres" or "sqlite") for dialect and registers its
// removal.
func newBackend(t testing.TB, kind, dialect string) *backend {
	t.Helper()
	env := testEnv(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: env.RedisAddr(), DB: env.RedisDB()})
	t.Cleanup(func() { _ = rdb.Close() }) // registered first: it runs after the key cleanup below
	require.NoError(t, rdb.Ping(context.Background()).Err(), "Redis at %s (QB_REDIS_ADDR)", env.RedisAddr())

	be := &backend{t: t, env: env, Kind: kind, Dialect: dialect, Name: uniqueName(t), Redis: rdb,
		log: &lockedBuffer{limit: 1 << 20}}
	if strings.HasPrefix(dialect, "laravel-") {
		be.Prefix, be.CachePrefix, be.FailedPrefix = be.Name+":", "laravel_cache", be.Name+":bridge"
	} else {
		be.CachePrefix, be.FailedPrefix = be.Name+".cache:", be.Name+".failed"
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge log:\n%s", be.log.String())
		}
		be.deleteKeys()
	})

	switch kind {
	case "redis":
		be.Connection = fmt.Sprintf("redis://%s/%d", env.RedisAddr(), env.RedisDB())
		return be
	case "mysql":
		be.openMySQL()
	case "postgres":
		be.openPostgres()
	case "sqlite":
		be.file = filepath.Join(t.TempDir(), be.Name+".sqlite")
		be.Connection = "sqlite:" + be.file
		be.DB = openDB(t, "sqlite", be.file+"?_pragma=busy_timeout(10000)")
	default:
		require.FailNowf(t, "backend kind", "%q: want redis, mysql, postgres or sqlite", kind)
	}
	be.migrate()
	return be
}

// deleteKeys deletes every key of the test's Redis database that contains Name (never FLUSHDB: other tests
// share the database).
func (be *backend) deleteKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var keys []string
	iter := be.Redis.Scan(ctx, 0, "*"+be.Name+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		be.t.Errorf("cleanup: SCAN *%s*: %v", be.Name, err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := be.Redis.Del(ctx, keys[:n]...).Err(); err != nil {
			be.t.Errorf("cleanup: DEL %d keys: %v", n, err)
		}
		keys = keys[n:]
	}
}

// tag is the random part of Name: hex digits.
func (be *backend) tag() string { return be.Name[strings.LastIndex(be.Name, ".")+1:] }

// dbName is the name of the test's own MariaDB or PostgreSQL database.
func (be *backend) dbName() string { return "qbi_" + be.tag() }

func (be *backend) openMySQL() {
	t := be.t
	d, err := parseMySQLDSN(be.env.MySQLDSN())
	require.NoError(t, err)
	name := be.dbName()
	root := openDB(t, "mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", d.User, d.Password, d.Host, d.Port))
	_, err = root.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	require.NoError(t, err, "MariaDB at %s:%s (QB_MYSQL_DSN)", d.Host, d.Port)
	t.Cleanup(func() {
		if _, err := root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("cleanup: DROP DATABASE %s: %v", name, err)
		}
	})
	be.DB = openDB(t, "mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/%s", d.User, d.Password, d.Host, d.Port, name))
	userinfo := url.User(d.User)
	if d.Password != "" {
		userinfo = url.UserPassword(d.User, d.Password)
	}
	be.Connection = (&url.URL{Scheme: "mysql", User: userinfo, Host: net.JoinHostPort(d.Host, d.Port), Path: "/" + name}).String()

	side, err := parseMySQLDSN(be.env.PHPSide().MySQLDSN)
	require.NoError(t, err)
	side.DBName = name
	be.mysql = side
}

// postgresURL is the PostgreSQL server's URL with a database the tests may connect to (QB_POSTGRES_URL).
func postgresURL() string { return envOr("QB_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test") }

func (be *backend) openPostgres() {
	t := be.t
	name := be.dbName()
	u, err := url.Parse(postgresURL())
	require.NoError(t, err, "QB_POSTGRES_URL")
	root := openDB(t, "pgx", postgresURL())
	_, err = root.Exec(`CREATE DATABASE "` + name + `"`)
	require.NoError(t, err, "PostgreSQL at %s (QB_POSTGRES_URL)", u.Redacted())
	t.Cleanup(func() {
		if _, err := root.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`); err != nil {
			t.Errorf("cleanup: DROP DATABASE %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	be.Connection = u.String()
	be.DB = openDB(t, "pgx", be.Connection)
}

// openDB opens a database handle, closed when the test ends.
func openDB(t testing.TB, driver, dsn string) *dbsql.DB {
	t.Helper()
	db, err := dbsql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migrate creates the jobs and failed_jobs tables of Dialect as `bridge migrate` does (bridge.Migrate).
func (be *backend) migrate() {
	be.t.Helper()
	migrations, err := bridge.Migrate(context.Background(), be.Config(bridge.WorkerConfig{}), false)
	require.NoError(be.t, err)
	require.NotEmpty(be.t, migrations)
}

// Config is an in-process bridge's view of the backend, working as w says.
func (be *backend) Config(w bridge.WorkerConfig) *bridge.Config {
	w = inProcess(w)
	c := &bridge.Config{
		Connection: be.Connection,
		Dialect:    be.Dialect,
		Expire:     be.Expire,
		Logger:     be.Logger(),
		Worker:     w,
	}
	if be.Kind == "redis" {
		c.Prefix, c.CachePrefix, c.FailedKeyPrefix = be.Prefix, be.CachePrefix, be.FailedPrefix
	}
	return c
}

// inProcess is w for a bridge inside the test process: every bridge and test of the process shares one Go
// heap, so the memory limit, a limit on a process, is off unless the test sets one.
func inProcess(w bridge.WorkerConfig) bridge.WorkerConfig {
	if w.Memory == 0 {
		w.Memory = -1
	}
	return w
}

// Logger writes to the backend's log, which the test prints if it fails.
func (be *backend) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(be.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Open returns an in-process bridge on the backend, working as w says (Run), closed when the test ends.
func (be *backend) Open(w bridge.WorkerConfig) *bridge.Bridge {
	be.t.Helper()
	return be.OpenConfig(be.Config(w))
}

// OpenConfig is Open with a Config the test changed.
func (be *backend) OpenConfig(c *bridge.Config) *bridge.Bridge {
	be.t.Helper()
	b, err := bridge.Open(context.Background(), c)
	require.NoError(be.t, err)
	be.t.Cleanup(func() { _ = b.Close() })
	return b
}

// flags are the command line's connection flags for the backend.
func (be *backend) flags() []string {
	args := []string{"--connection", be.Connection, "--dialect", be.Dialect}
	if be.Kind == "redis" {
		if be.Prefix != "" {
			args = append(args, "--prefix", be.Prefix)
		}
		args = append(args, "--failed-prefix", be.FailedPrefix, "--cache-prefix", be.CachePrefix)
	}
	if be.Expire != 0 {
		args = append(args, "--expire", strconv.FormatFloat(be.Expire.Seconds(), 'f', -1, 64))
	}
	return args
}

// CLI runs the bridge command line in-process (RunCommand) with the backend's connection flags, then args, at
// log level warn; it returns the exit status and what went to stdout and stderr.
func (be *backend) CLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	full := append(append([]string{"bridge"}, be.flags()...), "--log-level", "warn")
	code = bridge.New().RunCommand(ctx, append(full, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Queue names a queue of this test: Name and a label, so no other test shares it.
func (be *backend) Queue(label string) string { return be.Name + "." + label }

// Key names a Redis trace key of this test (a log list, a gate…), deleted when the test ends. With a Laravel
// dialect it is Prefix + what, as the app's Key.
func (be *backend) Key(what string) string { return be.Name + ":" + what }

// queueKeys are a queue's Redis keys as the PHP library names them.
type queueKeys struct {
	List, Delayed, Reserved string
	Notify                  string // Laravel's notify list; "" for think-queue
}

// all are the keys that exist for the dialect.
func (k queueKeys) all() []string {
	keys := []string{k.List, k.Delayed, k.Reserved}
	if k.Notify != "" {
		keys = append(keys, k.Notify)
	}
	return keys
}

// Keys are queue q's keys in the backend's dialect (see keysOf).
func (be *backend) Keys(q string) queueKeys { return keysOf(be.Dialect, be.Prefix, q) }

// keysOf are queue q's keys as the PHP library of dialect names them: queues:q (think-queue 1.x/2.x,
// 3.0.0–3.0.4), {queues:q} (3.0.5+), <prefix>queues:q (Laravel), each with :delayed and :reserved (and
// Laravel's :notify).
func keysOf(dialect, prefix, q string) queueKeys {
	var list string
	switch {
	case strings.HasPrefix(dialect, "laravel-"):
		list = prefix + "queues:" + q
		return queueKeys{List: list, Delayed: list + ":delayed", Reserved: list + ":reserved", Notify: list + ":notify"}
	case dialect == dialectV3:
		list = "{queues:" + q + "}"
	default:
		list = "queues:" + q
	}
	return queueKeys{List: list, Delayed: list + ":delayed", Reserved: list + ":reserved"}
}

// FailedKeys are the bridge's failed store on Redis: "{<prefix>:failed}" and its ":index".
func (be *backend) FailedKeys() []string {
	base := "{" + be.FailedPrefix + ":failed}"
	return []string{base, base + ":index"}
}

// RestartKey is where the restart signal lives: think-queue's cache key think:queue:restart, Laravel 8's
// <prefix><cache prefix>:illuminate:queue:restart.
func (be *backend) RestartKey() string {
	if strings.HasPrefix(be.Dialect, "laravel-") {
		return be.Prefix + be.CachePrefix + ":illuminate:queue:restart"
	}
	return be.CachePrefix + "think:queue:restart"
}

// Push writes a job with the bridge's Push and returns its id and the exact bytes that landed at the end of
// the list (nothing may consume the queue meanwhile).
func (be *backend) Push(b *bridge.Bridge, q, job string, data any) (id, raw string) {
	be.t.Helper()
	ctx := context.Background()
	id, err := b.Push(ctx, q, job, data)
	require.NoError(be.t, err)
	raw, err = be.Redis.LIndex(ctx, be.Keys(q).List, -1).Result()
	require.NoError(be.t, err)
	require.Contains(be.t, raw, `"id":"`+id+`"`)
	return id, raw
}

// LRange is the items of a Redis list.
func (be *backend) LRange(key string) []string {
	be.t.Helper()
	v, err := be.Redis.LRange(context.Background(), key, 0, -1).Result()
	require.NoError(be.t, err)
	return v
}

// LLen is the length of a Redis list.
func (be *backend) LLen(key string) int64 {
	be.t.Helper()
	n, err := be.Redis.LLen(context.Background(), key).Result()
	require.NoError(be.t, err)
	return n
}

// ZRange is the members of a sorted set with their scores, lowest first.
func (be *backend) ZRange(key string) []goredis.Z {
	be.t.Helper()
	v, err := be.Redis.ZRangeWithScores(context.Background(), key, 0, -1).Result()
	require.NoError(be.t, err)
	return v
}

// Exists reports whether key exists (an empty list or sorted set has no key in Redis).
func (be *backend) Exists(key string) bool {
	be.t.Helper()
	n, err := be.Redis.Exists(context.Background(), key).Result()
	require.NoError(be.t, err)
	return n > 0
}

// QueueEmpty reports whether none of queue q's keys exists (RequireQueueEmpty as a condition to poll).
func (be *backend) QueueEmpty(q string) bool {
	be.t.Helper()
	n, err := be.Redis.Exists(context.Background(), be.Keys(q).all()...).Result()
	require.NoError(be.t, err)
	return n == 0
}

// RequireQueueEmpty fails unless none of queue q's keys is left.
func (be *backend) RequireQueueEmpty(q string) {
	be.t.Helper()
	be.RequireGone(be.Keys(q).all()...)
}

// RequireGone fails unless none of keys exists, showing what each one left holds.
func (be *backend) RequireGone(keys ...string) {
	be.t.Helper()
	ctx := context.Background()
	left := false
	for _, k := range keys {
		if !be.Exists(k) {
			continue
		}
		left = true
		typ, _ := be.Redis.Type(ctx, k).Result()
		var content any
		switch typ {
		case "list":
			content, _ = be.Redis.LRange(ctx, k, 0, 20).Result()
		case "zset":
			content, _ = be.Redis.ZRangeWithScores(ctx, k, 0, 20).Result()
		case "hash":
			content, _ = be.Redis.HGetAll(ctx, k).Result()
		}
		be.t.Errorf("key %s (%s) should be gone, holds %v", k, typ, content)
	}
	if left {
		be.t.FailNow()
	}
}

// rebind writes a query's ? placeholders as the backend's driver wants them ($1, $2… for PostgreSQL).
func (be *backend) rebind(q string) string {
	if be.Kind != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Exec runs a statement (? placeholders) on a database backend.
func (be *backend) Exec(q string, args ...any) {
	be.t.Helper()
	_, err := be.DB.Exec(be.rebind(q), args...)
	require.NoError(be.t, err, q)
}

// Count is SELECT COUNT(*) FROM table [WHERE where] on a database backend.
func (be *backend) Count(table, where string, args ...any) int {
	be.t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	require.NoError(be.t, be.DB.QueryRow(be.rebind(q), args...).Scan(&n))
	return n
}

// Rows reads a query on a database backend into maps of column name → value (text as strings, NULL as nil).
func (be *backend) Rows(q string, args ...any) []map[string]any {
	be.t.Helper()
	rs, err := be.DB.Query(be.rebind(q), args...)
	require.NoError(be.t, err)
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(be.t, err)
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(be.t, rs.Scan(ptrs...))
		m := map[string]any{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	require.NoError(be.t, rs.Err())
	return out
}

// running is an in-process bridge's Run on a goroutine of its own.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// runBackground runs b.Run until stop, or until it returns by itself (StopWhenEmpty, a restart signal). If
// the test ends first, the run is cancelled and waited for.
func runBackground(t testing.TB, b *bridge.Bridge) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = b.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop asks the bridge to stop and returns Run's error once it has (every acknowledgement has landed then).
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

// wait waits for Run to return and returns its error.
func (r *running) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(waitLimit):
		require.FailNow(t, "the bridge did not stop")
	}
	return r.err
}

var binaries sync.Map // package path → func() (string, error), built once per test process

// binary builds the Go main package pkg (a path relative to integration/) once per test process and
// returns the binary's path.
func binary(t testing.TB, pkg string) string {
	t.Helper()
	build, _ := binaries.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, filepath.Base(pkg))
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
		return bin, nil
	}))
	bin, err := build.(func() (string, error))()
	require.NoError(t, err)
	return bin
}

// testbridge is the testbridge binary (testdata/testbridge): the bridge's command line with test handlers.
func testbridge(t testing.TB) string { return binary(t, "./testdata/testbridge") }

// bridgeProc is a running testbridge subprocess.
type bridgeProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	out  *lockedBuffer // stdout and stderr, interleaved
	done chan struct{}
}

// StartBridge runs `testbridge <connection flags> <global...> work --queue <q> <work...>`; its handlers write
// their traces to the tests' Redis. If the test ends first, the process is killed.
func (be *backend) StartBridge(q string, global []string, work ...string) *bridgeProc {
	t := be.t
	t.Helper()
	args := append(be.flags(), global...)
	args = append(append(args, "work", "--queue", q), work...)
	cmd := exec.Command(testbridge(t), args...)
	cmd.Env = append(os.Environ(),
		"TESTBRIDGE_REDIS_ADDR="+be.env.RedisAddr(),
		"TESTBRIDGE_REDIS_DB="+strconv.Itoa(be.env.RedisDB()))
	p := &bridgeProc{t: t, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill() // only this test's own child, by its pid
			<-p.done
		}
		if t.Failed() {
			t.Logf("testbridge %v output:\n%s", redacted(args), p.out.String())
		}
	})
	return p
}

// redacted is args with the password of any URL among them masked, for logs.
func redacted(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if u, err := url.Parse(a); err == nil && u.User != nil {
			out[i] = u.Redacted()
		}
	}
	return out
}

func (p *bridgeProc) signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

// wait waits for the process to end (a hang fails the test) and returns its exit status.
func (p *bridgeProc) wait() *os.ProcessState {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		require.FailNowf(p.t, "testbridge did not exit", "output:\n%s", p.out.String())
	}
	return p.cmd.ProcessState
}

// waitOutput waits until the process has printed every one of parts on one line.
func (p *bridgeProc) waitOutput(parts ...string) {
	p.t.Helper()
	waitFor(p.t, "testbridge output "+strings.Join(parts, " "), func() bool {
		for line := range strings.SplitSeq(p.out.String(), "\n") {
			all := true
			for _, s := range parts {
				all = all && strings.Contains(line, s)
			}
			if all {
				return true
			}
		}
		return false
	})
}

// lockedBuffer is a bytes.Buffer safe for a writer's goroutines and the test's reads. With a limit it keeps
// at most the newest limit bytes or so (logs); without, everything (a process's output, which tests search).
type lockedBuffer struct {
	limit int
	mu    sync.Mutex
	b     bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit > 0 && l.b.Len() > l.limit {
		l.b.Reset()
		l.b.WriteString("…(older lines dropped)\n")
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// jsonLines decodes JSON lines (blank lines skipped).
func jsonLines[T any](t testing.TB, out []byte) []T {
	t.Helper()
	var res []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var v T
		require.NoError(t, json.Unmarshal(line, &v), "JSON line: %s", line)
		res = append(res, v)
	}
	require.NoError(t, sc.Err())
	return res
}

// tail is the end of a long output, for failure messages.
func tail(out []byte) string {
	const max = 4000
	if len(out) > max {
		return "…" + string(out[len(out)-max:])
	}
	return string(out)
}

// phpRedisAddr is the tests' Redis as PHP scripts reach it: host, port and database.
func (be *backend) phpRedisAddr() (host, port, db string) {
	be.t.Helper()
	host, port, err := net.SplitHostPort(be.env.PHPSide().RedisAddr)
	require.NoError(be.t, err, "PHP-side Redis address")
	return host, port, strconv.Itoa(be.env.RedisDB())
}
