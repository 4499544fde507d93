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

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/queue"
)

// TestMatchesLaravelWorker pushes a job with the real framework (the harness's dispatch.php), runs that exact
// payload through the executor, then lets Laravel's own `queue:work --once` (work.php) run it from Redis, and
// compares: what the job recorded (App\Support\Recorder) and what became of it. The misbehaving jobs compare
// what can be compared: a job past its timeout (Laravel's worker fails it with failOnTimeout and kills itself;
// the executor's process is killed and the bridge fails it through Failed), one that prints, one that leaks
// memory (a memory ceiling stops Laravel's worker and recycles the executor's process after it), one that calls
// exit() (both processes die mid-job; the job stays reserved). Needs Redis (QB_REDIS_ADDR,
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
		// The misbehaving jobs: QBExec\Jobs\Misbehave (testdata/jobs) or App\Jobs\Record past its timeout.
		pool       bool          // run on a Pool (default: PerJob)
		memory     int64         // the executor's Memory ceiling
		timeout    time.Duration // the job's context (the bridge: the payload's timeout); 0 means 30 s
		timedOut   bool          // ProcessJob returns ErrTimeout; the bridge then fails the job with MaxAttemptsExceeded
		crash      bool          // ProcessJob returns a *CrashError; the job stays reserved under Laravel
		recycled   string        // the pool recycles its process after the job, for this reason
		failedExc  string        // class: message failed() got (records "failed")
		output     []string      // lines the job prints on stdout, in Laravel's output and the executor's log
		work       []string      // work.php's options (default --once)
		exitStatus int           // work.php's exit status
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
		// queue:work --once registers no timeout handler in 8.83: the daemon (--max-jobs=1) does. Its SIGALRM
		// handler fails the job (failOnTimeout: MaxAttemptsExceededException, failed() runs) and SIGKILLs the
		// worker; the executor's process is killed at the job's deadline and the bridge fails the job.
		{name: "timeout", class: "Record", set: []string{"sleepMs=6000", "timeout=2", "failOnTimeout=true"},
			pool: true, timeout: 2 * time.Second, timedOut: true, records: []string{"start", "failed"},
			outcome: queue.OutcomeFailed,
			failedExc: `Illuminate\Queue\MaxAttemptsExceededException: App\Jobs\Record has been attempted too many ` +
				`times or run too long. The job may have previously timed out.`,
			laravel: []string{"JobProcessing", "JobFailed", "WorkerStopping"},
			work:    []string{"--max-jobs=1", "--sleep=0"}, exitStatus: 137},
		{name: "prints", class: `QBExec\Jobs\Misbehave`, set: []string{"what=print"}, records: []string{"ok"},
			outcome: queue.OutcomeDeleted, output: []string{"misbehave echoed", "misbehave printed", "misbehave stdout"},
			laravel: []string{"JobProcessing", "JobProcessed"}},
		// 20 MB kept in a static against a 16 MB ceiling (the app alone uses about 6 MB).
		{name: "leaks memory", class: `QBExec\Jobs\Misbehave`, set: []string{"what=leak", "mb=20"}, records: []string{"ok"},
			outcome: queue.OutcomeDeleted, pool: true, memory: 16 << 20, recycled: "memory",
			laravel: []string{"JobProcessing", "JobProcessed", "WorkerStopping"},
			work:    []string{"--max-jobs=1", "--sleep=0", "--memory=16"}, exitStatus: 12},
		{name: "exit()", class: `QBExec\Jobs\Misbehave`, set: []string{"what=exit"}, records: []string{"start"},
			outcome: queue.OutcomeNone, pool: true, crash: true, output: []string{"misbehave exits"},
			laravel: []string{"JobProcessing"}, exitStatus: 3},
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
			// dispatch.php and work.php through testdata/laravel: the harness's scripts with QBExec\Jobs loadable.
			scripts, err := filepath.Abs("testdata/laravel")
			require.NoError(t, err)
			phpStatus := func(status int, script string, args ...string) []byte {
				dir := app
				if script != "db.php" {
					dir = scripts
				}
				cmd := exec.Command("php", append([]string{filepath.Join(dir, script)}, args...)...)
				cmd.Env = append(os.Environ(), vars...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if status == 0 {
					require.NoError(t, err, "php %s %v\n%s\n%s", script, args, out, stderr.String())
				} else {
					var ee *exec.ExitError
					require.ErrorAs(t, err, &ee, "php %s %v\n%s\n%s", script, args, out, stderr.String())
					if status == 137 {
						require.Equal(t, "signal: killed", ee.Error())
					} else {
						require.Equal(t, status, ee.ExitCode(), "php %s %v\n%s\n%s", script, args, out, stderr.String())
					}
				}
				return out
			}
			php := func(script string, args ...string) []byte { return phpStatus(0, script, args...) }
			var failedWith []string // what failed() got, per "failed" record
			records := func() []string {
				items, err := rdb.LRange(context.Background(), logKey, 0, -1).Result()
				require.NoError(t, err)
				require.NoError(t, rdb.Del(context.Background(), logKey).Err())
				var out []string
				for _, it := range items {
					var r struct{ Outcome, Exception string }
					require.NoError(t, json.Unmarshal([]byte(it), &r))
					out = append(out, r.Outcome)
					if r.Outcome == "failed" {
						failedWith = append(failedWith, r.Exception)
					}
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
			mode := ModePerJob
			if tc.pool {
				mode = ModePool
			}
			o, lb := testOptions(t, mode)
			o.Env = vars
			o.Tries = tries
			o.Memory = tc.memory
			e := newExec(t, o)
			job := queue.NewJob(queue.JobParams{Reservation: queue.Reservation{Queue: "default", Raw: []byte(pushed.Raw)},
				Name: pushed.Class, ID: pushed.ID, UUID: pushed.UUID, Attempts: 1})
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 30 * time.Second
			}
			err = run(t, e, job, timeout)
			var pid int // the process that ran the job (crash, timeout)
			switch {
			case tc.timedOut:
				require.ErrorIs(t, err, ErrTimeout)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				out, _, _ := job.Outcome()
				require.Equal(t, queue.OutcomeNone, out, "not completed")
				// The bridge's decision: past its timeout with failOnTimeout, the job fails, as
				// MaxAttemptsExceeded, and the app's failure hooks run.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				e.(queue.FailedHandler).Failed(ctx, job, &laravel.MaxAttemptsExceededError{Name: pushed.Class})
				cancel()
			case tc.crash:
				var crash *CrashError
				require.ErrorAs(t, err, &crash)
				require.Contains(t, crash.Status, "exit status 3")
				pid = crash.PID
			case tc.exception != "":
				require.EqualError(t, err, tc.exception)
			default:
				require.NoError(t, err)
			}
			out, delay, reason := job.Outcome()
			require.Equal(t, tc.outcome, out)
			require.Equal(t, tc.delay, delay)
			if out == queue.OutcomeFailed {
				require.Error(t, reason)
			}
			require.Equal(t, tc.records, records(), "executor's run")
			execFailed := failedWith
			failedWith = nil
			if tc.recycled != "" {
				require.Eventually(t, func() bool {
					return strings.Contains(lb.String(), `"msg":"php runner recycled"`) &&
						strings.Contains(lb.String(), `"why":"`+tc.recycled+`"`)
				}, 5*time.Second, 20*time.Millisecond, "log: %s", lb.String())
			}
			for _, line := range tc.output {
				require.Eventually(t, func() bool {
					for _, l := range lb.Lines(t) {
						if l.Msg == "php job output" && l.Job == job.ID() && l.Line == line {
							return true
						}
					}
					return false
				}, 5*time.Second, 20*time.Millisecond, "%q in the log: %s", line, lb.String())
			}
			if tc.crash || tc.timedOut || tc.recycled != "" {
				// The process is replaced: the next job runs in another one.
				if pid == 0 {
					for _, l := range lb.Lines(t) {
						if l.Msg == "php runner replaced" || l.Msg == "php runner recycled" {
							pid = l.PID
						}
					}
				}
				require.NotZero(t, pid, "log: %s", lb.String())
				next := queue.NewJob(queue.JobParams{Reservation: queue.Reservation{Queue: "default",
					Raw: []byte(pushed.Raw)}, Name: pushed.Class, ID: pushed.ID + "-next", UUID: pushed.UUID, Attempts: 1})
				_ = run(t, e, next, 30*time.Second) // the same misbehaviour; only its process matters
				_ = records()
				failedWith = nil
				var nextPID int
				for _, l := range lb.Lines(t) {
					if l.Msg == "php runner replaced" || l.Msg == "php runner recycled" {
						if l.PID != pid {
							nextPID = l.PID
						}
					}
				}
				if nextPID == 0 {
					// Not ended by its job: it is the pool's current process. It is not the old one.
					for _, l := range lb.Lines(t) {
						if l.Job == next.ID() && l.PID != 0 {
							nextPID = l.PID
						}
					}
				}
				require.NotEqual(t, pid, nextPID, "a new process after the job")
			}

			// Laravel's own worker on the same job, from Redis.
			var events []string
			var exc, released string
			work := tc.work
			if work == nil {
				work = []string{"--once"}
			}
			var printed []string
			sc := bufio.NewScanner(bytes.NewReader(phpStatus(tc.exitStatus, "work.php",
				append([]string{"redis", "--queue=default", "--tries=" + strconv.Itoa(tries)}, work...)...)))
			for sc.Scan() {
				if !bytes.HasPrefix(sc.Bytes(), []byte("{")) {
					printed = append(printed, sc.Text()) // the job's own output
					continue
				}
				var ev struct {
					Event, Exception, Message string
					AvailableAt               *int64 `json:"available_at"`
					Now                       int64
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
				switch ev.Event {
				case "exit":
					continue
				case "WorkerStopping":
					if tc.exitStatus == 0 {
						continue // --once stops every time
					}
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
			for _, line := range tc.output {
				require.Contains(t, printed, line, "Laravel's output")
			}
			if tc.failedExc != "" {
				require.Equal(t, []string{tc.failedExc}, failedWith, "failed() under Laravel")
				// Under the executor failed() gets the same exception: class and message.
				require.Equal(t, []string{tc.failedExc}, execFailed, "failed() under the executor")
			}
			if tc.crash {
				// Neither acknowledged the job: Laravel's stays reserved (until retry_after), the executor's
				// has no outcome.
				ctx := context.Background()
				n, err := rdb.ZCard(ctx, prefix+"queues:default:reserved").Result()
				require.NoError(t, err)
				require.EqualValues(t, 1, n, "reserved under Laravel")
				n, err = rdb.LLen(ctx, prefix+"queues:default").Result()
				require.NoError(t, err)
				require.Zero(t, n)
			}
			if tc.exception != "" {
				require.Equal(t, tc.exception, exc)
			}
			if tc.outcome == queue.OutcomeReleased {
				// Laravel's listener reads now after the release, in whole seconds: it may be the next second.
				require.Contains(t, []string{tc.delay.String(), (tc.delay - time.Second).String()}, released)
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
				if tc.timedOut {
					// The bridge's reason, as PHP's class and message; Laravel's row is (string)$e.
					var exceeded *laravel.MaxAttemptsExceededError
					require.ErrorAs(t, reason, &exceeded)
					require.Equal(t, tc.failedExc, exceeded.PHPClass()+": "+exceeded.Error())
					require.True(t, strings.HasPrefix(rows[0].Exception, tc.failedExc+" in "), rows[0].Exception)
					return
				}
				var ex *Exception
				require.ErrorAs(t, reason, &ex)
				// Same exception, same text up to the frames below the worker (paths and line numbers differ).
				head := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }
				require.Equal(t, head(rows[0].Exception), head(ex.Text))
			}
		})
	}
}
