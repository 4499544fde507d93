package worker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	dbsql "database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
	redisstore "github.com/queuebridge/bridge/storage/redis"
	sqlstore "github.com/queuebridge/bridge/storage/sql"
	"github.com/queuebridge/bridge/worker"
)

// leaseStore is one real store for TestLeaseNeverLapses: the broker, a job to push, and a way to read
// when the store thinks a reservation lapses.
type leaseStore struct {
	broker interface {
		worker.Broker
		Push(ctx context.Context, queue string, payload []byte) error
	}
	queue   string
	payload func(seconds float64) []byte
	// lapse reads when the reservation r lapses, as the store holds it: the Redis score, or the jobs
	// table's reservation time + expire (both Unix seconds); false when it is not reserved.
	lapse func(ctx context.Context, r queue.Reservation) (int64, bool, error)
	// left counts the queue's jobs, reserved ones included.
	left func(ctx context.Context) (int64, error)
}

// TestLeaseNeverLapses runs jobs of 3–5 s with a reservation of 1 s and 2 s on Redis (think-queue 3.x and
// Laravel keys) and on jobs tables (SQLite, MariaDB) while each job's handler reads, every few
// milliseconds, when the store thinks its reservation lapses: it must never be now or earlier, or a PHP
// worker would take the job and run it a second time.
func TestLeaseNeverLapses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs jobs of several seconds")
	}
	t.Parallel()
	stores := map[string]func(t *testing.T, expire time.Duration) leaseStore{
		"redis-thinkqueue-v3": redisThinkQueueStore,
		"redis-laravel":       redisLaravelStore,
		"sqlite":              sqliteStore,
		"mariadb":             mariadbStore,
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The two lifetimes run side by side, each with its own queue and worker.
			expires := []time.Duration{time.Second, 2 * time.Second}
			results := make([]leaseResult, len(expires))
			var wg sync.WaitGroup
			for i, expire := range expires {
				s := open(t, expire)
				wg.Go(func() { results[i] = runLease(s, expire) })
			}
			wg.Wait()
			for i, r := range results {
				t.Run(fmt.Sprintf("expire=%s", expires[i]), func(t *testing.T) {
					require.NoError(t, r.err)
					require.Empty(t, r.warnings)
					require.Empty(t, r.lapses)
					require.Greater(t, r.samples, 500, "the handlers looked at their reservations")
					require.Len(t, r.runs, len(leaseDurations), "every job ran")
					for id, n := range r.runs {
						require.Equal(t, 1, n, "job %s ran once", id)
					}
					require.Zero(t, r.left, "every job was acknowledged")
				})
			}
		})
	}
}

// leaseDurations are the lease test's jobs, in seconds.
var leaseDurations = []float64{3, 4, 5}

// leaseResult is what one lease run saw.
type leaseResult struct {
	err     error
	lapses  []string
	samples int
	runs    map[string]int // job id → runs
	left    int64          // jobs left in the queue afterwards
	// warnings are what the worker logged at Warn and above.
	warnings string
}

// lockedBuffer is a bytes.Buffer for a logger that several goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runLease pushes leaseDurations' jobs and drains them with a worker whose reservations last expire.
func runLease(s leaseStore, expire time.Duration) (res leaseResult) {
	ctx := context.Background()
	for _, d := range leaseDurations {
		if res.err = s.broker.Push(ctx, s.queue, s.payload(d)); res.err != nil {
			return res
		}
	}
	var mu sync.Mutex
	var warnings lockedBuffer
	defer func() { res.warnings = warnings.String() }()
	res.runs = map[string]int{}
	handler := queue.HandlerFunc(func(ctx context.Context, job *queue.Job) error {
		var p struct {
			Data struct {
				Seconds float64 `json:"seconds"`
			} `json:"data"`
		}
		if err := json.Unmarshal(job.RawBody(), &p); err != nil {
			return err
		}
		mu.Lock()
		res.runs[job.ID()]++
		mu.Unlock()
		end := time.Now().Add(time.Duration(p.Data.Seconds * float64(time.Second)))
		for time.Now().Before(end) {
			lapse, held, err := s.lapse(ctx, job.Reservation())
			now := time.Now()
			mu.Lock()
			if n := res.runs[job.ID()]; n > 1 {
				res.lapses = append(res.lapses, fmt.Sprintf("job %s: run %d at %s while the store holds it until %d", job.ID(), n, now.Format(time.StampMilli), lapse))
			}
			res.samples++
			switch {
			case err != nil:
				res.lapses = append(res.lapses, fmt.Sprintf("job %s: read the reservation: %v", job.ID(), err))
			case !held:
				res.lapses = append(res.lapses, fmt.Sprintf("job %s: not reserved at %s", job.ID(), now.Format(time.StampMilli)))
			case lapse <= now.Unix():
				res.lapses = append(res.lapses, fmt.Sprintf("job %s: the store holds its reservation until %d, now is %s", job.ID(), lapse, now.Format(time.StampMilli)))
			}
			mu.Unlock()
			time.Sleep(3 * time.Millisecond)
		}
		return nil
	})
	w, err := worker.New(s.broker, leaseRules{}, leaseRouter{handler}, nil, &worker.Config{
		Queues:        []string{s.queue},
		Concurrency:   len(leaseDurations),
		Expire:        expire,
		Timeout:       time.Minute,
		StopWhenEmpty: true,
		Sleep:         10 * time.Millisecond,
		Memory:        -1,
		Logger:        slog.New(slog.NewTextHandler(&warnings, &slog.HandlerOptions{Level: slog.LevelWarn})),
		IDFunc:        func() string { return "failed" },
	})
	if err != nil {
		res.err = err
		return res
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// The worst case for whole-second reservations: reserved in the last instant of a second, so the store
	// holds the reservation for a little more than expire - 1s.
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(980 * time.Millisecond).Sub(now))
	if res.err = w.Run(runCtx); res.err != nil {
		return res
	}
	res.left, res.err = s.left(ctx)
	return res
}

// leaseRules reads what the lease test needs of a payload, think-queue's or Laravel's: the job name and id.
type leaseRules struct{}

func (leaseRules) NewJob(r queue.Reservation) (*queue.Job, error) {
	var p struct {
		Job string `json:"job"`
		ID  string `json:"id"`
	}
	if err := json.Unmarshal(r.Raw, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		p.ID = string(r.Member) // a jobs table's row id
	}
	return queue.NewJob(queue.JobParams{Reservation: r, Name: p.Job, ID: p.ID, Attempts: 1}), nil
}

func (leaseRules) CheckBeforeRun(*queue.Job, int, time.Time) error { return nil }
func (leaseRules) FailAfterError(_ context.Context, _ *queue.Job, err error, _ int, _ time.Time) error {
	return err
}
func (leaseRules) RetryDelay(*queue.Job, error, []time.Duration, time.Time) time.Duration { return 0 }
func (leaseRules) ReleasedCopy(r queue.Reservation) ([]byte, error)                       { return r.Raw, nil }
func (leaseRules) ExceptionText(err error) string                                         { return err.Error() }

// leaseRouter runs every job with one handler.
type leaseRouter struct{ h queue.Handler }

func (r leaseRouter) Lookup(*queue.Job) (queue.Handler, bool) { return r.h, true }

const leaseJob = `app\job\Slow`

func uniqueName(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "qbtest.lease." + strings.NewReplacer("/", ".", "=", "").Replace(t.Name()) + "." + hex.EncodeToString(b[:])
}

func redisClient(t *testing.T) *goredis.Client {
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr, DB: 3})
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Ping(context.Background()).Err(), "Redis at %s (set QB_REDIS_ADDR)", addr)
	return client
}

// redisLapse reads a reservation's score in the reserved set.
func redisLapse(client *goredis.Client, reserved string) func(context.Context, queue.Reservation) (int64, bool, error) {
	return func(ctx context.Context, r queue.Reservation) (int64, bool, error) {
		score, err := client.ZScore(ctx, reserved, string(r.Member)).Result()
		if err == goredis.Nil {
			return 0, false, nil
		}
		return int64(score), err == nil, err
	}
}

// redisLeft counts a queue's ready, delayed and reserved jobs.
func redisLeft(client *goredis.Client, list, delayed, reserved string) func(context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		var n int64
		for _, c := range []*goredis.IntCmd{client.LLen(ctx, list), client.ZCard(ctx, delayed), client.ZCard(ctx, reserved)} {
			if err := c.Err(); err != nil {
				return 0, err
			}
			n += c.Val()
		}
		return n, nil
	}
}

func redisThinkQueueStore(t *testing.T, expire time.Duration) leaseStore {
	client := redisClient(t)
	d := thinkqueue.Dialect{Version: thinkqueue.V3, Keys: thinkqueue.KeysHashTag}
	name := uniqueName(t)
	b, err := redisstore.New(client, d, &redisstore.Config{Expire: expire, FailedKeyPrefix: name})
	require.NoError(t, err)
	list, delayed, reserved := d.QueueKeys(name)
	t.Cleanup(func() {
		client.Del(context.Background(), list, delayed, reserved, "{"+name+":failed}", "{"+name+":failed}:index")
	})
	return leaseStore{broker: b, queue: name, lapse: redisLapse(client, reserved), left: redisLeft(client, list, delayed, reserved),
		payload: func(seconds float64) []byte {
			p, err := d.NewPayload(leaseJob, map[string]any{"seconds": seconds}, thinkqueue.NewID())
			require.NoError(t, err)
			return p
		}}
}

func redisLaravelStore(t *testing.T, expire time.Duration) leaseStore {
	client := redisClient(t)
	name := uniqueName(t)
	d := laravel.Dialect{Version: laravel.V11, Prefix: name + "_"}
	b, err := redisstore.New(client, d, &redisstore.Config{Expire: expire, FailedKeyPrefix: name})
	require.NoError(t, err)
	list, delayed, reserved := d.QueueKeys("default")
	t.Cleanup(func() {
		client.Del(context.Background(), list, delayed, reserved, d.NotifyKey("default"), "{"+name+":failed}", "{"+name+":failed}:index")
	})
	return leaseStore{broker: b, queue: "default", lapse: redisLapse(client, reserved), left: redisLeft(client, list, delayed, reserved),
		payload: func(seconds float64) []byte {
			p, err := d.NewStringPayload(leaseJob, map[string]any{"seconds": seconds}, laravel.PayloadParams{Redis: true})
			require.NoError(t, err)
			return p
		}}
}

// sqlLapse reads a jobs table's reservation time (column col) + expire.
func sqlLapse(db *dbsql.DB, table, col string, expire time.Duration) func(context.Context, queue.Reservation) (int64, bool, error) {
	q := "SELECT " + col + " FROM " + table + " WHERE id = ?"
	return func(ctx context.Context, r queue.Reservation) (int64, bool, error) {
		var at dbsql.NullInt64
		if err := db.QueryRowContext(ctx, q, string(r.Member)).Scan(&at); err != nil {
			if err == dbsql.ErrNoRows {
				return 0, false, nil
			}
			return 0, false, err
		}
		return at.Int64 + int64(expire/time.Second), at.Valid, nil
	}
}

func sqlStore(t *testing.T, dsn string, raw *dbsql.DB, layout jobstable.Jobs, expire time.Duration, payload func(seconds float64) []byte) leaseStore {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn, &sqlstore.Options{Create: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.MigrateJobs(ctx, layout, "jobs", false)
	require.NoError(t, err)
	b, err := db.Jobs(ctx, layout, "jobs", &sqlstore.JobsConfig{Expire: expire})
	require.NoError(t, err)
	col := layout.ReservedAt
	return leaseStore{broker: b, queue: "default", payload: payload, lapse: sqlLapse(raw, "jobs", col, expire),
		left: func(ctx context.Context) (int64, error) { return b.Size(ctx, "default") }}
}

func sqliteStore(t *testing.T, expire time.Duration) leaseStore {
	path := filepath.Join(t.TempDir(), "app.db")
	raw, err := dbsql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	d := thinkqueue.Dialect{Version: thinkqueue.V3, Keys: thinkqueue.KeysHashTag}
	return sqlStore(t, "sqlite:"+path, raw, thinkqueue.V3.JobsTable(), expire, func(seconds float64) []byte {
		p, err := d.NewDBPayload(leaseJob, map[string]any{"seconds": seconds})
		require.NoError(t, err)
		return p
	})
}

func mariadbStore(t *testing.T, expire time.Duration) leaseStore {
	ctx := context.Background()
	dsn := os.Getenv("QB_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/"
	}
	server, err := mysql.ParseDSN(dsn)
	require.NoError(t, err, "QB_MYSQL_DSN")
	admin, err := dbsql.Open("mysql", server.FormatDSN())
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "qb_lease_" + hex.EncodeToString(b[:])
	_, err = admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	require.NoError(t, err, "MariaDB at %s (set QB_MYSQL_DSN)", server.Addr)
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	own := server.Clone()
	own.DBName = name
	raw, err := dbsql.Open("mysql", own.FormatDSN())
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	user := own.User
	if own.Passwd != "" {
		user += ":" + own.Passwd
	}
	d := laravel.Dialect{Version: laravel.V11, Prefix: laravel.DefaultPrefix}
	return sqlStore(t, "mysql://"+user+"@"+own.Addr+"/"+name, raw, laravel.JobsTable(), expire, func(seconds float64) []byte {
		p, err := d.NewStringPayload(leaseJob, map[string]any{"seconds": seconds}, laravel.PayloadParams{})
		require.NoError(t, err)
		return p
	})
}
