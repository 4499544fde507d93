package integration

// The Laravel harness: Go helpers around the real-Laravel-8 test app in testdata/laravel (see its README.md),
// run through Env.PHPEnv, plus smoke tests proving the harness is the real framework.
//
// A laravelApp is one test's private Laravel installation: its own Redis key prefix (Laravel's connection
// prefix, REDIS_PREFIX, so every key Laravel writes starts with it), its own sqlite file and, with
// FailedDB "mysql", its own failed-jobs table. Everything is deleted when the test ends.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// laravelCallLimit bounds one PHP script run: only a hang reaches it.
const laravelCallLimit = 10 * time.Minute

// laravelOptions configures a laravelApp; the zero value is the Laravel 8 skeleton's defaults.
type laravelOptions struct {
	Queue      string   // the connection's default queue (REDIS_QUEUE); "default"
	RetryAfter int      // queue.connections.redis.retry_after; 90
	BlockFor   *int     // queue.connections.redis.block_for; nil (no BLPOP)
	FailedDB   string   // failed-jobs database: "sqlite" (default), "mysql" (Env.PHPSide().MySQLDSN) or "none"
	Env        []string // more KEY=VALUE for the PHP side (see testdata/laravel/bootstrap.php)
}

// laravelApp is one test's Laravel app.
type laravelApp struct {
	t   testing.TB
	env Env
	rdb *goredis.Client

	Prefix      string // REDIS_PREFIX: every Laravel key starts with it
	CachePrefix string // cache.prefix ("laravel_cache"; the 8.x RedisStore adds ":")
	Queue       string // the default queue
	Records     string // raw key of the records list the test's jobs write to (--log, --record)
	FailedTable string
	vars        []string
}

var laravelUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// newLaravelApp makes a fresh app for t and registers its cleanup. The Env comes from FromEnv (QB_PROVIDER).
func newLaravelApp(t testing.TB, o laravelOptions) *laravelApp {
	t.Helper()
	env, err := FromEnv()
	require.NoError(t, err)
	rdb := goredis.NewClient(&goredis.Options{Addr: env.RedisAddr(), DB: env.RedisDB()})
	require.NoError(t, rdb.Ping(context.Background()).Err(), "Redis at %s", env.RedisAddr())

	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	name := laravelUnsafe.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	a := &laravelApp{
		t:           t,
		env:         env,
		rdb:         rdb,
		Prefix:      "qbl." + name + "." + tag + ":",
		CachePrefix: "laravel_cache",
		Queue:       o.Queue,
		FailedTable: "failed_jobs",
	}
	if a.Queue == "" {
		a.Queue = "default"
	}
	a.Records = a.Prefix + "records"
	retryAfter := o.RetryAfter
	if retryAfter == 0 {
		retryAfter = 90
	}

	side := env.PHPSide()
	host, port, ok := strings.Cut(side.RedisAddr, ":")
	require.True(t, ok, "PHP-side Redis address %q", side.RedisAddr)
	a.vars = []string{
		"REDIS_HOST=" + host,
		"REDIS_PORT=" + port,
		"REDIS_DB=" + strconv.Itoa(env.RedisDB()),
		"REDIS_CACHE_DB=" + strconv.Itoa(env.RedisDB()),
		"REDIS_PREFIX=" + a.Prefix,
		"REDIS_QUEUE=" + a.Queue,
		"CACHE_PREFIX=" + a.CachePrefix,
		"QUEUE_RETRY_AFTER=" + strconv.Itoa(retryAfter),
		"DB_SQLITE_PATH=" + side.TempDir + "/qbl-" + tag + ".sqlite",
		"QB_QUIET_REPORTS=1",
	}
	if o.BlockFor != nil {
		a.vars = append(a.vars, "QUEUE_BLOCK_FOR="+strconv.Itoa(*o.BlockFor))
	}
	switch o.FailedDB {
	case "", "sqlite":
		a.vars = append(a.vars, "QUEUE_FAILED_CONNECTION=sqlite")
	case "none":
		a.vars = append(a.vars, "QUEUE_FAILED_CONNECTION=none")
	case "mysql":
		d, err := parseMySQLDSN(side.MySQLDSN)
		require.NoError(t, err)
		a.FailedTable = "qb_failed_" + tag
		a.vars = append(a.vars, "QUEUE_FAILED_CONNECTION=mysql", "DB_HOST="+d.Host, "DB_PORT="+d.Port,
			"DB_DATABASE="+d.DBName, "DB_USERNAME="+d.User, "DB_PASSWORD="+d.Password)
	default:
		require.FailNowf(t, "laravelOptions.FailedDB", "%q: want sqlite, mysql or none", o.FailedDB)
	}
	a.vars = append(a.vars, "QUEUE_FAILED_TABLE="+a.FailedTable)
	a.vars = append(a.vars, o.Env...)

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := a.run(ctx, "db.php", "drop"); err != nil {
			t.Errorf("cleanup: db.php drop: %v\n%s", err, out)
		}
		// Every key of this app starts with Prefix (no glob characters in it).
		var keys []string
		iter := rdb.Scan(ctx, 0, a.Prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup: SCAN %s*: %v", a.Prefix, err)
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := rdb.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("cleanup: DEL: %v", err)
			}
			keys = keys[n:]
		}
		_ = rdb.Close()
	})

	out, err := a.run(context.Background(), "db.php", "setup")
	require.NoError(t, err, "db.php setup: %s", out)
	return a
}

// Vars are the environment variables the app's PHP scripts get (for running them some other way).
func (a *laravelApp) Vars() []string { return append([]string(nil), a.vars...) }

// Redis is a client on the tests' database (no prefix: keys are as stored).
func (a *laravelApp) Redis() *goredis.Client { return a.rdb }

// Key is Laravel's stored key for name: Prefix + name.
func (a *laravelApp) Key(name string) string { return a.Prefix + name }

// QueueKey is the ready list of queue q; DelayedKey, ReservedKey and NotifyKey its other keys.
func (a *laravelApp) QueueKey(q string) string    { return a.Prefix + "queues:" + q }
func (a *laravelApp) DelayedKey(q string) string  { return a.QueueKey(q) + ":delayed" }
func (a *laravelApp) ReservedKey(q string) string { return a.QueueKey(q) + ":reserved" }
func (a *laravelApp) NotifyKey(q string) string   { return a.QueueKey(q) + ":notify" }

// RestartKey is where queue:restart writes (redis cache store, 8.x: cache prefix + ":").
func (a *laravelApp) RestartKey() string {
	return a.Prefix + a.CachePrefix + ":illuminate:queue:restart"
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
	require.NoError(a.t, err, "php %s %v\nstdout:\n%s", script, args, laravelTail(out))
	return out
}

// laravelJob is one line of dispatch.php: a job pushed by the real framework.
type laravelJob struct {
	Kind        string         `json:"kind"` // "object" or "string"
	N           int            `json:"n"`
	Class       string         `json:"class"` // commandName, or the class part of a string job
	Job         string         `json:"job"`   // payload "job"
	UUID        string         `json:"uuid"`
	ID          string         `json:"id"` // the Redis driver's payload id
	Queue       string         `json:"queue"`
	Key         string         `json:"key"` // list or delayed zset it went to
	Delay       int            `json:"delay"`
	PushedAt    int64          `json:"pushed_at"`
	AvailableAt int64          `json:"available_at"`
	Props       map[string]any `json:"props"` // object jobs: the job's own properties
	Data        any            `json:"data"`  // string jobs: data as in the payload
	Raw         string         `json:"raw"`   // with --raw: the stored bytes
}

// Dispatch runs dispatch.php with args (see its usage; e.g. "--objects=10", "--strings=10", "--log="+a.Records).
func (a *laravelApp) Dispatch(args ...string) []laravelJob {
	a.t.Helper()
	return laravelLines[laravelJob](a.t, a.PHP("dispatch.php", args...))
}

// laravelEvent is one line of work.php.
type laravelEvent struct {
	Event       string         `json:"event"`
	T           float64        `json:"t"`
	PID         int            `json:"pid"`
	Connection  string         `json:"connection"`
	Queue       string         `json:"queue"`
	ID          string         `json:"id"`
	UUID        string         `json:"uuid"`
	Attempts    int            `json:"attempts"`
	Name        string         `json:"name"`
	Class       string         `json:"class"`
	Exception   string         `json:"exception"`
	Message     string         `json:"message"`
	AvailableAt *int64         `json:"available_at"` // JobReleased
	Now         int64          `json:"now"`          // JobReleased
	Status      *int           `json:"status"`       // WorkerStopping, exit
	Counts      map[string]int `json:"counts"`       // exit
}

// laravelWork is the outcome of one work.php run.
type laravelWork struct {
	Events []laravelEvent // every line but the exit line
	Exit   laravelEvent   // {"event":"exit","status","counts"}
}

// Of returns the events named name.
func (w laravelWork) Of(name string) []laravelEvent {
	var out []laravelEvent
	for _, e := range w.Events {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// Work runs Laravel's queue:work through work.php until it stops by itself (pass --drain, --stop-when-empty or
// --max-jobs) and requires exit status 0.
func (a *laravelApp) Work(args ...string) laravelWork {
	a.t.Helper()
	w := laravelParseWork(a.t, a.PHP("work.php", args...))
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
	return laravelParseWork(a.t, out), err
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
	require.NoError(t, w.err, "work.php\nstdout:\n%s", laravelTail(w.out))
	res := laravelParseWork(t, w.out)
	require.NotNil(t, res.Exit.Status, "work.php printed no exit line")
	require.Equal(t, 0, *res.Exit.Status, "queue:work exit status")
	return res
}

func laravelParseWork(t testing.TB, out []byte) laravelWork {
	t.Helper()
	var w laravelWork
	for _, e := range laravelLines[laravelEvent](t, out) {
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
	lines := laravelLines[laravelBench](a.t, a.PHP("bench.php", append([]string{"--count=" + strconv.Itoa(n)}, args...)...))
	require.Len(a.t, lines, 1)
	return lines[0]
}

// laravelRecord is one execution written by a test job (App\Support\Recorder).
type laravelRecord struct {
	Runner     string         `json:"runner"` // "laravel" (the bridge's Go handlers should write their own name)
	PID        int            `json:"pid"`
	T          float64        `json:"t"`
	Class      string         `json:"class"`
	Outcome    string         `json:"outcome"` // ok, throw, release, start, failed
	UUID       string         `json:"uuid"`
	ID         string         `json:"id"`
	Attempts   int            `json:"attempts"`
	Queue      string         `json:"queue"`
	Connection string         `json:"connection"`
	Props      map[string]any `json:"props"`
	Data       any            `json:"data"`
	Exception  string         `json:"exception"`
}

// RecordsIn reads the records list key.
func (a *laravelApp) RecordsIn(key string) []laravelRecord {
	a.t.Helper()
	items, err := a.rdb.LRange(context.Background(), key, 0, -1).Result()
	require.NoError(a.t, err)
	return laravelLines[laravelRecord](a.t, []byte(strings.Join(items, "\n")))
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
	return laravelLines[laravelFailedJob](a.t, a.PHP("db.php", "failed"))
}

// Artisan runs a real queue:* command (queue:restart, queue:retry all, …) and returns its text output.
func (a *laravelApp) Artisan(args ...string) string {
	a.t.Helper()
	return string(a.PHP("artisan.php", args...))
}

// RequireQueueEmpty requires that queue q has no ready, delayed, reserved or notify key left.
func (a *laravelApp) RequireQueueEmpty(q string) {
	a.t.Helper()
	ctx := context.Background()
	for _, k := range []string{a.QueueKey(q), a.DelayedKey(q), a.ReservedKey(q), a.NotifyKey(q)} {
		n, err := a.rdb.Exists(ctx, k).Result()
		require.NoError(a.t, err)
		require.Zero(a.t, n, "key %s left behind", k)
	}
}

// laravelLines decodes JSON lines (blank lines skipped).
func laravelLines[T any](t testing.TB, out []byte) []T {
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

func laravelTail(out []byte) string {
	const max = 4000
	if len(out) > max {
		return "…" + string(out[len(out)-max:])
	}
	return string(out)
}

// laravelPayloadKeys returns the top-level keys of a JSON object in their stored order.
func laravelPayloadKeys(t testing.TB, raw string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "payload is not a JSON object: %s", raw)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// laravelPayload is the part of a Laravel 8 Redis payload the harness checks.
type laravelPayload struct {
	UUID        string          `json:"uuid"`
	DisplayName string          `json:"displayName"`
	Job         string          `json:"job"`
	MaxTries    *int            `json:"maxTries"`
	Data        json.RawMessage `json:"data"`
	ID          string          `json:"id"`
	Attempts    *int            `json:"attempts"`
}

var (
	laravelObjectKeys = []string{"uuid", "displayName", "job", "maxTries", "maxExceptions", "failOnTimeout",
		"backoff", "timeout", "retryUntil", "data", "id", "attempts"}
	laravelStringKeys = []string{"uuid", "displayName", "job", "maxTries", "maxExceptions", "failOnTimeout",
		"backoff", "timeout", "data", "id", "attempts"}
	laravelUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	laravelID   = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
)

// TestLaravelHarnessDispatchAndWork: 10 object + 10 string jobs pushed by the real framework are Laravel 8
// payloads on <prefix>queues:<q>, and Laravel's own worker runs each exactly once with the dispatched data.
func TestLaravelHarnessDispatchAndWork(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	const q = "smoke"
	ctx := context.Background()

	jobs := a.Dispatch("--objects=10", "--strings=10", "--queue="+q, "--log="+a.Records, "--raw")
	require.Len(t, jobs, 20)

	list, err := a.rdb.LRange(ctx, a.QueueKey(q), 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, list, 20)
	notify, err := a.rdb.LRange(ctx, a.NotifyKey(q), 0, -1).Result()
	require.NoError(t, err)
	require.Equal(t, strings.Split(strings.Repeat("1", 20), ""), notify, "one notify token per push")

	byID := map[string]laravelJob{}
	for i, raw := range list {
		j := jobs[i] // FIFO: the list is in dispatch order
		require.Equal(t, raw, j.Raw, "dispatch.php read back the stored bytes")
		require.Equal(t, a.QueueKey(q), j.Key)
		var p laravelPayload
		require.NoError(t, json.Unmarshal([]byte(raw), &p), raw)
		require.Regexp(t, laravelUUID, p.UUID)
		require.Regexp(t, laravelID, p.ID)
		require.Equal(t, j.UUID, p.UUID)
		require.Equal(t, j.ID, p.ID)
		require.NotNil(t, p.Attempts)
		require.Equal(t, 0, *p.Attempts)
		switch j.Kind {
		case "object":
			require.Equal(t, laravelObjectKeys, laravelPayloadKeys(t, raw))
			require.Equal(t, `Illuminate\Queue\CallQueuedHandler@call`, p.Job)
			require.Equal(t, `App\Jobs\Record`, p.DisplayName)
			var data struct {
				CommandName string `json:"commandName"`
				Command     string `json:"command"`
			}
			require.NoError(t, json.Unmarshal(p.Data, &data))
			require.Equal(t, `App\Jobs\Record`, data.CommandName)
			require.True(t, strings.HasPrefix(data.Command, `O:15:"App\Jobs\Record":`), data.Command)
			require.Contains(t, data.Command, "s:9:\"\x00*\x00format\";s:3:\"pdf\";")
			priv, secret := "\x00App\\Jobs\\Record\x00secret", fmt.Sprintf("s3cr3t-%d", j.N)
			require.Contains(t, data.Command, fmt.Sprintf("s:%d:\"%s\";s:%d:\"%s\";", len(priv), priv, len(secret), secret),
				"private property, NUL-marked name")
			require.Contains(t, data.Command, `s:5:"queue";s:5:"smoke";`, "the Bus path sets the queue property")
		case "string":
			require.Equal(t, laravelStringKeys, laravelPayloadKeys(t, raw))
			require.Equal(t, `App\Jobs\Legacy@handle`, p.Job)
			require.Equal(t, `App\Jobs\Legacy`, p.DisplayName)
			var data any
			require.NoError(t, json.Unmarshal(p.Data, &data))
			require.Equal(t, j.Data, data)
		default:
			require.Failf(t, "kind", "%q", j.Kind)
		}
		byID[j.ID] = j
	}
	require.Len(t, byID, 20)

	w := a.Work("--queue="+q, "--drain", "--sleep=0.1")
	require.Len(t, w.Of("JobProcessing"), 20)
	require.Len(t, w.Of("JobProcessed"), 20)
	require.Empty(t, w.Of("JobExceptionOccurred"))
	require.Empty(t, w.Of("JobFailed"))

	recs := a.RecordsIn(a.Records)
	require.Len(t, recs, 20)
	seen := map[string]int{}
	for _, r := range recs {
		j, ok := byID[r.ID]
		require.True(t, ok, "record of an unknown job id %s", r.ID)
		seen[r.ID]++
		require.Equal(t, "laravel", r.Runner)
		require.Equal(t, "ok", r.Outcome)
		require.Equal(t, j.UUID, r.UUID)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, q, r.Queue)
		require.Equal(t, "redis", r.Connection)
		if j.Kind == "object" {
			require.Equal(t, `App\Jobs\Record`, r.Class)
			require.Equal(t, j.Props, r.Props, "job %d ran with the dispatched properties", j.N)
		} else {
			require.Equal(t, `App\Jobs\Legacy`, r.Class)
			require.Equal(t, j.Data, r.Data, "string job %d ran with the dispatched data", j.N)
		}
	}
	for id, n := range seen {
		require.Equal(t, 1, n, "job %s ran %d times", id, n)
	}
	a.RequireQueueEmpty(q)
}

// TestLaravelHarnessFailedJobs: a Fails job run by Laravel's worker ends in the failed-jobs table with Laravel's
// row shape (DatabaseUuidFailedJobProvider), on sqlite and on MySQL.
func TestLaravelHarnessFailedJobs(t *testing.T) {
	t.Parallel()
	for _, db := range []string{"sqlite", "mysql"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			a := newLaravelApp(t, laravelOptions{FailedDB: db})
			const q = "fails"
			jobs := a.Dispatch("--objects=1", "--class=Fails", "--via=queue", "--queue="+q, "--raw")
			require.Len(t, jobs, 1)
			j := jobs[0]

			w := a.Work("--queue="+q, "--drain", "--sleep=0.1", "--record="+a.Records)
			failed := w.Of("JobFailed")
			require.Len(t, failed, 1)
			require.Equal(t, "RuntimeException", failed[0].Exception)
			require.Equal(t, "boom", failed[0].Message)
			// 8.x order when the after-exception check fails the job: JobFailed, then JobExceptionOccurred.
			var order []string
			for _, e := range w.Events {
				order = append(order, e.Event)
			}
			require.Equal(t, []string{"JobProcessing", "JobFailed", "JobExceptionOccurred", "WorkerStopping"}, order)

			rows := a.FailedJobs()
			require.Len(t, rows, 1)
			r := rows[0]
			require.Equal(t, int64(1), r.ID)
			require.Equal(t, j.UUID, r.UUID)
			require.Equal(t, "redis", r.Connection)
			require.Equal(t, q, r.Queue)
			require.Equal(t, j.Raw, r.Payload, "failed on attempt 1: the payload is the pushed bytes")
			require.Regexp(t, `^RuntimeException: boom in \S+Fails\.php:\d+\nStack trace:\n#0 `, r.Exception)
			require.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, r.FailedAt)

			recs := a.RecordsIn(a.Records)
			require.Len(t, recs, 2)
			require.Equal(t, "throw", recs[0].Outcome)
			require.Equal(t, "failed", recs[1].Outcome, "Fails::failed() was called")
			require.Equal(t, "RuntimeException: boom", recs[1].Exception)
			a.RequireQueueEmpty(q)
		})
	}
}

// TestLaravelHarnessMatchesFixtures: the harness's job classes serialize byte for byte like the golden
// fixtures' (shared/fixtures/laravel/v8), i.e. data.command is identical; only uuid, id (random) differ.
func TestLaravelHarnessMatchesFixtures(t *testing.T) {
	t.Parallel()
	root := os.Getenv("QB_LARAVEL_FIXTURES")
	if root == "" {
		root = filepath.Join("..", "..", "shared", "fixtures", "laravel", "v8")
	}
	a := newLaravelApp(t, laravelOptions{})
	for class, fixture := range map[string]string{
		"ObjectProps": "payloads/object_props.json",
		"WithOptions": "payloads/queueable_options.json",
		"IntBackoff":  "payloads/int_backoff_retry_until_prop.json",
		"WithModel":   "payloads/model.json",
	} {
		want, err := os.ReadFile(filepath.Join(root, fixture))
		require.NoError(t, err, "golden fixture")
		jobs := a.Dispatch("--objects=1", "--class="+class, "--via=queue", "--queue=fx", "--raw")
		require.Len(t, jobs, 1)
		var got, exp struct {
			Data struct {
				Command string `json:"command"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(jobs[0].Raw), &got))
		require.NoError(t, json.Unmarshal(want, &exp))
		require.Equal(t, exp.Data.Command, got.Data.Command, "%s data.command", class)
		require.Equal(t, laravelPayloadKeys(t, string(want)), laravelPayloadKeys(t, jobs[0].Raw), "%s keys", class)
	}
}

// TestLaravelHarnessBench: bench.php drains what it pushed with Laravel's worker and reports a pace.
func TestLaravelHarnessBench(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	b := a.Bench(200, "--queue=bench")
	require.Equal(t, 200, b.Jobs)
	require.Equal(t, 200, b.Processed)
	require.Zero(t, b.Failed)
	require.Zero(t, b.Status)
	require.Positive(t, b.JobsPerSec)
	a.RequireQueueEmpty("bench")
}

// TestLaravelHarnessRestart: the real queue:restart stops a running queue:work (exit 0), through the cache key
// <prefix>laravel_cache:illuminate:queue:restart.
func TestLaravelHarnessRestart(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	// The worker reads the key at start and after each iteration; a job it runs tells the test it has started.
	a.Dispatch("--objects=1", "--queue=restart", "--log="+a.Records)
	w := a.StartWork("--queue=restart", "--sleep=0.1")
	waitFor(t, "the worker ran its first job", func() bool {
		n, err := a.rdb.LLen(context.Background(), a.Records).Result()
		require.NoError(t, err)
		return n == 1
	})
	require.Contains(t, a.Artisan("queue:restart"), "Broadcasting queue restart signal.")
	res := w.Wait(t)
	require.Len(t, res.Of("WorkerStopping"), 1)
	v, err := a.rdb.Get(context.Background(), a.RestartKey()).Result()
	require.NoError(t, err)
	require.Regexp(t, `^\d+$`, v, "queue:restart stores the unix time as a plain string")
}
