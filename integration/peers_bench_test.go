package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
)

// The peer benchmarks' sizes: jobs per run against asynq, jobs per run against Laravel's queue:work (PHP is
// slow: about 2,000 jobs/s), and the concurrency of the bridge and of asynq.
const (
	peerJobs        = 20000
	peerLaravelJobs = 5000
	peerConcurrency = 128
)

// BenchmarkPeers runs the bridge and a peer side by side in one run, on the same number of no-op jobs on
// one redis-server of the sub-benchmark's own, and prints each run's jobs/s, min/median/max of each side,
// the ratio of the medians and the range of the per-run ratios, with the load average before and after.
// Each side is a whole process timed from its start to its exit, with the jobs in Redis beforehand:
//
//   - asynq/<dialect>: the testbridge binary (`work --stop-when-empty --concurrency 128 --quiet`) on
//     20,000 think-queue jobs against an asynq server (asynqdrain: a no-op handler, Concurrency 128) on
//     20,000 tasks of the same size, stopping once all are acknowledged;
//   - queue-work/laravel-8: the testbridge binary on 5,000 Laravel-dispatched App\Jobs\Noop jobs against
//     Laravel 8.83's own `queue:work redis --stop-when-empty --quiet` (one PHP process, PHP start-up
//     included) on a byte-for-byte copy of them.
//
// One iteration (b.Loop: -benchtime 5x is five runs of each side) runs both sides, the bridge first in odd
// iterations and the peer first in even ones, so the machine's noise hits both.
//
//	go test -C integration -run '^$' -bench '^BenchmarkPeers$' -benchtime 5x -timeout 30m .
func BenchmarkPeers(b *testing.B) {
	for _, dialect := range thinkQueueDialects {
		b.Run("asynq/"+dialect, func(b *testing.B) { benchAsynqPeer(b, dialect) })
	}
	b.Run("queue-work/"+dialectLaravel, benchQueueWorkPeer)
}

// contender is one side of a pair: prepare puts run's jobs in Redis (not timed), drain works them off in a
// process of its own, checks they are gone and returns the process's wall time; note, if set, is a line
// about the runs for the log.
type contender struct {
	name    string
	prepare func(run int)
	drain   func(ctx context.Context, run int) time.Duration
	note    func() string
}

func benchAsynqPeer(b *testing.B, dialect string) {
	requireLocal(b)
	ctx := testCtx(b, 20*time.Minute)
	srv := startRedisServer(b)
	be := newBackend(b, "redis", dialect)
	be.onServer(srv)
	pad := strings.Repeat("x", 128)

	queue := func(run int) string { return be.Queue("bridge" + strconv.Itoa(run)) }
	bridgeSide := contender{
		name: "bridge",
		prepare: func(run int) {
			pushBench(b, be, queue(run), peerJobs, `test\Noop`, map[string]any{"pad": pad})
		},
		drain: func(ctx context.Context, run int) time.Duration {
			return be.drainWithBinary(ctx, queue(run))
		},
	}

	opt := asynq.RedisClientOpt{Addr: srv.Addr()}
	client := asynq.NewClient(opt)
	b.Cleanup(func() { _ = client.Close() })
	asynqQueue := func(run int) string { return "peers" + strconv.Itoa(run) }
	asynqBin := binary(b, "./testdata/asynqdrain")
	version, err := exec.Command(asynqBin, "-version").Output()
	require.NoError(b, err, "asynqdrain -version")
	var shutdowns []float64 // seconds of each asynq run spent in Server.Shutdown
	asynqSide := contender{
		name: "asynq",
		prepare: func(run int) {
			enqueueAsynq(ctx, b, client, asynqQueue(run), peerJobs, pad)
		},
		drain: func(ctx context.Context, run int) time.Duration {
			cmd := exec.CommandContext(ctx, asynqBin, "-redis", srv.Addr(),
				"-queue", asynqQueue(run), "-tasks", strconv.Itoa(peerJobs),
				"-concurrency", strconv.Itoa(peerConcurrency))
			d, out := timeProcess(b, cmd)
			var res struct {
				Handled         int     `json:"handled"`
				ShutdownSeconds float64 `json:"shutdown_seconds"`
			}
			require.NoError(b, json.Unmarshal(out, &res), "asynqdrain printed %s", out)
			require.Equal(b, peerJobs, res.Handled)
			shutdowns = append(shutdowns, res.ShutdownSeconds)
			return d
		},
		note: func() string {
			lo, _, hi := spread(shutdowns)
			return fmt.Sprintf("asynq: Server.Shutdown took %.3f–%.3f s of each run", lo, hi)
		},
	}
	comparePair(ctx, b, fmt.Sprintf("%d no-op jobs, concurrency %d, %s vs asynq %s", peerJobs, peerConcurrency,
		dialect, strings.TrimSpace(string(version))), peerJobs, bridgeSide, asynqSide)
}

func benchQueueWorkPeer(b *testing.B) {
	requireLocal(b)
	ctx := testCtx(b, 20*time.Minute)
	srv := startRedisServer(b)
	a := newLaravelApp(b, laravelOptions{Env: []string{"REDIS_HOST=127.0.0.1",
		"REDIS_PORT=" + strconv.Itoa(srv.port), "REDIS_DB=0", "REDIS_CACHE_DB=0"}})
	a.onServer(srv)

	// Laravel dispatches the jobs once; every run of either side gets a byte-for-byte copy of them.
	const source = "peers-source"
	out := a.PHP("dispatch.php", "--objects="+strconv.Itoa(peerLaravelJobs), "--class=Noop", "--via=queue",
		"--queue="+source, "--no-readback")
	require.Len(b, jsonLines[laravelJob](b, out), peerLaravelJobs)

	queue := func(side string, run int) string { return "peers-" + side + strconv.Itoa(run) }
	bridgeSide := contender{
		name:    "bridge",
		prepare: func(run int) { copyQueue(b, a, source, queue("bridge", run), peerLaravelJobs) },
		drain: func(ctx context.Context, run int) time.Duration {
			return a.drainWithBinary(ctx, queue("bridge", run))
		},
	}
	laravelSide := contender{
		name:    "queue:work",
		prepare: func(run int) { copyQueue(b, a, source, queue("laravel", run), peerLaravelJobs) },
		drain: func(ctx context.Context, run int) time.Duration {
			cmd := exec.CommandContext(ctx, envOr("QB_PHP", "php"), a.Script("artisan.php"), "queue:work", "redis",
				"--queue="+queue("laravel", run), "--stop-when-empty", "--quiet")
			cmd.Env = append(os.Environ(), a.Vars()...)
			d, _ := timeProcess(b, cmd)
			a.RequireQueueEmpty(queue("laravel", run))
			return d
		},
	}
	comparePair(ctx, b, fmt.Sprintf("%d Laravel-dispatched no-op jobs, bridge concurrency %d vs Laravel 8.83 queue:work (one process)",
		peerLaravelJobs, peerConcurrency), peerLaravelJobs, bridgeSide, laravelSide)
	require.Empty(b, a.FailedJobs(), "queue:work failed jobs")
}

// requireLocal skips unless the services are this machine's: the peers run as processes here, on a
// redis-server the benchmark starts.
func requireLocal(b *testing.B) {
	b.Helper()
	if _, ok := testEnv(b).(localEnv); !ok {
		b.Skip("the peer benchmarks run on the local provider only")
	}
}

// drainWithBinary runs the testbridge binary's `work --stop-when-empty` on queue q of the backend, at
// peerConcurrency, and returns the process's wall time; every job must be gone, none failed.
func (be *backend) drainWithBinary(ctx context.Context, q string) time.Duration {
	be.t.Helper()
	args := append(be.flags(), "work", "--queue", q, "--concurrency", strconv.Itoa(peerConcurrency),
		"--stop-when-empty", "--quiet")
	d, _ := timeProcess(be.t, exec.CommandContext(ctx, testbridge(be.t), args...))
	be.RequireGone(append(be.Keys(q).all(), be.FailedKeys()...)...)
	return d
}

// timeProcess runs cmd to its exit and returns its wall time, from start to exit, and its stdout; it must
// exit 0.
func timeProcess(tb testing.TB, cmd *exec.Cmd) (time.Duration, []byte) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	require.NoError(tb, err, "%s\nstdout:\n%s\nstderr:\n%s", cmd.Args[0], tail(stdout.Bytes()), tail(stderr.Bytes()))
	return d, stdout.Bytes()
}

// enqueueAsynq enqueues n no-op tasks on queue, each with about as much data as pushBench's jobs, from a
// few goroutines (asynq enqueues one task per round trip).
func enqueueAsynq(ctx context.Context, b *testing.B, client *asynq.Client, queue string, n int, pad string) {
	b.Helper()
	const senders = 8
	errs := make(chan error, senders)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := s; i < n; i += senders {
				payload, err := json.Marshal(map[string]any{"pad": pad, "n": i})
				if err == nil {
					_, err = client.EnqueueContext(ctx, asynq.NewTask("noop", payload), asynq.Queue(queue))
				}
				if err != nil {
					errs <- fmt.Errorf("enqueue task %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
}

// comparePair runs the two sides once per iteration, alternating which goes first, then logs and reports
// their paces (jobs per second of process wall time). The log has a line per side whatever the number of
// runs: go test keeps only the first ten lines of a benchmark's log.
func comparePair(ctx context.Context, b *testing.B, about string, jobs int, x, y contender) {
	b.Helper()
	before := loadAverage(b)
	sides := [2]contender{x, y}
	var rates [2][]float64
	run := 0
	for b.Loop() {
		order := [2]int{0, 1}
		if run%2 == 1 {
			order = [2]int{1, 0}
		}
		for _, i := range order {
			sides[i].prepare(run)
			d := sides[i].drain(ctx, run)
			rates[i] = append(rates[i], float64(jobs)/d.Seconds())
		}
		run++
	}
	after := loadAverage(b)

	ratios := make([]float64, run)
	for k := range run {
		ratios[k] = rates[0][k] / rates[1][k]
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%s; %d runs of each side, alternating; %d CPUs, load average before %s, after %s\n",
		about, run, runtime.NumCPU(), before, after)
	w := tabwriter.NewWriter(&out, 0, 0, 2, ' ', 0)
	medians := [2]float64{}
	for i, side := range sides {
		lo, mid, hi := spread(rates[i])
		medians[i] = mid
		fmt.Fprintf(w, "%s jobs/s\t%s\tmin/median/max %.0f / %.0f / %.0f\n", side.name, joinFloats(rates[i], 0),
			lo, mid, hi)
	}
	fmt.Fprintf(w, "%s/%s\t%s\tratio of medians %.2f× (per-run ratios %.2f–%.2f×)\n", x.name, y.name,
		joinFloats(ratios, 2), medians[0]/medians[1], slices.Min(ratios), slices.Max(ratios))
	require.NoError(b, w.Flush())
	for _, side := range sides {
		if side.note != nil {
			out.WriteString(side.note() + "\n")
		}
	}
	b.Log("\n" + strings.TrimSuffix(out.String(), "\n"))

	unit := strings.ReplaceAll(y.name, ":", "-")
	b.ReportMetric(medians[0], x.name+"-jobs/s")
	b.ReportMetric(medians[1], unit+"-jobs/s")
	b.ReportMetric(medians[0]/medians[1], "x-"+unit)
}

// joinFloats writes v with prec decimals, separated by spaces.
func joinFloats(v []float64, prec int) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'f', prec, 64)
	}
	return strings.Join(s, " ")
}

// spread is the minimum, median and maximum of v (not empty).
func spread(v []float64) (lo, median, hi float64) {
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return s[0], median, s[n-1]
}

// loadAverage is the machine's 1, 5 and 15 minute load averages, from /proc/loadavg.
func loadAverage(tb testing.TB) string {
	tb.Helper()
	raw, err := os.ReadFile("/proc/loadavg")
	require.NoError(tb, err)
	f := strings.Fields(string(raw))
	require.GreaterOrEqual(tb, len(f), 3, "/proc/loadavg: %q", raw)
	return strings.Join(f[:3], " ")
}
