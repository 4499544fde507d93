package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/executor/php"
)

// BenchmarkPHPExecutorDrain compares the bridge running Laravel jobs in PHP with Laravel's own queue:work at
// equal PHP process counts. Each run dispatches 20,000 Laravel jobs (App\Jobs\Noop, by Laravel 8.83) and
// copies the very same bytes to five queues, then drains them with: the bridge (concurrency 4) on a pool of N
// PHP processes recycled after 1,000 jobs (the CLI's --php-max-jobs default), and N queue:work processes
// (bench.php) at once on one queue, for N = 1 and N = 2. It reports min/median/max over the runs of each pace,
// of the ratios (pool ÷ queue:work of the same run) and of this process's CPU per job during the pool's drain
// (the whole bridge: worker, Redis client, executor) and during a drain on a no-op Go handler (the same
// bridge without the executor: the difference is what the executor adds).
//
// The bridge's time runs from Run to its return (the empty reserve that stops it included), its processes
// booted before; queue:work's from its first JobProcessing to its last job done, its start-up and final empty
// pop left out; with N processes, all jobs over the slowest process's time. Both choices favour Laravel.
//
// Once per call, beside them: per-job mode (a fresh process per job, 2 at once) and Laravel's queue:listen (as
// Illuminate\Queue\Listener does, one fresh `queue:work --once` process per job, one after the other).
// QB_PHP_BENCH_JOBS, QB_PHP_BENCH_RUNS (default 3) and QB_PHP_BENCH_CONCURRENCY (the bridge's, default 4)
// override the job count, the run count and the concurrency.
//
//	go test -C integration -run '^$' -bench '^BenchmarkPHPExecutorDrain$' -benchtime 1x -timeout 30m .
func BenchmarkPHPExecutorDrain(b *testing.B) {
	jobs, runs := benchEnvInt(b, "QB_PHP_BENCH_JOBS", 20000), benchEnvInt(b, "QB_PHP_BENCH_RUNS", 3)
	concurrency := benchEnvInt(b, "QB_PHP_BENCH_CONCURRENCY", 4)
	ctx := context.Background()
	a := newLaravelApp(b, laravelOptions{})
	harness, err := filepath.Abs(filepath.Join("testdata", "laravel"))
	require.NoError(b, err)
	boot := filepath.Join(b.TempDir(), "boot.php")
	require.NoError(b, os.WriteFile(boot, []byte("<?php\nrequire '"+filepath.Join(harness, "bootstrap.php")+"';\nreturn qb_app();\n"), 0o644))
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))

	// drain runs queue q with the bridge on an executor of n processes; it returns jobs/s and this process's
	// CPU µs per job.
	drain := func(q string, mode php.Mode, n, want int) (rate, cpuPerJob float64) {
		ex, err := php.New(ctx, php.Options{App: harness, Boot: boot, Workers: n, Mode: mode, MaxJobs: 1000,
			Env: a.Vars(), Logger: discard})
		require.NoError(b, err)
		defer ex.Close()
		br := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: concurrency, StopWhenEmpty: true,
			Sleep: time.Millisecond, PHP: ex})
		cpu0 := processCPU(b)
		start := time.Now()
		require.NoError(b, br.Run(ctx))
		el := time.Since(start)
		cpu := processCPU(b) - cpu0
		a.RequireQueueEmpty(q)
		return float64(want) / el.Seconds(), float64(cpu.Microseconds()) / float64(want)
	}
	// goDrain runs queue q with the bridge on a no-op Go handler; it returns this process's CPU µs per job, the
	// bridge's own share of a job, which drain's exceeds by what the PHP executor adds.
	goDrain := func(q string, want int) float64 {
		br := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: concurrency, StopWhenEmpty: true,
			Sleep: time.Millisecond})
		br.HandleFunc(`App\Jobs\Noop`, func(context.Context, *bridge.Job) error { return nil })
		cpu0 := processCPU(b)
		require.NoError(b, br.Run(ctx))
		cpu := processCPU(b) - cpu0
		a.RequireQueueEmpty(q)
		return float64(cpu.Microseconds()) / float64(want)
	}
	// queueWork drains queue q with n queue:work processes at once; it returns jobs/s.
	queueWork := func(q string, n, want int) float64 {
		outs, errs := make([][]byte, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, laravelCallLimit)
				defer cancel()
				outs[i], errs[i] = a.run(cctx, "bench.php", "--count="+strconv.Itoa(want), "--queue="+q, "--no-push")
			})
		}
		wg.Wait()
		processed, slowest := 0, 0.0
		for i := range n {
			require.NoError(b, errs[i], "bench.php: %s", tail(outs[i]))
			lines := jsonLines[laravelBench](b, outs[i])
			require.Len(b, lines, 1)
			require.Zero(b, lines[0].Failed)
			require.Zero(b, lines[0].Status)
			processed += lines[0].Processed
			slowest = max(slowest, lines[0].Seconds)
		}
		require.Equal(b, want, processed)
		a.RequireQueueEmpty(q)
		return float64(processed) / slowest
	}
	dispatch := func(q string, n int) {
		out := a.PHP("dispatch.php", "--objects="+strconv.Itoa(n), "--class=Noop", "--via=queue", "--queue="+q,
			"--no-readback")
		require.Len(b, jsonLines[laravelJob](b, out), n)
	}

	samples := map[string][]float64{}
	var perJob, listen float64
	for range b.N {
		for range runs {
			const src = "exec-pool-1"
			dispatch(src, jobs)
			for _, q := range []string{"exec-pool-2", "exec-laravel-1", "exec-laravel-2", "exec-go"} {
				copyQueue(b, a, src, q, jobs)
			}
			samples["cpu-go"] = append(samples["cpu-go"], goDrain("exec-go", jobs))
			for _, n := range []int{1, 2} {
				pool, cpu := drain("exec-pool-"+strconv.Itoa(n), php.ModePool, n, jobs)
				laravel := queueWork("exec-laravel-"+strconv.Itoa(n), n, jobs)
				k := strconv.Itoa(n)
				samples["pool-"+k] = append(samples["pool-"+k], pool)
				samples["laravel-"+k] = append(samples["laravel-"+k], laravel)
				samples["x-"+k] = append(samples["x-"+k], pool/laravel)
				samples["cpu-"+k] = append(samples["cpu-"+k], cpu)
			}
		}

		const perJobJobs = 200 // a fresh PHP process per job: fewer jobs keep the run short
		dispatch("exec-perjob", perJobJobs)
		perJob, _ = drain("exec-perjob", php.ModePerJob, 2, perJobJobs)

		// Listener::listen runs `php artisan queue:work <conn> --once --queue=Q …` again and again.
		const listenJobs = 100 // queue:listen: a fresh PHP process per job as well
		dispatch("exec-listen", listenJobs)
		start := time.Now()
		for range listenJobs {
			w := parseWork(b, a.PHP("work.php", "redis", "--queue=exec-listen", "--once", "--tries=1",
				"--sleep=0", "--events=none"))
			require.NotNil(b, w.Exit.Status)
			require.Equal(b, 0, *w.Exit.Status)
		}
		listen = float64(listenJobs) / time.Since(start).Seconds()
		a.RequireQueueEmpty("exec-listen")
	}

	for _, n := range []string{"1", "2"} {
		b.ReportMetric(benchMedian(samples["pool-"+n]), "pool"+n+"-jobs/s")
		b.ReportMetric(benchMedian(samples["laravel-"+n]), "laravel"+n+"-jobs/s")
		b.ReportMetric(benchMedian(samples["x-"+n]), "x-laravel"+n)
		b.ReportMetric(benchMedian(samples["cpu-"+n]), "pool"+n+"-cpu-µs/job")
	}
	b.ReportMetric(benchMedian(samples["cpu-go"]), "go-handler-cpu-µs/job")
	b.ReportMetric(perJob, "per-job-jobs/s")
	b.ReportMetric(listen, "listen-jobs/s")
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d Laravel jobs, concurrency %d, %d runs (min / median / max):", jobs, concurrency, len(samples["x-1"]))
	for _, n := range []string{"1", "2"} {
		fmt.Fprintf(&sb, "\n  N=%s: bridge + PHP pool %s jobs/s | %s× queue:work %s jobs/s | ratio %s | bridge CPU %s µs/job",
			n, benchSpread(samples["pool-"+n], "%.0f"), n, benchSpread(samples["laravel-"+n], "%.0f"),
			benchSpread(samples["x-"+n], "%.2f"), benchSpread(samples["cpu-"+n], "%.1f"))
	}
	fmt.Fprintf(&sb, "\n  the bridge on a no-op Go handler: CPU %s µs/job", benchSpread(samples["cpu-go"], "%.1f"))
	fmt.Fprintf(&sb, "\n  per-job mode (2 at once) %.0f jobs/s | Laravel queue:listen %.1f jobs/s", perJob, listen)
	b.Log(sb.String())
}

func benchEnvInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(b, err, name)
	require.Positive(b, n, name)
	return n
}

func benchMedian(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchSpread is "min / median / max" of v, each in format f.
func benchSpread(v []float64, f string) string {
	return fmt.Sprintf(f+" / "+f+" / "+f, slices.Min(v), benchMedian(v), slices.Max(v))
}
