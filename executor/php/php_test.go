package php

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/queue"
	"github.com/stretchr/testify/require"
)

// The tests run real PHP on the integration harness's real Laravel 8.83 app (testdata/boot.php); they are
// skipped when php or the framework is missing.

const actClass = `QBExec\Jobs\Act`

func needPHP(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("php"); err != nil {
		t.Skip("no php on PATH")
	}
	if _, err := os.Stat("/usr/share/php/Illuminate/autoload.php"); err != nil && os.Getenv("ILLUMINATE_AUTOLOAD") == "" {
		t.Skip("no Laravel framework (php-laravel-framework)")
	}
}

// logBuf is a concurrency-safe slog sink.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type logLine struct {
	Msg    string `json:"msg"`
	Job    string `json:"job"`
	Stream string `json:"stream"`
	Line   string `json:"line"`
	PID    int    `json:"pid"`
}

func (l *logBuf) Lines(t testing.TB) []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	for sc.Scan() {
		var ll logLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ll))
		out = append(out, ll)
	}
	return out
}

func testOptions(t testing.TB, mode Mode) (Options, *logBuf) {
	t.Helper()
	needPHP(t)
	boot, err := filepath.Abs("testdata/boot.php")
	require.NoError(t, err)
	app, err := filepath.Abs("../../integration/testdata/laravel")
	require.NoError(t, err)
	tmp := t.TempDir()
	lb := &logBuf{}
	return Options{
		App:     app,
		Boot:    boot,
		Workers: 1,
		Mode:    mode,
		Logger:  slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Env: []string{
			"DB_SQLITE_PATH=" + filepath.Join(tmp, "app.sqlite"),
			"APP_STORAGE=" + tmp,
			"QB_QUIET_REPORTS=1",
		},
	}, lb
}

func newExec(t testing.TB, o Options) Executor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := New(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

var dialect = laravel.Dialect{Version: laravel.V8}

// actJob is a Redis-queue Act job as Laravel 8 would push it, reserved for attempt `attempts`.
func actJob(t testing.TB, mark, what string, delay int, tries *int, attempts int) *queue.Job {
	t.Helper()
	cmd := laravel.Command{
		Class: actClass,
		Props: []laravel.Prop{
			{Name: "mark", Value: mark},
			{Name: "what", Value: what},
			{Name: "wait", Value: delay},
		},
		InteractsWithQueue: true,
		Queueable:          &laravel.Queueable{},
		Tries:              tries,
	}
	id := laravel.NewID()
	raw, err := dialect.NewObjectPayload(cmd, laravel.PayloadParams{Redis: true, ID: id})
	require.NoError(t, err)
	return queue.NewJob(queue.JobParams{
		Reservation: queue.Reservation{Queue: "default", Raw: raw},
		Name:        actClass, ID: id, Attempts: attempts,
	})
}

type mark struct {
	Event      string         `json:"event"`
	PID        int            `json:"pid"`
	What       string         `json:"what"`
	Attempts   int            `json:"attempts"`
	Queue      string         `json:"queue"`
	Connection string         `json:"connection"`
	ID         string         `json:"id"`
	Exception  string         `json:"exception"`
	Data       map[string]any `json:"data"`
}

func readMarks(t testing.TB, file string) []mark {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var out []mark
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var m mark
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func events(ms []mark) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Event)
	}
	return out
}

func run(t testing.TB, e Executor, job *queue.Job, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return e.ProcessJob(ctx, job)
}

func modes(t *testing.T, f func(t *testing.T, mode Mode)) {
	t.Run("pool", func(t *testing.T) { t.Parallel(); f(t, ModePool) })
	t.Run("per-job", func(t *testing.T) { t.Parallel(); f(t, ModePerJob) })
}

func ptr[T any](v T) *T { return &v }

// Laravel's worker on each outcome (Worker::process + RedisJob): deleted after a clean run; released with
// the job's delay after release(); an exception goes back for the retry policy (here: the bridge's dialect),
// or fails the job, running failed(), when it was the last try; fail() fails and runs failed().
func TestOutcomes(t *testing.T) {
	modes(t, func(t *testing.T, mode Mode) {
		o, _ := testOptions(t, mode)
		e := newExec(t, o)
		dir := t.TempDir()

		t.Run("success deletes", func(t *testing.T) {
			f := filepath.Join(dir, "ok")
			job := actJob(t, f, "ok", 0, nil, 1)
			require.NoError(t, run(t, e, job, 30*time.Second))
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeDeleted, out)
			ms := readMarks(t, f)
			require.Equal(t, []string{"start", "ok"}, events(ms))
			require.Equal(t, 1, ms[0].Attempts)
			require.Equal(t, "default", ms[0].Queue)
			require.Equal(t, "redis", ms[0].Connection)
			require.Equal(t, job.ID(), ms[0].ID)
		})
		t.Run("attempts are the job's", func(t *testing.T) {
			f := filepath.Join(dir, "attempts")
			job := actJob(t, f, "ok", 0, nil, 4)
			require.NoError(t, run(t, e, job, 30*time.Second))
			require.Equal(t, 4, readMarks(t, f)[0].Attempts)
		})
		t.Run("release keeps its delay", func(t *testing.T) {
			f := filepath.Join(dir, "release")
			job := actJob(t, f, "release", 42, nil, 1)
			require.NoError(t, run(t, e, job, 30*time.Second))
			out, delay, _ := job.Outcome()
			require.Equal(t, queue.OutcomeReleased, out)
			require.Equal(t, 42*time.Second, delay)
		})
		t.Run("throw returns the exception", func(t *testing.T) {
			f := filepath.Join(dir, "throw")
			job := actJob(t, f, "throw", 0, ptr(3), 1)
			err := run(t, e, job, 30*time.Second)
			var ex *Exception
			require.ErrorAs(t, err, &ex)
			require.Equal(t, "RuntimeException", ex.Class)
			require.Equal(t, "Act throws on attempt 1", ex.Message)
			require.True(t, strings.HasPrefix(ex.Text, "RuntimeException: Act throws on attempt 1 in "), ex.Text)
			require.Contains(t, ex.Text, "Stack trace:\n#0 ")
			require.Contains(t, ex.Text, "Illuminate\\Queue\\CallQueuedHandler->call(")
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeNone, out, "not the last try: the retry policy decides")
			require.Equal(t, []string{"start"}, events(readMarks(t, f)))
		})
		t.Run("throw on the last try fails and runs failed()", func(t *testing.T) {
			f := filepath.Join(dir, "lasttry")
			job := actJob(t, f, "throw", 0, ptr(2), 2)
			err := run(t, e, job, 30*time.Second)
			var ex *Exception
			require.ErrorAs(t, err, &ex)
			out, _, reason := job.Outcome()
			require.Equal(t, queue.OutcomeFailed, out)
			require.EqualError(t, reason, "RuntimeException: Act throws on attempt 2")
			ms := readMarks(t, f)
			require.Equal(t, []string{"start", "failed"}, events(ms))
			require.Equal(t, "RuntimeException: Act throws on attempt 2", ms[1].Exception)
		})
		t.Run("fail() fails and runs failed()", func(t *testing.T) {
			f := filepath.Join(dir, "fail")
			job := actJob(t, f, "fail", 0, ptr(5), 1)
			require.NoError(t, run(t, e, job, 30*time.Second))
			out, _, reason := job.Outcome()
			require.Equal(t, queue.OutcomeFailed, out)
			var ex *Exception
			require.ErrorAs(t, reason, &ex)
			require.Equal(t, "Act gives up on attempt 1", ex.Message)
			require.Equal(t, []string{"start", "failed"}, events(readMarks(t, f)))
		})
		t.Run("already past its tries fails before running", func(t *testing.T) {
			f := filepath.Join(dir, "past")
			job := actJob(t, f, "ok", 0, ptr(1), 2)
			err := run(t, e, job, 30*time.Second)
			var ex *Exception
			require.ErrorAs(t, err, &ex)
			require.Equal(t, `Illuminate\Queue\MaxAttemptsExceededException`, ex.Class)
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeFailed, out)
			require.Equal(t, []string{"failed"}, events(readMarks(t, f)))
		})
		t.Run("string job", func(t *testing.T) {
			f := filepath.Join(dir, "legacy")
			raw, err := dialect.NewStringPayload(`QBExec\Jobs\Legacy@handle`, map[string]any{"mark": f, "n": int64(7)},
				laravel.PayloadParams{Redis: true})
			require.NoError(t, err)
			job := queue.NewJob(queue.JobParams{Reservation: queue.Reservation{Queue: "default", Raw: raw},
				Name: `QBExec\Jobs\Legacy@handle`, Attempts: 1})
			require.NoError(t, run(t, e, job, 30*time.Second))
			out, _, _ := job.Outcome()
			require.Equal(t, queue.OutcomeDeleted, out)
			ms := readMarks(t, f)
			require.Equal(t, []string{"legacy"}, events(ms))
			require.EqualValues(t, 7, ms[0].Data["n"])
		})
	})
}

func TestOutputIsCaptured(t *testing.T) {
	modes(t, func(t *testing.T, mode Mode) {
		o, lb := testOptions(t, mode)
		e := newExec(t, o)
		f := filepath.Join(t.TempDir(), "print")
		job := actJob(t, f, "print", 0, nil, 1)
		require.NoError(t, run(t, e, job, 30*time.Second))
		out, _, _ := job.Outcome()
		require.Equal(t, queue.OutcomeDeleted, out)
		require.Equal(t, []string{"start", "ok"}, events(readMarks(t, f)))
		// The next job's result is not disturbed either.
		next := actJob(t, f, "ok", 0, nil, 1)
		require.NoError(t, run(t, e, next, 30*time.Second))
		want := map[string]bool{"printed noise": false, "stdout noise": false, "stderr noise": false}
		require.Eventually(t, func() bool {
			for _, l := range lb.Lines(t) {
				if _, ok := want[l.Line]; ok && l.Msg == "php job output" && l.Job == job.ID() {
					want[l.Line] = true
				}
			}
			for _, seen := range want {
				if !seen {
					return false
				}
			}
			return true
		}, 5*time.Second, 20*time.Millisecond, "log: %s", lb.String())
		require.Contains(t, lb.String(), `echoed noise`)
	})
}

// A payload larger than a pipe holds reaches the runner whole, and so does the next one.
func TestBigPayload(t *testing.T) {
	o, _ := testOptions(t, ModePool)
	e := newExec(t, o)
	f := filepath.Join(t.TempDir(), "big")
	for range 2 {
		src := actJob(t, f, "ok", 0, nil, 1)
		raw := append([]byte(`{"padding":"`+strings.Repeat("p", 1<<20)+`",`), src.RawBody()[1:]...)
		job := queue.NewJob(queue.JobParams{Reservation: queue.Reservation{Queue: "default", Raw: raw},
			Name: src.Name(), ID: src.ID(), Attempts: 1})
		require.NoError(t, run(t, e, job, 30*time.Second))
		out, _, _ := job.Outcome()
		require.Equal(t, queue.OutcomeDeleted, out)
	}
	require.Equal(t, []string{"start", "ok", "start", "ok"}, events(readMarks(t, f)))
}

// A job that writes more than a pipe holds is not blocked, and all it wrote, a last line without its newline
// included, is logged under it, not under the next job.
func TestOutputFloodIsCaptured(t *testing.T) {
	modes(t, func(t *testing.T, mode Mode) {
		o, lb := testOptions(t, mode)
		e := newExec(t, o)
		f := filepath.Join(t.TempDir(), "flood")
		const lines = 1000 // 1 MB: 16 times what a pipe holds
		job := actJob(t, f, "flood", lines, nil, 1)
		require.NoError(t, run(t, e, job, 30*time.Second))
		next := actJob(t, f, "print", 0, nil, 1)
		require.NoError(t, run(t, e, next, 30*time.Second))
		require.Equal(t, []string{"start", "ok", "start", "ok"}, events(readMarks(t, f)))
		flood, ends := 0, ""
		for _, l := range lb.Lines(t) {
			if l.Msg != "php job output" {
				continue
			}
			switch {
			case strings.HasPrefix(l.Line, "flood 0"):
				require.Equal(t, job.ID(), l.Job, l.Line)
				require.Equal(t, "stdout", l.Stream)
				require.Len(t, l.Line, 1023)
				flood++
			case strings.HasPrefix(l.Line, "flood ends"):
				ends = l.Job
				require.Equal(t, "flood ends", l.Line)
			case l.Line == "stderr noise":
				require.Equal(t, next.ID(), l.Job)
			}
		}
		require.Equal(t, lines, flood)
		require.Equal(t, job.ID(), ends)
	})
}

func TestExitReplacesTheProcess(t *testing.T) {
	modes(t, func(t *testing.T, mode Mode) {
		o, lb := testOptions(t, mode)
		e := newExec(t, o)
		f := filepath.Join(t.TempDir(), "exit")
		before := actJob(t, f, "ok", 0, nil, 1)
		require.NoError(t, run(t, e, before, 30*time.Second))
		job := actJob(t, f, "exit", 0, nil, 1)
		err := run(t, e, job, 30*time.Second)
		var crash *CrashError
		require.ErrorAs(t, err, &crash)
		require.Contains(t, crash.Status, "exit status 3")
		out, _, _ := job.Outcome()
		require.Equal(t, queue.OutcomeNone, out, "counts as an attempt: the worker's retry policy decides")
		after := actJob(t, f, "ok", 0, nil, 1)
		require.NoError(t, run(t, e, after, 30*time.Second))
		ms := readMarks(t, f)
		require.Equal(t, []string{"start", "ok", "start", "start", "ok"}, events(ms))
		require.Equal(t, ms[2].PID, crash.PID)
		require.NotEqual(t, ms[2].PID, ms[3].PID, "a new process ran the next job")
		if mode == ModePool {
			require.Equal(t, ms[0].PID, ms[2].PID, "the pool kept its process until the crash")
		}
		require.Contains(t, lb.String(), "about to exit")
	})
}

func TestTimeoutKillsTheProcess(t *testing.T) {
	modes(t, func(t *testing.T, mode Mode) {
		o, _ := testOptions(t, mode)
		e := newExec(t, o)
		f := filepath.Join(t.TempDir(), "sleep")
		if mode == ModePool {
			warm := actJob(t, f, "noop", 0, nil, 1)
			require.NoError(t, run(t, e, warm, 30*time.Second))
		}
		job := actJob(t, f, "sleep", 60, nil, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := e.ProcessJob(ctx, job)
		took := time.Since(start)
		require.ErrorIs(t, err, ErrTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, took, 4*time.Second, "killed within 1 s of the deadline")
		var sleeper int
		for _, m := range readMarks(t, f) {
			if m.What == "sleep" {
				sleeper = m.PID
			}
		}
		require.NotZero(t, sleeper)
		require.Error(t, syscallKill0(sleeper), "the timed-out process is gone")
		after := actJob(t, f, "ok", 0, nil, 1)
		require.NoError(t, run(t, e, after, 30*time.Second))
		ms := readMarks(t, f)
		require.Equal(t, "ok", ms[len(ms)-1].Event)
		require.NotEqual(t, sleeper, ms[len(ms)-1].PID)
	})
}

func TestPoolRecycles(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Options)
		same int // jobs per process
	}{
		{"max jobs", func(o *Options) { o.MaxJobs = 2 }, 2},
		{"memory", func(o *Options) { o.Memory = 1 }, 1},
		{"ttl", func(o *Options) { o.TTL = time.Nanosecond }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, lb := testOptions(t, ModePool)
			tc.set(&o)
			e := newExec(t, o)
			f := filepath.Join(t.TempDir(), "recycle")
			for range 4 {
				require.NoError(t, run(t, e, actJob(t, f, "noop", 0, nil, 1), 30*time.Second))
			}
			ms := readMarks(t, f)
			require.Len(t, ms, 4)
			for i := 1; i < 4; i++ {
				if i%tc.same == 0 {
					require.NotEqual(t, ms[i-1].PID, ms[i].PID, "job %d", i)
				} else {
					require.Equal(t, ms[i-1].PID, ms[i].PID, "job %d", i)
				}
			}
			require.Contains(t, lb.String(), "php runner recycled")
		})
	}
}

// A process's replacement boots while it runs its last job, so the job after that does not wait for a boot:
// the last job of the first process (MaxJobs 2) waits until it sees another process boot, and that process
// runs the next job.
func TestPoolBootsTheReplacementAhead(t *testing.T) {
	o, lb := testOptions(t, ModePool)
	o.MaxJobs = 2
	o.Env = append(o.Env, "QBEXEC_BOOT_MARK="+filepath.Join(t.TempDir(), "boots"))
	e := newExec(t, o)
	f := filepath.Join(t.TempDir(), "ahead")
	require.NoError(t, run(t, e, actJob(t, f, "noop", 0, nil, 1), 30*time.Second))
	require.NoError(t, run(t, e, actJob(t, f, "await-boot", 30, nil, 1), time.Minute))
	require.NoError(t, run(t, e, actJob(t, f, "noop", 0, nil, 1), 30*time.Second))
	ms := readMarks(t, f)
	require.Equal(t, []string{"start", "start", "await-boot", "start"}, events(ms))
	require.Equal(t, ms[0].PID, ms[1].PID)
	booted, _ := ms[2].Data["booted"].(float64)
	require.NotZero(t, booted, "no process booted while the first one ran its last job")
	require.Equal(t, int(booted), ms[3].PID, "the process that booted meanwhile ran the next job")
	require.Contains(t, lb.String(), "php runner recycled")
}

// One process never runs two jobs at once: 2 workers, 6 slow jobs in parallel, at most 2 distinct overlaps.
func TestPoolOneJobPerProcess(t *testing.T) {
	o, _ := testOptions(t, ModePool)
	o.Workers = 2
	e := newExec(t, o)
	f := filepath.Join(t.TempDir(), "par")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range 6 {
		wg.Go(func() { errs[i] = run(t, e, actJob(t, f, "sleep", 1, nil, 1), 30*time.Second) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	ms := readMarks(t, f)
	pids := map[int]int{}
	for _, m := range ms {
		if m.Event == "start" {
			pids[m.PID]++
		}
	}
	require.Len(t, pids, 2)
	for pid, n := range pids {
		require.Equal(t, 3, n, "pid %d", pid)
	}
}

func TestBootFailure(t *testing.T) {
	o, _ := testOptions(t, ModePool)
	o.Boot = filepath.Join(t.TempDir(), "missing.php")
	o.StartTimeout = 20 * time.Second
	_, err := NewPool(context.Background(), o)
	require.ErrorContains(t, err, "did not boot")
}

func BenchmarkPool(b *testing.B) {
	o, _ := testOptions(b, ModePool)
	o.Workers = 2
	o.Logger = slog.New(slog.DiscardHandler)
	e := newExec(b, o)
	jobs := make([]*queue.Job, 0, 64)
	for range 64 {
		jobs = append(jobs, actJob(b, "", "noop", 0, nil, 1))
	}
	ctx := context.Background()
	b.SetParallelism(2) // 2×GOMAXPROCS goroutines on 2 workers: the pool is never idle
	b.ResetTimer()
	cpu0 := selfCPU(b)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			src := jobs[i%len(jobs)]
			i++
			job := queue.NewJob(queue.JobParams{Reservation: src.Reservation(), Name: src.Name(), ID: src.ID(), Attempts: 1})
			if err := e.ProcessJob(ctx, job); err != nil {
				b.Error(err)
				return
			}
		}
	})
	el := time.Since(start)
	cpu := selfCPU(b) - cpu0
	b.ReportMetric(float64(b.N)/el.Seconds(), "jobs/s")
	// This process's CPU (the executor's side of each job, and the benchmark's loop), not PHP's.
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "go-cpu-µs/job")
	// Per-job overhead as one process sees it: 2 workers share the jobs.
	b.ReportMetric(float64(el.Microseconds())*2/float64(b.N), "µs/job/worker")
}

// selfCPU is the user and system CPU time this process used so far (its children not included).
func selfCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A pool process that died while idle is replaced before the next job, which runs normally.
func TestPoolReplacesIdleDeath(t *testing.T) {
	o, lb := testOptions(t, ModePool)
	e := newExec(t, o)
	f := filepath.Join(t.TempDir(), "idle")
	require.NoError(t, run(t, e, actJob(t, f, "noop", 0, nil, 1), 30*time.Second))
	pid := readMarks(t, f)[0].PID
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	require.Eventually(t, func() bool { return syscallKill0(pid) != nil }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, run(t, e, actJob(t, f, "noop", 0, nil, 1), 30*time.Second))
	ms := readMarks(t, f)
	require.NotEqual(t, pid, ms[1].PID)
	require.Contains(t, lb.String(), "ended while idle")
}
