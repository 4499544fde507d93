package bridge_test

import (
	"bytes"
	"context"
	dbsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
)

// jobsRedisDB is the Redis database of the job-management tests: FindJob reads every queue of its
// database, so these tests keep theirs to themselves.
const jobsRedisDB = 43

// jobsStore is one store the job-management tests run on.
type jobsStore struct {
	name       string
	dialect    string
	connection func(t *testing.T) string
}

func jobsRedis(t *testing.T) string {
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return fmt.Sprintf("redis://%s/%d", addr, jobsRedisDB)
}

// jobsMariaDB is a jobs table of its own in the test MariaDB, dropped after the test.
func jobsMariaDB(t *testing.T) string {
	table := fmt.Sprintf("jobs_t%d", rand.Int64N(1<<40))
	t.Cleanup(func() {
		db, err := dbsql.Open("mysql", "root@tcp(127.0.0.1:3306)/queuebridge")
		if err == nil {
			db.Exec("DROP TABLE IF EXISTS " + table)
			db.Exec("DROP TABLE IF EXISTS " + table + "_failed")
			db.Close()
		}
	})
	return "mysql://root@127.0.0.1:3306/queuebridge?table=" + table
}

func jobsSQLite(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "app.db") }

var jobsStores = []jobsStore{
	{"redis/thinkqueue-v1", "thinkqueue-v1", jobsRedis},
	{"redis/thinkqueue-v3", "thinkqueue-v3", jobsRedis},
	{"redis/laravel-8", "laravel-8", jobsRedis},
	{"mariadb/laravel-8", "laravel-8", jobsMariaDB},
	{"sqlite/thinkqueue-v3", "thinkqueue-v3", jobsSQLite},
}

// openJobs opens a bridge on the store (migrating a database's tables) with a queue name of the test's own,
// and removes the queue's Redis keys afterwards.
func openJobs(t *testing.T, s jobsStore) (*bridge.Bridge, *bridge.Config, string) {
	t.Helper()
	ctx := context.Background()
	q := fmt.Sprintf("jobs-%d", rand.Int64N(1<<40))
	prefix := fmt.Sprintf("qbjobs%d", rand.Int64N(1<<40))
	conn := s.connection(t)
	cfg := &bridge.Config{Connection: conn, Dialect: s.dialect, FailedKeyPrefix: prefix,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if conn[:5] == "mysql" {
		cfg.FailedTable = conn[len("mysql://root@127.0.0.1:3306/queuebridge?table="):] + "_failed"
	}
	if conn[:5] != "redis" {
		_, err := bridge.Migrate(ctx, cfg, false)
		require.NoError(t, err)
	} else {
		o, err := goredis.ParseURL(conn)
		require.NoError(t, err)
		rdb := goredis.NewClient(o)
		t.Cleanup(func() {
			for _, p := range []string{"*queues:" + q + "*", "*" + prefix + "*"} {
				deleteKeys(rdb, p)
			}
			rdb.Close()
		})
	}
	b, err := bridge.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b, cfg, q
}

// ledgerData is the data of the race tests' jobs.
type ledgerData struct {
	N      int  `json:"n"`
	Edited bool `json:"edited"`
}

// Cancel and edit race a worker draining the queue, at the head of the queue where the worker reserves:
// every job either ran exactly once or was cancelled, never both, and a job whose edit succeeded ran
// with the new data.
func TestCancelAndEditRaceAWorker(t *testing.T) {
	for _, s := range jobsStores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			manager, cfg, q := openJobs(t, s)
			const ops = 1000
			jobs := 0
			push := func(n int) {
				for range n {
					_, err := manager.Push(ctx, q, `app\job\Ledger`, ledgerData{N: jobs})
					require.NoError(t, err)
					jobs++
				}
			}
			push(200)

			wcfg := *cfg
			wcfg.Worker = bridge.WorkerConfig{Queues: []string{q}, Concurrency: 4, Sleep: time.Millisecond}
			workerBridge, err := bridge.Open(ctx, &wcfg)
			require.NoError(t, err)
			defer workerBridge.Close()
			var mu sync.Mutex
			ran := map[int]int{}
			ranEdited := map[int]bool{}
			workerBridge.HandleFunc(`app\job\Ledger`, func(_ context.Context, j *bridge.Job) error {
				var d ledgerData
				if err := j.Bind(&d); err != nil {
					return err
				}
				mu.Lock()
				ran[d.N]++
				ranEdited[d.N] = d.Edited
				mu.Unlock()
				time.Sleep(200 * time.Microsecond)
				return nil
			})
			workCtx, stopWorker := context.WithCancel(ctx)
			defer stopWorker()
			done := make(chan error, 1)
			go func() { done <- workerBridge.Run(workCtx) }()

			cancelled, edited := map[int]bool{}, map[int]bool{}
			lost := 0 // operations a worker won: the job was reserved or gone when the write came
			for op := 0; op < ops; op++ {
				head, err := manager.Jobs(ctx, q, bridge.StateReady, 0, 2)
				require.NoError(t, err)
				if len(head) == 0 {
					push(20) // keep the worker busy until every operation has raced it
					op--
					continue
				}
				info := manager.DescribeJob(head[rand.IntN(len(head))])
				var d ledgerData
				require.NoError(t, json.Unmarshal(info.Data, &d), "%s", info.Data)
				switch op % 3 {
				case 0:
					err = manager.CancelJob(ctx, info.ID)
					if err == nil {
						cancelled[d.N] = true
					}
				case 1:
					data, _ := json.Marshal(ledgerData{N: d.N, Edited: true})
					_, err = manager.EditJob(ctx, info.ID, bridge.JobEdit{Data: data})
					if err == nil {
						edited[d.N] = true
					}
				case 2:
					_, err = manager.EditJob(ctx, info.ID, bridge.JobEdit{Front: true})
					if errors.Is(err, sqlstore.ErrNoFreeID) {
						err = bridge.ErrNoJob // the row below the head is still running: nothing changed
					}
				}
				if err != nil {
					require.True(t, errors.Is(err, bridge.ErrJobReserved) || errors.Is(err, bridge.ErrNoJob), "op %d: %v", op, err)
					lost++
				}
			}
			for {
				sizes, err := manager.Sizes(ctx, q)
				require.NoError(t, err)
				if sizes == (bridge.QueueSizes{}) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			stopWorker()
			require.NoError(t, <-done)

			for n := range jobs {
				switch {
				case cancelled[n]:
					require.Zero(t, ran[n], "job %d was cancelled and ran", n)
				default:
					require.Equal(t, 1, ran[n], "job %d ran %d times", n, ran[n])
				}
				if edited[n] && !cancelled[n] {
					require.True(t, ranEdited[n], "job %d was edited but ran with its old data", n)
				}
			}
			require.NotEmpty(t, cancelled)
			require.NotEmpty(t, edited)
			t.Logf("%d jobs, %d operations: %d cancelled, %d edited, %d lost to the worker", jobs, ops, len(cancelled), len(edited), lost)
		})
	}
}

// An edited job's payload is what the PHP library's encoder writes for the new data: think-queue's
// re-parses to the new data with the same id and attempts; Laravel's equals NewStringPayload's bytes.
func TestEditJobBytes(t *testing.T) {
	ctx := context.Background()
	newData := json.RawMessage(`{"to":"a/b@例え.jp","n":[1,2.5,{}],"empty":{}}`)
	for _, s := range jobsStores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			b, _, q := openJobs(t, s)
			id, err := b.Push(ctx, q, `app\job\Mail@send`, map[string]any{"to": "old"})
			require.NoError(t, err)
			before, err := b.FindJob(ctx, id)
			require.NoError(t, err)
			after, err := b.EditJob(ctx, id, bridge.JobEdit{Data: newData})
			require.NoError(t, err)
			stored, err := b.FindJob(ctx, id)
			require.NoError(t, err)
			require.Equal(t, string(after.Raw), string(stored.Raw), "EditJob reports what it wrote")
			require.Equal(t, before.Attempts, stored.Attempts)

			v, err := phpjson.Decode(newData)
			require.NoError(t, err)
			want := phpjson.Assoc(v)
			switch s.dialect {
			case "laravel-8":
				d, err := laravel.ParseDialect(s.dialect)
				require.NoError(t, err)
				old, err := d.Parse(before.Raw)
				require.NoError(t, err)
				redis := s.name[:5] == "redis"
				expected, err := d.NewStringPayload(`app\job\Mail@send`, want, laravel.PayloadParams{UUID: old.UUID, ID: old.ID, Redis: redis})
				require.NoError(t, err)
				require.Equal(t, string(expected), string(stored.Raw))
			default:
				d, err := thinkqueue.ParseDialect(s.dialect)
				require.NoError(t, err)
				oldP, err := d.Parse(before.Raw)
				require.NoError(t, err)
				p, err := d.Parse(stored.Raw)
				require.NoError(t, err)
				wantData, err := phpjson.Encode(want)
				require.NoError(t, err)
				require.Equal(t, string(wantData), string(p.Data))
				require.Equal(t, oldP.ID, p.ID)
				require.Equal(t, oldP.Attempts, p.Attempts)
				require.Equal(t, oldP.HasAttempts, p.HasAttempts)
				if s.name[:5] == "redis" {
					expected, err := d.NewPayload(`app\job\Mail@send`, want, oldP.ID)
					require.NoError(t, err)
					require.Equal(t, string(expected), string(stored.Raw))
				}
			}
		})
	}
}

// Moving jobs keeps Laravel's notify list at one token per ready job, and delay, front and queue moves
// put the job where they say.
func TestEditJobPlacesAndNotifyTokens(t *testing.T) {
	ctx := context.Background()
	b, cfg, q := openJobs(t, jobsStores[2])
	o, err := goredis.ParseURL(cfg.Connection)
	require.NoError(t, err)
	rdb := goredis.NewClient(o)
	defer rdb.Close()
	other := q + "-other"
	t.Cleanup(func() { deleteKeys(rdb, "*queues:"+other+"*") })
	tokensMatch := func(queues ...string) {
		t.Helper()
		for _, name := range queues {
			list := rdb.LLen(ctx, "laravel_database_queues:"+name).Val()
			notify := rdb.LLen(ctx, "laravel_database_queues:"+name+":notify").Val()
			require.Equal(t, list, notify, "queue %s: %d ready jobs, %d notify tokens", name, list, notify)
		}
	}
	var ids []string
	for i := range 4 {
		id, err := b.Push(ctx, q, `app\job\A`, i)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	tokensMatch(q)
	require.NoError(t, b.CancelJob(ctx, ids[0]))
	tokensMatch(q)

	hour := time.Hour
	got, err := b.EditJob(ctx, ids[1], bridge.JobEdit{Delay: &hour})
	require.NoError(t, err)
	require.Equal(t, bridge.StateDelayed, got.State)
	tokensMatch(q)
	got, err = b.EditJob(ctx, ids[1], bridge.JobEdit{Front: true})
	require.NoError(t, err)
	require.Equal(t, bridge.StateReady, got.State)
	tokensMatch(q)
	head, err := b.Jobs(ctx, q, bridge.StateReady, 0, 1)
	require.NoError(t, err)
	require.Equal(t, ids[1], b.DescribeJob(head[0]).ID, "front: next to run")

	_, err = b.EditJob(ctx, ids[2], bridge.JobEdit{Queue: other})
	require.NoError(t, err)
	tokensMatch(q, other)
	moved, err := b.FindJob(ctx, ids[2])
	require.NoError(t, err)
	require.Equal(t, other, moved.Queue)

	// A data edit of a ready job keeps its place.
	_, err = b.EditJob(ctx, ids[3], bridge.JobEdit{Data: json.RawMessage(`"x"`)})
	require.NoError(t, err)
	order, err := b.Jobs(ctx, q, bridge.StateReady, 0, 10)
	require.NoError(t, err)
	require.Len(t, order, 2)
	require.Equal(t, []string{ids[1], ids[3]}, []string{b.DescribeJob(order[0]).ID, b.DescribeJob(order[1]).ID})

	n, err := b.ClearQueue(ctx, q)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	tokensMatch(q)
}

// A Laravel object job's data is PHP's: show decodes the command's properties, edit refuses new data and
// changes its time.
func TestObjectJobs(t *testing.T) {
	ctx := context.Background()
	b, _, q := openJobs(t, jobsStores[2])
	id, err := b.PushCommand(ctx, q, laravel.Command{Class: `App\Jobs\SendReport`,
		Props: []laravel.Prop{{Name: "userId", Value: int64(7)}, {Name: "title", Value: "Q3"}}, InteractsWithQueue: true, Queueable: &laravel.Queueable{}})
	require.NoError(t, err)
	info, err := b.FindJob(ctx, id)
	require.NoError(t, err)
	require.Equal(t, `App\Jobs\SendReport`, info.Name)
	var props map[string]any
	require.NoError(t, json.Unmarshal(info.Data, &props), "%s", info.Data)
	require.Equal(t, float64(7), props["userId"])
	require.Equal(t, "Q3", props["title"])

	_, err = b.EditJob(ctx, id, bridge.JobEdit{Data: json.RawMessage(`{"userId":8}`)})
	require.ErrorContains(t, err, "only changes when it runs")
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	got, err := b.EditJob(ctx, id, bridge.JobEdit{At: &at})
	require.NoError(t, err)
	require.Equal(t, bridge.StateDelayed, got.State)
	require.True(t, at.Equal(got.AvailableAt))
	require.Equal(t, string(info.Raw), string(got.Raw), "a time edit leaves the bytes as they are")
}

// A reserved job cannot be cancelled, edited or cleared: the worker running it keeps it.
func TestReservedJobIsLeftAlone(t *testing.T) {
	for _, s := range jobsStores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			b, cfg, q := openJobs(t, s)
			id, err := b.Push(ctx, q, `app\job\Slow`, "x")
			require.NoError(t, err)
			wcfg := *cfg
			wcfg.Worker = bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: time.Millisecond}
			w, err := bridge.Open(ctx, &wcfg)
			require.NoError(t, err)
			defer w.Close()
			started, release := make(chan struct{}), make(chan struct{})
			w.HandleFunc(`app\job\Slow`, func(context.Context, *bridge.Job) error {
				close(started)
				<-release
				return nil
			})
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			<-started

			info, err := b.FindJob(ctx, id)
			require.NoError(t, err)
			require.Equal(t, bridge.StateReserved, info.State)
			require.ErrorIs(t, b.CancelJob(ctx, id), bridge.ErrJobReserved)
			_, err = b.EditJob(ctx, id, bridge.JobEdit{Data: json.RawMessage(`"y"`)})
			require.ErrorIs(t, err, bridge.ErrJobReserved)
			n, err := b.ClearQueue(ctx, q)
			require.NoError(t, err)
			require.Zero(t, n)
			close(release)
			require.NoError(t, <-done)
			require.ErrorIs(t, b.CancelJob(ctx, id), bridge.ErrNoJob)
		})
	}
}

// Every bridge's workers add their processed and failed jobs to the store's per-minute trends.
func TestTrends(t *testing.T) {
	for _, s := range []jobsStore{jobsStores[2], jobsStores[3], jobsStores[4]} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b, cfg, q := openJobs(t, s)
			start := time.Now()
			for i := range 10 {
				_, err := b.Push(ctx, q, `app\job\T`, i)
				require.NoError(t, err)
			}
			for range 2 { // two bridges, like two machines
				wcfg := *cfg
				wcfg.Worker = bridge.WorkerConfig{Queues: []string{q}, Tries: 1, StopWhenEmpty: true, Sleep: time.Millisecond}
				w, err := bridge.Open(ctx, &wcfg)
				require.NoError(t, err)
				w.HandleFunc(`app\job\T`, func(_ context.Context, j *bridge.Job) error {
					if string(j.Data()) == "3" {
						return errors.New("three fails")
					}
					return nil
				})
				require.NoError(t, w.Run(ctx))
				require.NoError(t, w.Close())
				_, err = b.Push(ctx, q, `app\job\T`, 100)
				require.NoError(t, err)
			}
			points, err := b.Trends(ctx, q, start.Add(-time.Minute))
			require.NoError(t, err)
			var processed, failed int64
			for _, p := range points {
				processed += p.Processed
				failed += p.Failed
				require.False(t, p.Minute.Before(start.Truncate(time.Minute)))
			}
			require.Equal(t, int64(10), processed, "9 of the first 10 and the push after the first bridge")
			require.Equal(t, int64(1), failed)

			// bridge queues shows them, with the failed count, for a queue that still holds a job.
			_, err = b.Later(ctx, time.Hour, q, `app\job\T`, "later")
			require.NoError(t, err)
			var stdout, stderr bytes.Buffer
			args := []string{"bridge", "--connection", cfg.Connection, "--dialect", cfg.Dialect, "--failed-prefix", cfg.FailedKeyPrefix}
			if cfg.FailedTable != "" {
				args = append(args, "--failed-table", cfg.FailedTable)
			}
			code := bridge.New().RunCommand(ctx, append(args, "queues", "--json"), &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			var rows []map[string]any
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &rows))
			var row map[string]any
			for _, r := range rows {
				if r["queue"] == q {
					row = r
				}
			}
			require.NotNil(t, row, "%s", stdout.String())
			require.Equal(t, float64(1), row["delayed"])
			require.Equal(t, float64(1), row["failed"])
			require.Equal(t, 10.0/5, row["jobs_per_minute"])
		})
	}
}

// The jobs commands: list, show, edit and clear with --json; clear refuses without --yes (exit 2, one
// line); cancelling a reserved job says so and exits 1.
func TestJobsCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, cfg, q := openJobs(t, jobsStores[1])
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		full := append([]string{"bridge", "--connection", cfg.Connection, "--dialect", cfg.Dialect, "--failed-prefix", cfg.FailedKeyPrefix}, args...)
		code := bridge.New().RunCommand(ctx, full, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	first, err := b.Push(ctx, q, `app\job\Mail`, map[string]any{"to": "a"})
	require.NoError(t, err)
	_, err = b.Push(ctx, q, `app\job\Other`, "x")
	require.NoError(t, err)

	code, out, errOut := run("jobs", "list", q, "--job", `app\job\Mail`, "--json")
	require.Equal(t, 0, code, errOut)
	var listed []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &listed), out)
	require.Len(t, listed, 1)
	require.Equal(t, first, listed[0]["id"])
	require.Equal(t, float64(1), listed[0]["attempts"])

	code, out, errOut = run("jobs", "edit", first, "--delay", "60", "--data", `{"to":"b"}`, "--json")
	require.Equal(t, 0, code, errOut)
	var shown map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &shown), out)
	require.Equal(t, "delayed", shown["state"])
	require.Equal(t, map[string]any{"to": "b"}, shown["data"])
	code, out, _ = run("jobs", "show", first)
	require.Equal(t, 0, code)
	require.Contains(t, out, "State:     delayed")

	code, out, errOut = run("queue", "clear", q)
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	require.Contains(t, errOut, "--yes")
	code, out, errOut = run("queue", "clear", q, "--yes", "--json")
	require.Equal(t, 0, code, errOut)
	require.JSONEq(t, fmt.Sprintf(`{"queue":%q,"deleted":2}`, q), out)

	id, err := b.Push(ctx, q, `app\job\Slow`, "x")
	require.NoError(t, err)
	wcfg := *cfg
	wcfg.Worker = bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: time.Millisecond}
	w, err := bridge.Open(ctx, &wcfg)
	require.NoError(t, err)
	defer w.Close()
	started, release := make(chan struct{}), make(chan struct{})
	w.HandleFunc(`app\job\Slow`, func(context.Context, *bridge.Job) error {
		close(started)
		<-release
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-started
	code, _, errOut = run("jobs", "cancel", id)
	close(release)
	require.NoError(t, <-done)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "reserved by a worker")

	code, out, errOut = run("queues", "--json")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, `"queue": "`+q+`"`, "an empty queue is not listed")
}
