package integration

// Faults only a network can make, each on containers and a network of the test's own (QB_PROVIDER=container;
// skipped otherwise): a bridge container cut off from Redis, Redis frozen past the lease, a PHP worker killed
// mid-job, MariaDB restarted under load, and a Sentinel failover. Each test keeps a ledger of job ids and
// requires that nothing is lost and that a job runs again only where its reservation really lapsed; the
// figures are logged (go test -v).

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/queuebridge/bridge"
)

// faultExpire is the reservation lifetime (think-queue expire, Laravel retry_after) of every fault test:
// short, so lapsed reservations come back within the test; each fault lasts longer than it.
const faultExpire = 3 * time.Second

// quietLogger drops the in-process bridges' logs (the faults make them loud).
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// blockJobs pushes n test\Block jobs of ms milliseconds (testbridge's handler; traces in started and done) onto
// queue q of the Redis at addr, in think-queue v3's format, and notes them in l.
func blockJobs(t *testing.T, l *ledger, addr, q, started, done string, n, ms int) {
	t.Helper()
	ctx := context.Background()
	b, err := bridge.Open(ctx, &bridge.Config{Connection: "redis://" + addr + "/0", Dialect: "thinkqueue-v3", Logger: quietLogger()})
	require.NoError(t, err)
	defer b.Close()
	for range n {
		id, err := b.Push(ctx, q, `test\Block`, map[string]any{"started": started, "done": done, "ms": ms})
		require.NoError(t, err)
		l.push(id)
	}
}

// requireQueueGone requires that the keys of a queue no longer exist (drained: nothing ready, delayed or
// reserved is left).
func requireQueueGone(t *testing.T, rdb *goredis.Client, keys ...string) {
	t.Helper()
	n, err := rdb.Exists(context.Background(), keys...).Result()
	require.NoError(t, err)
	require.Zero(t, n, "keys left of %v", keys)
}

// runInProcess starts an in-process bridge on the think-queue v3 queue q of the Redis at addr, concurrency jobs
// at a time, whose test\Block handler notes its runs in l as by (and takes ms); it stops when the test ends.
func runInProcess(t *testing.T, l *ledger, addr, q, by string, concurrency, ms int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bridge.Open(ctx, &bridge.Config{Connection: "redis://" + addr + "/0", Dialect: "thinkqueue-v3",
		Expire: faultExpire, Logger: quietLogger(),
		Worker: bridge.WorkerConfig{Memory: -1, Queues: []string{q}, Concurrency: concurrency, Sleep: 50 * time.Millisecond}})
	require.NoError(t, err)
	b.HandleFunc(`test\Block`, func(ctx context.Context, job *bridge.Job) error {
		r := l.start(job.ID(), jobRun{Attempts: job.Attempts(), At: time.Now(), By: by})
		time.Sleep(time.Duration(ms) * time.Millisecond)
		l.finish(job.ID(), r)
		return nil
	})
	ran := make(chan error, 1)
	go func() { ran <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("in-process bridge %s: %v", by, err)
		}
		_ = b.Close()
	})
}

// finishedJobs counts the jobs of l with a finished run.
func (l *ledger) finishedJobs() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := 0
	for _, runs := range l.runs {
		if slices.ContainsFunc(runs, func(r jobRun) bool { return r.Done }) {
			k++
		}
	}
	return k
}

// containerTraces are the started and done lists testbridge (in its container) writes to trace.
type containerTraces struct {
	trace         *goredis.Client
	started, done string
}

// finishedJobs counts the distinct jobs of l and the traces with a finished run (traces unreadable: l's only).
func (tr containerTraces) finishedJobs(l *ledger) int {
	seen := map[string]bool{}
	for _, d := range tr.trace.LRange(context.Background(), tr.done, 0, -1).Val() {
		var r record // test\Block's done trace (harness_record_test.go)
		if json.Unmarshal([]byte(d), &r) == nil {
			seen[r.ID] = true
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, runs := range l.runs {
		if slices.ContainsFunc(runs, func(r jobRun) bool { return r.Done }) {
			seen[id] = true
		}
	}
	return len(seen)
}

// traceRedis is a Redis "trace" that testbridge in its container writes its traces to, unharmed by the fault:
// on n's network (Redis paused: the trace Redis runs on), or on a network of its own that the bridge's container
// joins too (the container cut off from n's network: it still reaches the trace Redis).
type traceRedis struct {
	client *goredis.Client
	net    *ctrNet // the trace Redis's own network, or nil when it is on n's
}

func newTraceRedis(t *testing.T, n *ctrNet, ownNetwork bool) *traceRedis {
	t.Helper()
	tr := &traceRedis{}
	on := n
	if ownNetwork {
		tr.net = newCtrNet(t)
		on = tr.net
	}
	tr.client = goredis.NewClient(&goredis.Options{Addr: on.addr(on.redis("trace"), "6379/tcp")})
	t.Cleanup(func() { _ = tr.client.Close() })
	return tr
}

// faultFleet is the consumers of the two Redis fault tests: testbridge in its container (concurrency 4, its
// traces in trace) and an in-process bridge on the host (concurrency 4, its runs in l), on the
// think-queue v3 queue q of the Redis "redis" of n, with 1,500 test\Block jobs of 50 ms. It returns the
// container and its traces once both bridges run jobs.
func faultFleet(t *testing.T, n *ctrNet, l *ledger, addr, q string, trace *traceRedis) (*testcontainers.DockerContainer, containerTraces) {
	t.Helper()
	tr := containerTraces{trace: trace.client, started: q + ":started", done: q + ":done"}
	redisKeys(t, trace.client, tr.started, tr.done)
	blockJobs(t, l, addr, q, tr.started, tr.done, faultJobs, 50)
	c := n.bridge("bridge", "./testdata/testbridge", map[string]string{"TESTBRIDGE_REDIS_ADDR": "trace:6379"},
		"--connection", "redis://redis:6379/0", "--dialect", "thinkqueue-v3", "--expire", fmt.Sprint(faultExpire.Seconds()),
		"work", "--queue", q, "--concurrency", fmt.Sprint(faultConcurrency), "--sleep", "0.05")
	if trace.net != nil {
		trace.net.connect(c, "bridge")
	}
	waitFor(t, "the bridge in its container running jobs", func() bool { return tr.trace.LLen(context.Background(), tr.done).Val() > 0 })
	runInProcess(t, l, addr, q, "host", faultConcurrency, 50)
	waitFor(t, "a quarter of the jobs finished, by both", func() bool { return l.finishedJobs() > 0 && tr.finishedJobs(l) >= faultJobs/4 })
	return c, tr
}

const faultJobs, faultConcurrency = 1500, 4

// TestFaultBridgeCutOffFromRedis: two bridges, one in its container and one on the host, run 1,500 jobs four at a
// time each; the container loses its network (docker network disconnect) for 2×expire + 1 s and gets it back.
// (Its traces go to a Redis on a second network, which it keeps.) The jobs it was running can be neither
// acknowledged nor renewed; their reservations lapse and the host's bridge runs them again (new reservations).
// Once reconnected, the cut-off bridge carries on by itself. Nothing is lost; a job runs twice only across the
// fault (requireRerunsLapsed), and nothing starts in the container while it is cut off.
func TestFaultBridgeCutOffFromRedis(t *testing.T) {
	requireContainerProvider(t)
	t.Parallel()
	n := newCtrNet(t)
	redis := n.redis("redis")
	addr := n.addr(redis, "6379/tcp")
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	q := randomName("qbf.cut.")
	keys := []string{"{queues:" + q + "}", "{queues:" + q + "}:delayed", "{queues:" + q + "}:reserved"}
	redisKeys(t, rdb, keys...)
	trace := newTraceRedis(t, n, true)

	l := newLedger()
	c, tr := faultFleet(t, n, l, addr, q, trace)
	cutAt := time.Now()
	n.disconnect(c)
	time.Sleep(2*faultExpire + time.Second)
	n.connect(c, "bridge")
	backAt := time.Now()
	waitFor(t, "every job finished and the queue drained", func() bool {
		return tr.finishedJobs(l) == faultJobs && rdb.Exists(context.Background(), keys...).Val() == 0
	})

	l.readTestbridgeTraces(t, tr.trace, tr.started, tr.done, "container")
	l.sortRuns()
	f := l.figures(t)
	t.Logf("cut off for %s: %s", backAt.Sub(cutAt).Round(100*time.Millisecond), f)
	l.requireRerunsLapsed(t, cutAt, backAt)
	require.Zero(t, f.Lost)
	afterwards := 0
	for id, runs := range l.runs {
		for _, r := range runs {
			require.False(t, r.By == "container" && r.At.After(cutAt.Add(time.Second)) && r.At.Before(backAt.Add(-time.Second)),
				"job %s started in the container while it was cut off (%s)", id, r.At)
			if r.By == "container" && r.At.After(backAt) {
				afterwards++
			}
		}
	}
	t.Logf("the bridge in its container started %d jobs after it was reconnected", afterwards)
	require.Positive(t, afterwards, "the bridge in its container carried on once reconnected")
	requireQueueGone(t, rdb, keys...)
}

// TestFaultRedisPaused: Redis is frozen (docker pause) for 2×expire + 1 s while two bridges, one in its container
// and one on the host, run 1,500 jobs four at a time each (the container's traces go to a second Redis, which
// keeps running). Every connection hangs, nobody can renew a reservation or acknowledge a job, and the
// reservations of the jobs running at the pause lapse: once Redis thaws, such a job is either acknowledged by
// the worker that ran it or reserved anew and run again, by either bridge. Nothing is lost; a job runs twice
// only across the fault (requireRerunsLapsed).
func TestFaultRedisPaused(t *testing.T) {
	requireContainerProvider(t)
	t.Parallel()
	n := newCtrNet(t)
	redis := n.redis("redis")
	addr := n.addr(redis, "6379/tcp")
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	q := randomName("qbf.pause.")
	keys := []string{"{queues:" + q + "}", "{queues:" + q + "}:delayed", "{queues:" + q + "}:reserved"}
	redisKeys(t, rdb, keys...)
	trace := newTraceRedis(t, n, false)

	l := newLedger()
	_, tr := faultFleet(t, n, l, addr, q, trace)
	pausedAt := time.Now()
	n.pause(redis)
	time.Sleep(2*faultExpire + time.Second)
	n.unpause(redis)
	resumedAt := time.Now()
	waitFor(t, "every job finished and the queue drained", func() bool {
		return tr.finishedJobs(l) == faultJobs && rdb.Exists(context.Background(), keys...).Val() == 0
	})

	l.readTestbridgeTraces(t, tr.trace, tr.started, tr.done, "container")
	l.sortRuns()
	f := l.figures(t)
	t.Logf("paused for %s: %s", resumedAt.Sub(pausedAt).Round(100*time.Millisecond), f)
	l.requireRerunsLapsed(t, pausedAt, resumedAt)
	require.Zero(t, f.Lost)
	requireQueueGone(t, rdb, keys...)
}

// laravelVars is the environment of the Laravel test app (testdata/laravel) for Redis alias:6379 database 0,
// with key prefix and retry_after, and no failed-jobs store.
func laravelVars(alias, prefix string, retryAfter time.Duration) []string {
	return []string{"REDIS_HOST=" + alias, "REDIS_PORT=6379", "REDIS_DB=0", "REDIS_PREFIX=" + prefix,
		fmt.Sprintf("QUEUE_RETRY_AFTER=%d", int(retryAfter.Seconds())), "QUEUE_FAILED_CONNECTION=none",
		"DB_SQLITE_PATH=/tmp/app.sqlite", "QB_QUIET_REPORTS=1"}
}

// TestFaultPHPWorkerKilled: a real Laravel queue:work (its own container) and the bridge on the host share a
// queue of 60 App\Jobs\Record jobs; the PHP worker's container is killed (SIGKILL) in the middle of a job. The
// job it was running stays reserved until retry_after lapses, then the bridge runs it (attempt 2); nothing is
// lost and nothing else runs twice.
func TestFaultPHPWorkerKilled(t *testing.T) {
	requireContainerProvider(t)
	t.Parallel()
	n := newCtrNet(t)
	redis := n.redis("redis")
	addr := n.addr(redis, "6379/tcp")
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := randomName("qbf.kill.") + ":"
	const q = "work"
	records := prefix + "records"
	keys := []string{prefix + "queues:" + q, prefix + "queues:" + q + ":delayed", prefix + "queues:" + q + ":reserved",
		prefix + "queues:" + q + ":notify"}
	redisKeys(t, rdb, append(keys, records)...)
	vars := laravelVars("redis", prefix, faultExpire)

	// 500 ms per job in PHP: a kill lands in the middle of one.
	producer := n.php("producer", vars)
	l := newLedger()
	for _, j := range jsonLines[laravelJob](t, n.execPHP(producer, vars, "testdata/laravel/dispatch.php",
		"--objects=60", "--class=Record", "--queue="+q, "--log="+records, "--set=sleepMs=500")) {
		l.push(j.ID)
	}
	require.Len(t, l.pushed, 60)
	worker := n.php("worker", vars, "php", "testdata/laravel/work.php", "--queue="+q, "--sleep=0.1", "--tries=5", "--events=none")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := bridge.Open(ctx, &bridge.Config{Connection: "redis://" + addr + "/0", Dialect: "laravel-8", Prefix: prefix,
		Expire: faultExpire, Logger: quietLogger(),
		Worker: bridge.WorkerConfig{Memory: -1, Queues: []string{q}, Sleep: 50 * time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	b.HandleFunc(`App\Jobs\Record`, func(ctx context.Context, job *bridge.Job) error {
		i := l.start(job.ID(), jobRun{Attempts: job.Attempts(), At: time.Now(), By: "bridge"})
		time.Sleep(100 * time.Millisecond)
		l.finish(job.ID(), i)
		return nil
	})
	ran := make(chan error, 1)
	go func() { ran <- b.Run(ctx) }()

	phpRecords := func() []record {
		items, err := rdb.LRange(context.Background(), records, 0, -1).Result()
		require.NoError(t, err)
		return jsonLines[record](t, []byte(strings.Join(items, "\n")))
	}
	waitFor(t, "the PHP worker finished 3 jobs and is in the middle of another", func() bool {
		recs := phpRecords()
		oks := 0
		for _, r := range recs {
			if r.Outcome == "ok" {
				oks++
			}
		}
		return oks >= 3 && recs[len(recs)-1].Outcome == "start"
	})
	killedAt := time.Now()
	n.kill(worker)
	recs := phpRecords()
	require.Equal(t, "start", recs[len(recs)-1].Outcome, "the kill landed in the middle of a job")
	killedJob := recs[len(recs)-1].ID

	waitFor(t, "every job finished", func() bool {
		doneIDs := map[string]bool{}
		for _, r := range phpRecords() {
			if r.Outcome == "ok" {
				doneIDs[r.ID] = true
			}
		}
		l.mu.Lock()
		for id, runs := range l.runs {
			if slices.ContainsFunc(runs, func(r jobRun) bool { return r.Done && r.By == "bridge" }) {
				doneIDs[id] = true
			}
		}
		l.mu.Unlock()
		return len(doneIDs) == len(l.pushed)
	})
	waitFor(t, "the queue drained", func() bool { return rdb.Exists(context.Background(), keys...).Val() == 0 })
	cancel()
	require.NoError(t, <-ran)

	phpOK := 0
	for _, r := range phpRecords() {
		switch r.Outcome {
		case "start":
			l.start(r.ID, jobRun{Attempts: r.Attempts, At: time.UnixMicro(int64(r.T * 1e6)), By: "laravel"})
		case "ok":
			phpOK++
			l.mu.Lock()
			l.runs[r.ID][len(l.runs[r.ID])-1].Done = true
			l.mu.Unlock()
		default:
			require.Failf(t, "unexpected record", "%+v", r)
		}
	}
	l.sortRuns() // the PHP runs were added last
	f := l.figures(t)
	t.Logf("PHP worker killed mid-job: %s; Laravel finished %d, the bridge %d; the killed job %s ran again %+v",
		f, phpOK, len(l.pushed)-phpOK, killedJob, l.runs[killedJob])
	require.Zero(t, f.Lost)
	require.Zero(t, f.Duplicates)
	require.Equal(t, 1, f.CutShort, "one run was cut short: the killed one")
	require.Len(t, l.runs[killedJob], 2)
	require.Equal(t, "bridge", l.runs[killedJob][1].By)
	require.False(t, l.runs[killedJob][1].At.Before(l.runs[killedJob][0].At.Add(faultExpire-time.Second)),
		"the bridge took the killed job before its reservation (retry_after %s) lapsed", faultExpire)
	l.requireRerunsLapsed(t, killedAt, killedAt)
}

// TestFaultMariaDBRestart: MariaDB (its own container) is restarted (docker restart: SIGTERM, start) while the
// bridge pushes 1,500 Laravel jobs onto its database queue, one every few milliseconds, and two bridges run them,
// four at a time each. Pushes that fail while the server is down are counted (such a job may or may not exist);
// every acknowledged job runs, and a job runs twice only across the fault (requireRerunsLapsed): the bridge
// could not delete it while the server was down, and its reservation lapsed.
func TestFaultMariaDBRestart(t *testing.T) {
	requireContainerProvider(t)
	t.Parallel()
	n := newCtrNet(t)
	db := n.mariadb("mariadb")
	addr := n.addr(db, "3306/tcp")
	connection := "mysql://root@" + addr + "/queuebridge"
	sqldb, err := dbsql.Open("mysql", "root@tcp("+addr+")/queuebridge")
	require.NoError(t, err)
	t.Cleanup(func() { _ = sqldb.Close() })
	bin, err := staticBinary("../cmd/bridge")
	require.NoError(t, err)
	out, err := exec.Command(bin, "--connection", connection, "--dialect", "laravel-8", "migrate").CombinedOutput()
	require.NoError(t, err, "bridge migrate: %s", out)

	const q, jobs, concurrency = "default", 1500, 4
	const job = `App\Jobs\Legacy@handle`
	open := func(w bridge.WorkerConfig) *bridge.Bridge {
		b, err := bridge.Open(context.Background(), &bridge.Config{Connection: connection, Dialect: "laravel-8",
			Expire: faultExpire, Logger: quietLogger(), Worker: w})
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	l := newLedger()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var workers sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		b := open(bridge.WorkerConfig{Memory: -1, Queues: []string{q}, Concurrency: concurrency, Sleep: 50 * time.Millisecond})
		by := fmt.Sprintf("bridge %d", i)
		b.HandleFunc(job, func(ctx context.Context, job *bridge.Job) error {
			r := l.start(job.ID(), jobRun{Attempts: job.Attempts(), At: time.Now(), By: by})
			time.Sleep(20 * time.Millisecond)
			l.finish(job.ID(), r)
			return nil
		})
		workers.Go(func() { errs[i] = b.Run(ctx) })
	}

	pusher := open(bridge.WorkerConfig{})
	var failedPushes int
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		for i := range jobs {
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			id, err := pusher.Push(pctx, q, job, map[string]any{"n": i})
			pcancel()
			if err != nil {
				failedPushes++
				time.Sleep(100 * time.Millisecond)
				continue
			}
			l.push(id)
			time.Sleep(3 * time.Millisecond)
		}
	}()
	waitFor(t, "a third of the jobs pushed", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.pushed) >= jobs/3
	})
	restartAt := time.Now()
	n.restart(db)
	upAt := time.Now()
	<-pushed
	t.Cleanup(func() {
		if t.Failed() {
			var rows, reserved int
			_ = sqldb.QueryRow("SELECT COUNT(*), COUNT(reserved_at) FROM jobs").Scan(&rows, &reserved)
			t.Logf("at the failure: %d rows left in jobs (%d reserved), %d jobs finished of %d pushed",
				rows, reserved, l.finishedJobs(), len(l.pushed))
		}
	})

	waitFor(t, "every acknowledged job finished and the table empty", func() bool {
		l.mu.Lock()
		for _, id := range l.pushed {
			if !slices.ContainsFunc(l.runs[id], func(r jobRun) bool { return r.Done }) {
				l.mu.Unlock()
				return false
			}
		}
		l.mu.Unlock()
		var left int
		err := sqldb.QueryRow("SELECT COUNT(*) FROM jobs").Scan(&left)
		return err == nil && left == 0
	})
	cancel()
	workers.Wait()
	for i, err := range errs {
		require.NoError(t, err, "bridge %d", i)
	}

	// Runs of ids nobody acknowledged are the failed pushes whose row was written after all.
	l.mu.Lock()
	unknown := 0
	acked := map[string]bool{}
	for _, id := range l.pushed {
		acked[id] = true
	}
	for id := range l.runs {
		if !acked[id] {
			unknown++
			l.unsure[id] = true
		}
	}
	l.mu.Unlock()
	require.LessOrEqual(t, unknown, failedPushes, "runs of jobs nobody pushed")
	f := l.figures(t)
	t.Logf("restarted in %s: %s (%d pushes failed, %d of them ran anyway)", upAt.Sub(restartAt).Round(100*time.Millisecond), f, failedPushes, unknown)
	l.requireRerunsLapsed(t, restartAt, upAt)
	require.Zero(t, f.Lost)
}

// TestFaultSentinelFailover: a Redis primary and its replica in containers, watched by three Sentinels (quorum
// 2); the bridge connects through them (redis+sentinel://…?master_name=m) and runs 1,500 jobs, four at a time.
// The primary is killed (SIGKILL) mid-run; the Sentinels promote the replica and the bridge follows them to it.
// Nothing is lost. A job runs again when its reservation lapsed (a new reservation, attempts + 1: its
// acknowledgement or renewal could not reach a primary in time) or when the primary died before the replica had
// its reservation (Redis replicates asynchronously: the job is still in the replica's list, reserved anew with
// the same attempts); both counts are logged.
func TestFaultSentinelFailover(t *testing.T) {
	requireContainerProvider(t)
	t.Parallel()
	n := newCtrNet(t)
	primary := n.redis("redis-a")
	replica := n.redis("redis-b", "redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "",
		"--appendonly", "no", "--replicaof", "redis-a", "6379")
	conf := strings.Join([]string{"port 26379", "sentinel resolve-hostnames yes", "sentinel monitor m redis-a 6379 2",
		"sentinel down-after-milliseconds m 1000", "sentinel failover-timeout m 10000"}, `\n`)
	var sentinels []string
	for i := range 3 {
		s := n.start(fmt.Sprintf("sentinel-%d", i), n.im.Redis,
			testcontainers.WithCmd("sh", "-c", fmt.Sprintf(`printf '%s\n' > /tmp/sentinel.conf && exec redis-server /tmp/sentinel.conf --sentinel`, conf)),
			testcontainers.WithWaitStrategy(wait.ForLog("+monitor master m").WithStartupTimeout(ctrStartupTimeout)))
		sentinels = append(sentinels, n.ip(s)+":26379")
	}
	replicaClient := goredis.NewClient(&goredis.Options{Addr: n.addr(replica, "6379/tcp")})
	t.Cleanup(func() { _ = replicaClient.Close() })
	waitFor(t, "the replica in sync", func() bool {
		return strings.Contains(replicaClient.Info(context.Background(), "replication").Val(), "master_link_status:up")
	})
	connection := fmt.Sprintf("redis+sentinel://%s/0?master_name=m&addr=%s&addr=%s", sentinels[0], sentinels[1], sentinels[2])
	q := randomName("qbf.sentinel.")
	keys := []string{"{queues:" + q + "}", "{queues:" + q + "}:delayed", "{queues:" + q + "}:reserved"}

	const jobs, concurrency = 1500, 4
	l := newLedger()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bridge logs:\n%s", logs.String())
		}
	})
	open := func(w bridge.WorkerConfig) *bridge.Bridge {
		b, err := bridge.Open(ctx, &bridge.Config{Connection: connection, Dialect: "thinkqueue-v3", Expire: faultExpire,
			Logger: slog.New(slog.NewTextHandler(logs, nil)), Worker: w})
		require.NoError(t, err)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	pusher := open(bridge.WorkerConfig{})
	for i := range jobs {
		id, err := pusher.Push(ctx, q, `test\Job`, map[string]int{"n": i})
		require.NoError(t, err)
		l.push(id)
	}
	// Every job is on the replica too before the fault: a job can come back, never vanish.
	primaryClient := goredis.NewClient(&goredis.Options{Addr: n.addr(primary, "6379/tcp")})
	t.Cleanup(func() { _ = primaryClient.Close() })
	require.EqualValues(t, 1, primaryClient.Wait(ctx, 1, 10*time.Second).Val(), "WAIT: the replica acknowledged the pushes")

	b := open(bridge.WorkerConfig{Memory: -1, Queues: []string{q}, Concurrency: concurrency, Sleep: 50 * time.Millisecond})
	b.HandleFunc(`test\Job`, func(ctx context.Context, job *bridge.Job) error {
		r := l.start(job.ID(), jobRun{Attempts: job.Attempts(), At: time.Now(), By: "bridge"})
		time.Sleep(10 * time.Millisecond)
		l.finish(job.ID(), r)
		return nil
	})
	ran := make(chan error, 1)
	go func() { ran <- b.Run(ctx) }()
	waitFor(t, "a fifth of the jobs finished", func() bool { return l.finishedJobs() >= jobs/5 })

	killedAt := time.Now()
	n.kill(primary)
	replicaIP := n.ip(replica)
	sentinel := goredis.NewSentinelClient(&goredis.Options{Addr: sentinels[0]})
	t.Cleanup(func() { _ = sentinel.Close() })
	waitFor(t, "the Sentinels promoted the replica", func() bool {
		addr, err := sentinel.GetMasterAddrByName(context.Background(), "m").Result()
		return err == nil && addr[0] == replicaIP
	})
	promotedAt := time.Now()
	waitFor(t, "every job finished and the queue drained", func() bool {
		return l.finishedJobs() == jobs && replicaClient.Exists(context.Background(), keys...).Val() == 0
	})
	cancel()
	require.NoError(t, <-ran)

	// Until the bridge has let go of its connections to the dead primary, an acknowledgement can be held up on
	// one of them past the job's reservation.
	settled := promotedAt.Add(faultSettle)
	f := l.figures(t)
	lapsed, lostWithPrimary := 0, 0
	for id, runs := range l.runs {
		if len(runs) > 1 {
			t.Logf("job %s ran %d times (primary killed %s, replica promoted %s): %s", id, len(runs),
				killedAt.Format("15:04:05.000"), promotedAt.Format("15:04:05.000"), formatRuns(runs))
		}
		for i := 1; i < len(runs); i++ {
			prev, next := runs[i-1], runs[i]
			require.False(t, next.At.Before(killedAt.Add(-time.Second)), "job %s ran again before the kill", id)
			if next.Attempts > prev.Attempts {
				require.False(t, prev.At.After(settled), "job %s ran again, but its earlier run was reserved after the failover settled", id)
				lapsed++
			} else {
				require.Equal(t, prev.Attempts, next.Attempts, "job %s: attempts went down", id)
				require.False(t, prev.At.After(killedAt.Add(time.Second)), "job %s: reserved twice with the same attempts, but not across the kill", id)
				lostWithPrimary++
			}
		}
	}
	t.Logf("primary killed, replica promoted after %s: %s; runs again after a lapsed reservation %d, after a reservation lost with the primary %d",
		promotedAt.Sub(killedAt).Round(100*time.Millisecond), f, lapsed, lostWithPrimary)
	require.Zero(t, f.Lost)
}
