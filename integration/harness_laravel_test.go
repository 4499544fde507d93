package integration

// The harness's Laravel backend: the real-Laravel-8 test app in testdata/laravel (see its README.md), run
// through Env.PHPEnv on a backend of the test's own. Its Redis keys are the backend's (REDIS_PREFIX is
// Prefix, so every key Laravel writes starts with it); its sqlite file and failed-jobs table are its own too.

import (
	"cmp"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// laravelCallLimit bounds one PHP script run: only a hang reaches it.
const laravelCallLimit = 10 * time.Minute

// laravelOptions configures a laravelApp; the zero value is the Laravel 8 skeleton's defaults on Redis.
type laravelOptions struct {
	Queue      string // the connection's default queue (REDIS_QUEUE); "default"
	RetryAfter int    // retry_after of the queue connections, the bridge's Expire; 90
	BlockFor   *int   // queue.connections.redis.block_for; nil (no BLPOP)
	// Jobs puts the app's `database` queue connection, and its failed jobs, on a jobs table in a database
	// of the test's own: "mysql" or "sqlite", the backend's kind, whose tables the bridge made (Migrate).
	// "" is a Redis backend.
	Jobs string
	// FailedDB is a Redis app's failed-jobs database: "sqlite" (default), "mysql" (a table of the test's own
	// in Env.PHPSide().MySQLDSN's database) or "none".
	FailedDB string
	Env      []string // more KEY=VALUE for the PHP side (see testdata/laravel/bootstrap.php)
}

// laravelApp is one test's Laravel app, on its backend (dialect laravel-8).
type laravelApp struct {
	*backend

	Queue       string // the default queue
	Records     string // raw key of the records list the test's jobs write to (--log, --record)
	FailedTable string
	vars        []string
}

// newLaravelApp makes a fresh app for t and registers its cleanup. The Env comes from FromEnv (QB_PROVIDER).
func newLaravelApp(t testing.TB, o laravelOptions) *laravelApp {
	t.Helper()
	be := newBackend(t, cmp.Or(o.Jobs, "redis"), dialectLaravel)
	retryAfter := cmp.Or(o.RetryAfter, 90)
	be.Expire = time.Duration(retryAfter) * time.Second
	a := &laravelApp{backend: be, Queue: cmp.Or(o.Queue, "default"), Records: be.Key("records"),
		FailedTable: "failed_jobs"}

	side := be.env.PHPSide()
	host, port, ok := strings.Cut(side.RedisAddr, ":")
	require.True(t, ok, "PHP-side Redis address %q", side.RedisAddr)
	sqlite := side.TempDir + "/" + be.Name + ".sqlite"
	if be.Kind == "sqlite" {
		sqlite = be.file
	}
	a.vars = []string{
		"REDIS_HOST=" + host,
		"REDIS_PORT=" + port,
		"REDIS_DB=" + strconv.Itoa(be.env.RedisDB()),
		"REDIS_CACHE_DB=" + strconv.Itoa(be.env.RedisDB()),
		"REDIS_PREFIX=" + be.Prefix,
		"REDIS_QUEUE=" + a.Queue,
		"CACHE_PREFIX=" + be.CachePrefix,
		"QUEUE_RETRY_AFTER=" + strconv.Itoa(retryAfter),
		"DB_SQLITE_PATH=" + sqlite,
		"QB_QUIET_REPORTS=1",
	}
	if o.BlockFor != nil {
		a.vars = append(a.vars, "QUEUE_BLOCK_FOR="+strconv.Itoa(*o.BlockFor))
	}
	mysqlVars := func(d mysqlDSN) []string {
		return []string{"DB_HOST=" + d.Host, "DB_PORT=" + d.Port, "DB_DATABASE=" + d.DBName,
			"DB_USERNAME=" + d.User, "DB_PASSWORD=" + d.Password}
	}
	switch {
	case be.Kind == "mysql":
		a.vars = append(a.vars, "QUEUE_DB_CONNECTION=mysql", "QUEUE_FAILED_CONNECTION=mysql")
		a.vars = append(a.vars, mysqlVars(be.mysql)...)
	case be.Kind == "sqlite":
		a.vars = append(a.vars, "QUEUE_DB_CONNECTION=sqlite", "QUEUE_FAILED_CONNECTION=sqlite")
	case be.Kind != "redis":
		require.FailNowf(t, "laravelOptions.Jobs", "%q: want mysql or sqlite", o.Jobs)
	case o.FailedDB == "" || o.FailedDB == "sqlite":
		a.vars = append(a.vars, "QUEUE_FAILED_CONNECTION=sqlite")
	case o.FailedDB == "none":
		a.vars = append(a.vars, "QUEUE_FAILED_CONNECTION=none")
	case o.FailedDB == "mysql":
		d, err := parseMySQLDSN(side.MySQLDSN)
		require.NoError(t, err)
		a.FailedTable = "qb_failed_" + be.tag()
		a.vars = append(a.vars, "QUEUE_FAILED_CONNECTION=mysql")
		a.vars = append(a.vars, mysqlVars(d)...)
	default:
		require.FailNowf(t, "laravelOptions.FailedDB", "%q: want sqlite, mysql or none", o.FailedDB)
	}
	if be.Kind != "redis" {
		a.vars = append(a.vars, "QUEUE_DB_RETRY_AFTER="+strconv.Itoa(retryAfter))
	}
	a.vars = append(a.vars, "QUEUE_FAILED_TABLE="+a.FailedTable)
	a.vars = append(a.vars, o.Env...)

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := a.run(ctx, "db.php", "drop"); err != nil {
			t.Errorf("cleanup: db.php drop: %v\n%s", err, out)
		}
	})
	out, err := a.run(context.Background(), "db.php", "setup")
	require.NoError(t, err, "db.php setup: %s", out)
	return a
}

// Vars are the environment variables the app's PHP scripts get (for running them some other way).
func (a *laravelApp) Vars() []string { return append([]string(nil), a.vars...) }

// ExceptionsKey is where the app's cache counts a job's exceptions for maxExceptions (8.x:
// <prefix><cache prefix>:job-exceptions:<uuid>).
func (a *laravelApp) ExceptionsKey(uuid string) string {
	return a.Prefix + a.CachePrefix + ":job-exceptions:" + uuid
}

// Script is the path of a script of the app as the PHP side sees it.
func (a *laravelApp) Script(name string) string { return a.env.LaravelDir() + "/" + name }

func (a *laravelApp) run(ctx context.Context, script string, args ...string) ([]byte, error) {
	return a.env.PHPEnv(ctx, a.vars, a.Script(script), args...)
}

// PHP runs script of the app with args (no time limit but laravelCallLimit) and requires success.
func (a *laravelApp) PHP(script string, args ...string) []byte {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), laravelCallLimit)
	defer cancel()
	out, err := a.run(ctx, script, args...)
	require.NoError(a.t, err, "php %s %v\nstdout:\n%s", script, args, tail(out))
	return out
}

// laravelJob is one line of dispatch.php: a job pushed by the real framework.
type laravelJob struct {
	Kind        string         `json:"kind"` // "object" or "string"
	N           int            `json:"n"`
	Class       string         `json:"class"` // commandName, or the class part of a string job
	Job         string         `json:"job"`   // payload "job"
	UUID        string         `json:"uuid"`
	ID          string         `json:"id"` // the Redis driver's payload id, or the database driver's row id
	Queue       string         `json:"queue"`
	Key         string         `json:"key"` // list or delayed zset it went to (Redis)
	Delay       int            `json:"delay"`
	PushedAt    int64          `json:"pushed_at"`
	AvailableAt int64          `json:"available_at"`
	Props       map[string]any `json:"props"` // object jobs: the job's own properties
	Data        any            `json:"data"`  // string jobs: data as in the payload
	Raw         string         `json:"raw"`   // with --raw: the stored bytes
}

// UnmarshalJSON reads a dispatch.php line; its id is a string (Redis) or a number (a row id).
func (j *laravelJob) UnmarshalJSON(b []byte) error {
	type plain laravelJob
	aux := struct {
		*plain
		ID json.RawMessage `json:"id"`
	}{plain: (*plain)(j)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	id, err := idString(aux.ID)
	j.ID = id
	return err
}

// Dispatch runs dispatch.php with args (see its usage; e.g. "--objects=10", "--strings=10", "--log="+a.Records;
// "--connection=database" for the jobs table).
func (a *laravelApp) Dispatch(args ...string) []laravelJob {
	a.t.Helper()
	return jsonLines[laravelJob](a.t, a.PHP("dispatch.php", args...))
}

// laravelWork is the outcome of one work.php run.
type laravelWork struct {
	Events eventLog // every line but the exit line
	Exit   event    // {"event":"exit","status","counts"}
}

// Of returns the events named name.
func (w laravelWork) Of(name string) eventLog { return w.Events.Of(name) }

// Work runs Laravel's queue:work through work.php until it stops by itself (pass --drain, --stop-when-empty or
// --max-jobs) and requires exit status 0.
func (a *laravelApp) Work(args ...string) laravelWork {
	a.t.Helper()
	w := parseWork(a.t, a.PHP("work.php", args...))
	require.NotNil(a.t, w.Exit.Status, "work.php printed no exit line")
	require.Equal(a.t, 0, *w.Exit.Status, "queue:work exit status")
	return w
}

// TryWork is Work for runs that may end otherwise (a job timeout kills queue:work: SIGKILL, status 137): it
// returns what was printed and the script's error, requiring nothing.
func (a *laravelApp) TryWork(args ...string) (laravelWork, error) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), laravelCallLimit)
	defer cancel()
	out, err := a.run(ctx, "work.php", args...)
	return parseWork(a.t, out), err
}

// laravelWorker is a work.php running in the background.
type laravelWorker struct {
	done chan struct{}
	out  []byte
	err  error
}

// StartWork starts work.php in the background (e.g. beside the bridge); Wait collects it. If the test ends
// first, the worker is killed (local provider; in a container it is only abandoned, see env_container.go).
func (a *laravelApp) StartWork(args ...string) *laravelWorker {
	w := &laravelWorker{done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), laravelCallLimit)
	go func() {
		defer close(w.done)
		w.out, w.err = a.run(ctx, "work.php", args...)
	}()
	a.t.Cleanup(func() {
		cancel()
		<-w.done
	})
	return w
}

// Wait waits for the worker to stop by itself and returns its events; exit status 0 is required.
func (w *laravelWorker) Wait(t testing.TB) laravelWork {
	t.Helper()
	<-w.done
	require.NoError(t, w.err, "work.php\nstdout:\n%s", tail(w.out))
	res := parseWork(t, w.out)
	require.NotNil(t, res.Exit.Status, "work.php printed no exit line")
	require.Equal(t, 0, *res.Exit.Status, "queue:work exit status")
	return res
}

// parseWork reads work.php's output.
func parseWork(t testing.TB, out []byte) laravelWork {
	t.Helper()
	var w laravelWork
	for _, e := range jsonLines[event](t, out) {
		if e.Event == "exit" {
			w.Exit = e
			continue
		}
		w.Events = append(w.Events, e)
	}
	return w
}

// laravelBench is bench.php's result.
type laravelBench struct {
	Jobs        int     `json:"jobs"`
	Processed   int     `json:"processed"`
	Failed      int     `json:"failed"`
	PushSeconds float64 `json:"push_seconds"`
	Seconds     float64 `json:"seconds"` // first JobProcessing to last job done
	WallSeconds float64 `json:"wall_seconds"`
	JobsPerSec  float64 `json:"jobs_per_sec"`
	Status      int     `json:"status"`
}

// Bench runs bench.php --count=n with args (e.g. --queue=Q, --no-push).
func (a *laravelApp) Bench(n int, args ...string) laravelBench {
	a.t.Helper()
	lines := jsonLines[laravelBench](a.t, a.PHP("bench.php", append([]string{"--count=" + strconv.Itoa(n)}, args...)...))
	require.Len(a.t, lines, 1)
	return lines[0]
}

// laravelFailedJob is a failed-jobs row as stored.
type laravelFailedJob struct {
	ID         int64  `json:"id"`
	UUID       string `json:"uuid"`
	Connection string `json:"connection"`
	Queue      string `json:"queue"`
	Payload    string `json:"payload"`
	Exception  string `json:"exception"`
	FailedAt   string `json:"failed_at"`
}

// FailedJobs returns the failed-jobs table, oldest first.
func (a *laravelApp) FailedJobs() []laravelFailedJob {
	a.t.Helper()
	return jsonLines[laravelFailedJob](a.t, a.PHP("db.php", "failed"))
}

// Artisan runs a real queue:* command (queue:restart, queue:retry all, …) and returns its text output.
func (a *laravelApp) Artisan(args ...string) string {
	a.t.Helper()
	return string(a.PHP("artisan.php", args...))
}
