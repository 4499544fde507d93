package integration

// Cross-tests that exist for the container provider (QB_PROVIDER=container; skipped otherwise): producers and
// workers in containers and bridges on the host and in their own containers, on the provider's Redis and
// MariaDB containers. The Laravel tests (TestLaravel*) run on the same containers through Env.

import (
	"context"
	"crypto/rand"
	dbsql "database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// randomName is label plus a random suffix: a queue, key or database no other test or run uses.
func randomName(label string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return label + hex.EncodeToString(b[:])
}

// sharedContainers is the provider's Env and a ctrNet on its network.
func sharedContainers(t *testing.T) (*ContainerEnv, *ctrNet) {
	t.Helper()
	requireContainerProvider(t)
	env, err := Container()
	require.NoError(t, err)
	ce := env.(*ContainerEnv)
	return ce, ctrNetOf(t, ce.network)
}

var thinkQueueID = regexp.MustCompile(`^[A-Za-z]{32}$`)

// TestContainerThinkQueueFleet: think-queue v3 jobs pushed by PHP (phpredis, in the PHP container), by the bridge
// on the host (Push) and by the bridge binary in its own container (`bridge push`), into the Redis container,
// are drained, while they are pushed, by two PHP workers (the think-queue stand-in, in the PHP container), the
// bridge on the host and the bridge in its container, side by side. Every job runs exactly once, each kind of
// worker takes a share, and both bridges stop on SIGTERM with status 0.
func TestContainerThinkQueueFleet(t *testing.T) {
	ce, n := sharedContainers(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	q := randomName("qbc.fleet.")
	list, delayed, reserved := "{queues:"+q+"}", "{queues:"+q+"}:delayed", "{queues:"+q+"}:reserved"
	log := q + ":log" // in DB 3 (PHP workers, host bridge) and DB 4 (the bridge in its container)
	db3 := goredis.NewClient(&goredis.Options{Addr: ce.RedisAddr(), DB: 3})
	db4 := goredis.NewClient(&goredis.Options{Addr: ce.RedisAddr(), DB: 4})
	t.Cleanup(func() { _ = db3.Close(); _ = db4.Close() })
	redisKeys(t, db3, list, delayed, reserved, log)
	redisKeys(t, db4, log)

	// The workers start first, on the empty queue, and the producers push while they drain it: every kind of
	// worker is running before the first job lands. The bridges run until stopped (SIGTERM), the PHP workers
	// until the queue has been empty for 5 s.
	bin := testbridge(t)
	work := []string{"--dialect", "thinkqueue-v3", "work", "--queue", q, "--concurrency", "4", "--sleep", "0.05"}
	inCtr := n.bridge("bridge", "./testdata/testbridge", map[string]string{"TESTBRIDGE_REDIS_ADDR": "redis:6379", "TESTBRIDGE_REDIS_DB": "4"},
		append([]string{"--connection", "redis://redis:6379/3"}, work...)...)
	host := startHostBridge(t, bin, []string{"TESTBRIDGE_REDIS_ADDR=" + ce.RedisAddr(), "TESTBRIDGE_REDIS_DB=3"},
		append([]string{"--connection", fmt.Sprintf("redis://%s/3", ce.RedisAddr())}, work...)...)
	waitFor(t, "both bridges working", func() bool {
		return strings.Contains(host.out.String(), "bridge working") && strings.Contains(n.logs(inCtr), "bridge working")
	})
	var wg sync.WaitGroup
	reports := make([]fleetReport, 2)
	errs := make([]error, 2)
	for i := range reports {
		wg.Go(func() {
			out, err := execPHP(ctx, ce.php, nil, fleetWorkerScript, "--host", ctrRedisAlias, "--port", "6379", "--db", "3",
				"--queue", q, "--dialect", "v3", "--idle", "5")
			if err == nil {
				err = json.Unmarshal(out, &reports[i])
			}
			errs[i] = err
		})
	}

	pushed := map[string]string{} // id → producer
	note := func(id, by string) {
		require.NotContains(t, pushed, id, "duplicate id")
		pushed[id] = by
	}
	hostCfg := &bridge.Config{Connection: fmt.Sprintf("redis://%s/3", ce.RedisAddr()), Dialect: "thinkqueue-v3",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pusher, err := bridge.Open(ctx, hostCfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = pusher.Close() })
	for range 4 {
		out := n.execPHP(ce.php, nil, fleetPushScript, "--host", ctrRedisAlias, "--port", "6379", "--db", "3",
			"--queue", q, "--dialect", "v3", "--count", "1000", "--log", log)
		ids := strings.Fields(string(out))
		require.Len(t, ids, 1000)
		for _, id := range ids {
			note(id, "php")
		}
		for range 250 {
			id, err := pusher.Push(ctx, q, `test\Record`, map[string]string{"log": log})
			require.NoError(t, err)
			note(id, "bridge (host)")
		}
	}
	for i := range 3 {
		c := n.bridge(fmt.Sprintf("push-%d", i), "../cmd/bridge", nil, "--connection", "redis://redis:6379/3",
			"--dialect", "thinkqueue-v3", "push", "--queue", q, `test\Record`, fmt.Sprintf(`{"log":%q}`, log))
		require.Zero(t, n.waitExit(c, waitLimit), "bridge push in its container")
		var ids []string
		for line := range strings.SplitSeq(n.logs(c), "\n") {
			if line = strings.TrimSpace(line); thinkQueueID.MatchString(line) {
				ids = append(ids, line)
			}
		}
		require.Len(t, ids, 1, "bridge push printed one id:\n%s", n.logs(c))
		note(ids[0], "bridge (container)")
	}
	total := len(pushed)
	waitFor(t, "every job ran", func() bool { return db3.LLen(ctx, log).Val()+db4.LLen(ctx, log).Val() >= int64(total) })
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "PHP worker %d", i)
	}
	require.NoError(t, host.cmd.Process.Signal(syscall.SIGTERM))
	require.Zero(t, host.wait(t), "host bridge: exit status after SIGTERM")
	stop := 30 * time.Second
	require.NoError(t, inCtr.Stop(ctx, &stop))
	require.Zero(t, n.waitExit(inCtr, waitLimit), "bridge in its container: exit status after SIGTERM")

	ran := map[string]int{}
	byPHP := 0
	for _, r := range reports {
		require.Len(t, r.IDs, r.Processed)
		byPHP += r.Processed
	}
	hostAndPHP, err := db3.LRange(ctx, log, 0, -1).Result()
	require.NoError(t, err)
	inContainer, err := db4.LRange(ctx, log, 0, -1).Result()
	require.NoError(t, err)
	for _, id := range append(hostAndPHP, inContainer...) {
		require.Contains(t, pushed, id, "a run of a job nobody pushed")
		ran[id]++
	}
	for id, by := range pushed {
		require.Equal(t, 1, ran[id], "job %s (pushed by %s) ran %d times", id, by, ran[id])
	}
	t.Logf("%d jobs: PHP workers ran %d + %d, the host bridge %d, the bridge in its container %d", total,
		reports[0].Processed, reports[1].Processed, len(hostAndPHP)-byPHP, len(inContainer))
	require.NotEmpty(t, inContainer, "the bridge in its container ran jobs")
	require.Positive(t, byPHP, "the PHP workers ran jobs")
	require.Positive(t, len(hostAndPHP)-byPHP, "the host bridge ran jobs")
	for _, k := range []string{list, delayed, reserved} {
		require.Zero(t, db3.Exists(ctx, k).Val(), "key %s left behind", k)
	}
}

// TestContainerLaravelDatabase: real Laravel 8.83 (in the PHP container) dispatches App\Jobs\Record objects and
// App\Jobs\Legacy string jobs onto its database queue, a jobs table in the MariaDB container whose tables the
// bridge binary made (`bridge migrate`); Laravel's own `queue:work database` (in the PHP container) and the bridge
// on the host drain it together. Every job runs exactly once, by one of them, and the table ends empty.
func TestContainerLaravelDatabase(t *testing.T) {
	ce, n := sharedContainers(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	d, err := parseMySQLDSN(ce.MySQLDSN())
	require.NoError(t, err)
	name := randomName("qbc_")
	root, err := dbsql.Open("mysql", fmt.Sprintf("root@tcp(%s:%s)/", d.Host, d.Port))
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Errorf("cleanup: DROP DATABASE %s: %v", name, err)
		}
		_ = root.Close()
	})
	_, err = root.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	require.NoError(t, err)
	connection := fmt.Sprintf("mysql://root@%s:%s/%s", d.Host, d.Port, name)
	bridgeBin, err := staticBinary("../cmd/bridge")
	require.NoError(t, err)
	out, err := exec.CommandContext(ctx, bridgeBin, "--connection", connection, "--dialect", "laravel-8", "migrate").CombinedOutput()
	require.NoError(t, err, "bridge migrate: %s", out)

	const q = "dbq"
	prefix := randomName("qbc.laravel.") + ":"
	log := prefix + "records"
	rdb := goredis.NewClient(&goredis.Options{Addr: ce.RedisAddr(), DB: 3})
	t.Cleanup(func() { _ = rdb.Close() })
	redisKeys(t, rdb, log)
	vars := []string{"REDIS_HOST=" + ctrRedisAlias, "REDIS_PORT=6379", "REDIS_DB=3", "REDIS_PREFIX=" + prefix,
		"QUEUE_DB_CONNECTION=mysql", "QUEUE_FAILED_CONNECTION=mysql", "DB_HOST=" + ctrMariaDBAlias, "DB_PORT=3306",
		"DB_DATABASE=" + name, "DB_USERNAME=root", "DB_SQLITE_PATH=/tmp/" + name + ".sqlite", "QB_QUIET_REPORTS=1"}
	dispatched := map[string]string{} // row id → kind
	for _, args := range [][]string{{"--objects=400", "--class=Record"}, {"--strings=100", "--start=401"}} {
		out := n.execPHP(ce.php, vars, "testdata/laravel/dispatch.php",
			append([]string{"--connection=database", "--no-readback", "--queue=" + q, "--log=" + log}, args...)...)
		for _, j := range jsonLines[laravelJob](t, out) {
			require.NotContains(t, dispatched, j.ID)
			dispatched[j.ID] = j.Kind
		}
	}
	require.Len(t, dispatched, 500)

	var phpOut []byte
	var phpErr error
	php := make(chan struct{})
	go func() {
		defer close(php)
		phpOut, phpErr = execPHP(ctx, ce.php, vars, "testdata/laravel/work.php", "database", "--queue="+q, "--drain=1",
			"--sleep=0.1", "--events=none")
	}()

	var mu sync.Mutex
	byBridge := map[string]int{}
	b, err := bridge.Open(ctx, &bridge.Config{Connection: connection, Dialect: "laravel-8", Expire: 90 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Worker: bridge.WorkerConfig{Memory: -1, Queues: []string{q}, Concurrency: 4, StopWhenEmpty: true, Sleep: 50 * time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	// The bridge's runs wait for Laravel's first one (for a minute at most), so both drain even when
	// Laravel's boot in its container is slower than the bridge's drain of the whole table.
	laravelRan := make(chan struct{})
	go func() {
		defer close(laravelRan)
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if n, err := rdb.LLen(ctx, log).Result(); err != nil || n > 0 {
				return
			}
		}
	}()
	record := func(_ context.Context, job *bridge.Job) error {
		mu.Lock()
		byBridge[job.ID()]++
		mu.Unlock()
		<-laravelRan
		time.Sleep(2 * time.Millisecond) // leave Laravel jobs to take
		return nil
	}
	b.HandleFunc(`App\Jobs\Record`, record)
	b.HandleFunc(`App\Jobs\Legacy@handle`, record)
	require.NoError(t, b.Run(ctx))
	<-php
	require.NoError(t, phpErr, "queue:work database\n%s", tail(phpOut))

	ran := map[string]int{}
	for id, k := range byBridge {
		ran[id] += k
	}
	byLaravel := 0
	records, err := rdb.LRange(ctx, log, 0, -1).Result()
	require.NoError(t, err)
	for _, line := range records {
		var r struct {
			Outcome string `json:"outcome"`
			ID      any    `json:"id"` // the row id: a number or a string, as PDO gives it
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&r), line)
		require.Equal(t, "ok", r.Outcome, line)
		ran[fmt.Sprint(r.ID)]++
		byLaravel++
	}
	for id, kind := range dispatched {
		require.Equal(t, 1, ran[id], "job %s (%s) ran %d times", id, kind, ran[id])
	}
	require.Len(t, ran, len(dispatched), "only dispatched jobs ran")
	t.Logf("500 jobs: Laravel's queue:work ran %d, the bridge %d", byLaravel, len(byBridge))
	require.Positive(t, byLaravel, "Laravel's worker ran jobs")
	require.NotEmpty(t, byBridge, "the bridge ran jobs")
	var left int
	require.NoError(t, root.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+name+"`.jobs").Scan(&left))
	require.Zero(t, left, "rows left in jobs")
}
