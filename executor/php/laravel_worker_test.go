package php

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// TestMatchesLaravelWorker pushes a job with the real framework (the harness's dispatch.php), runs that exact
// payload through the executor, then lets Laravel's own `queue:work --once` (work.php) run it from Redis, and
// compares: what the job recorded (App\Support\Recorder) and what became of it. Needs Redis (QB_REDIS_ADDR,
// default 127.0.0.1:6379, database QB_REDIS_DB, default 3); skipped without it.
func TestMatchesLaravelWorker(t *testing.T) {
	needPHP(t)
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	db := 3
	if s := os.Getenv("QB_REDIS_DB"); s != "" {
		db, _ = strconv.Atoi(s)
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Skipf("no Redis at %s: %v", addr, err)
	}
	host, port, _ := strings.Cut(addr, ":")

	const tries = 3
	for _, tc := range []struct {
		name, class string
		set         []string
		records     []string // Recorder outcomes, the same under both
		outcome     queue.Outcome
		delay       time.Duration
		exception   string // class: message of the exception (returned, and Laravel's JobExceptionOccurred)
		laravel     []string
	}{
		{name: "ok", class: "Record", records: []string{"ok"}, outcome: queue.OutcomeDeleted,
			laravel: []string{"JobProcessing", "JobProcessed"}},
		{name: "release", class: "Record", set: []string{"releaseTimes=1", "releaseDelay=17"}, records: []string{"release"},
			outcome: queue.OutcomeReleased, delay: 17 * time.Second,
			laravel: []string{"JobProcessing", "JobProcessed", "JobReleased"}},
		{name: "throw", class: "Record", set: []string{"failTimes=1"}, records: []string{"throw"},
			outcome: queue.OutcomeNone, exception: "RuntimeException: Record 1 fails on attempt 1",
			laravel: []string{"JobProcessing", "JobExceptionOccurred", "JobReleased"}},
		{name: "throw on the last try", class: "Record", set: []string{"failTimes=1", "tries=1"},
			records: []string{"throw", "failed"}, outcome: queue.OutcomeFailed,
			exception: "RuntimeException: Record 1 fails on attempt 1",
			laravel:   []string{"JobProcessing", "JobFailed", "JobExceptionOccurred"}},
		{name: "fail()", class: "FailsManually", records: []string{"fail", "failed"}, outcome: queue.OutcomeFailed,
			laravel: []string{"JobProcessing", "JobFailed", "JobProcessed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rnd [6]byte
			_, _ = rand.Read(rnd[:])
			prefix := "qbexec." + hex.EncodeToString(rnd[:]) + ":"
			logKey := prefix + "records"
			tmp := t.TempDir()
			vars := []string{"REDIS_HOST=" + host, "REDIS_PORT=" + port, "REDIS_DB=" + strconv.Itoa(db),
				"REDIS_CACHE_DB=" + strconv.Itoa(db), "REDIS_PREFIX=" + prefix, "REDIS_QUEUE=default",
				"DB_SQLITE_PATH=" + filepath.Join(tmp, "app.sqlite"), "APP_STORAGE=" + tmp, "QB_QUIET_REPORTS=1"}
			t.Cleanup(func() {
				ctx := context.Background()
				keys, _ := rdb.Keys(ctx, prefix+"*").Result()
				if len(keys) > 0 {
					rdb.Del(ctx, keys...)
				}
			})
			app, err := filepath.Abs("../../integration/testdata/laravel")
			require.NoError(t, err)
			php := func(script string, args ...string) []byte {
				cmd := exec.Command("php", append([]string{filepath.Join(app, script)}, args...)...)
				cmd.Env = append(os.Environ(), vars...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				require.NoError(t, err, "php %s %v\n%s\n%s", script, args, out, stderr.String())
				return out
			}
			records := func() []string {
				items, err := rdb.LRange(context.Background(), logKey, 0, -1).Result()
				require.NoError(t, err)
				require.NoError(t, rdb.Del(context.Background(), logKey).Err())
				var out []string
				for _, it := range items {
					var r struct{ Outcome string }
					require.NoError(t, json.Unmarshal([]byte(it), &r))
					out = append(out, r.Outcome)
				}
				return out
			}

			args := []string{"--objects=1", "--class=" + tc.class, "--log=" + logKey, "--raw"}
			for _, s := range tc.set {
				args = append(args, "--set="+s)
			}
			var pushed struct {
				ID, UUID, Raw, Class string
			}
			require.NoError(t, json.Unmarshal(bytes.TrimSpace(php("dispatch.php", args...)), &pushed))

			// The executor, on the payload as pushed, attempt 1 (as RedisJob sees its first reservation).
			o, _ := testOptions(t, ModePerJob)
			o.Env = vars
			o.Tries = tries
			e := newExec(t, o)
			job := queue.NewJob(queue.JobParams{Reservation: queue.Reservation{Queue: "default", Raw: []byte(pushed.Raw)},
				Name: pushed.Class, ID: pushed.ID, UUID: pushed.UUID, Attempts: 1})
			err = run(t, e, job, 30*time.Second)
			out, delay, reason := job.Outcome()
			require.Equal(t, tc.outcome, out)
			require.Equal(t, tc.delay, delay)
			if tc.exception != "" {
				require.EqualError(t, err, tc.exception)
			} else {
				require.NoError(t, err)
			}
			if out == queue.OutcomeFailed {
				require.Error(t, reason)
			}
			require.Equal(t, tc.records, records(), "executor's run")

			// Laravel's own worker on the same job, from Redis.
			var events []string
			var exc, released string
			sc := bufio.NewScanner(bytes.NewReader(php("work.php", "redis", "--queue=default", "--once",
				"--tries="+strconv.Itoa(tries))))
			for sc.Scan() {
				var ev struct {
					Event, Exception, Message string
					AvailableAt               *int64 `json:"available_at"`
					Now                       int64
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
				switch ev.Event {
				case "exit", "WorkerStopping":
					continue
				case "JobExceptionOccurred":
					exc = ev.Exception + ": " + ev.Message
				case "JobReleased":
					if ev.AvailableAt != nil {
						released = (time.Duration(*ev.AvailableAt-ev.Now) * time.Second).String()
					}
				}
				events = append(events, ev.Event)
			}
			require.Equal(t, tc.laravel, events)
			require.Equal(t, tc.records, records(), "Laravel's run")
			if tc.exception != "" {
				require.Equal(t, tc.exception, exc)
			}
			if tc.outcome == queue.OutcomeReleased {
				require.Equal(t, tc.delay.String(), released)
			}
			if tc.outcome == queue.OutcomeFailed {
				var rows []struct{ Exception string }
				sc := bufio.NewScanner(bytes.NewReader(php("db.php", "failed")))
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					var r struct{ Exception string }
					require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
					rows = append(rows, r)
				}
				require.Len(t, rows, 1)
				var ex *Exception
				require.ErrorAs(t, reason, &ex)
				// Same exception, same text up to the frames below the worker (paths and line numbers differ).
				head := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }
				require.Equal(t, head(rows[0].Exception), head(ex.Text))
			}
		})
	}
}
