package integration

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/executor/php"
)

// BenchmarkPHPExecutorDrain drains the same 5,000 Laravel jobs (App\Jobs\Noop, dispatched by Laravel 8.83)
// with the bridge (concurrency 4, so reservations overlap PHP work) running them in PHP — the executor in pool mode (2 processes) and in per-job mode (a fresh
// process per job, 2 at once) — and with Laravel's own queue:work (one process), and reports the paces. Beside
// them, Laravel's queue:listen on a few jobs: as Illuminate\Queue\Listener does, one fresh `queue:work --once`
// process per job (work.php --once), one after the other, timed from the first start to the last exit.
//
//	go test -run '^$' -bench PHPExecutorDrain -benchtime 1x ./integration/
func BenchmarkPHPExecutorDrain(b *testing.B) {
	const jobs = 5000
	ctx := context.Background()
	a := newLaravelApp(b, laravelOptions{})
	harness, err := filepath.Abs(filepath.Join("testdata", "laravel"))
	require.NoError(b, err)
	boot := filepath.Join(b.TempDir(), "boot.php")
	require.NoError(b, os.WriteFile(boot, []byte("<?php\nrequire '"+filepath.Join(harness, "bootstrap.php")+"';\nreturn qb_app();\n"), 0o644))

	drain := func(q string, mode php.Mode, n int) float64 {
		ex, err := php.New(ctx, php.Options{App: harness, Boot: boot, Workers: 2, Mode: mode, Env: a.Vars(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(b, err)
		defer ex.Close()
		br := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 4, StopWhenEmpty: true,
			Sleep: time.Millisecond, PHP: ex})
		start := time.Now()
		require.NoError(b, br.Run(ctx))
		a.RequireQueueEmpty(q)
		return float64(n) / time.Since(start).Seconds()
	}
	var pool, perJob, laravel, listen float64
	for range b.N {
		const poolQ, perJobQ, phpQ, listenQ = "exec-pool", "exec-perjob", "exec-laravel", "exec-listen"
		out := a.PHP("dispatch.php", "--objects="+strconv.Itoa(jobs), "--class=Noop", "--via=queue",
			"--queue="+poolQ, "--no-readback")
		require.Len(b, jsonLines[laravelJob](b, out), jobs)
		copyQueue(b, a, poolQ, phpQ, jobs)
		const perJobJobs = 200 // a fresh PHP process per job: fewer jobs keep the run short
		out = a.PHP("dispatch.php", "--objects="+strconv.Itoa(perJobJobs), "--class=Noop", "--via=queue",
			"--queue="+perJobQ, "--no-readback")
		require.Len(b, jsonLines[laravelJob](b, out), perJobJobs)
		const listenJobs = 100 // queue:listen: a fresh PHP process per job as well
		out = a.PHP("dispatch.php", "--objects="+strconv.Itoa(listenJobs), "--class=Noop", "--via=queue",
			"--queue="+listenQ, "--no-readback")
		require.Len(b, jsonLines[laravelJob](b, out), listenJobs)

		pool = drain(poolQ, php.ModePool, jobs)
		perJob = drain(perJobQ, php.ModePerJob, perJobJobs)
		res := a.Bench(jobs, "--queue="+phpQ, "--no-push")
		require.Equal(b, jobs, res.Processed)
		laravel = float64(jobs) / res.Seconds
		a.RequireQueueEmpty(phpQ)

		// Listener::listen runs `php artisan queue:work <conn> --once --queue=Q …` again and again.
		start := time.Now()
		for range listenJobs {
			w := parseWork(b, a.PHP("work.php", "redis", "--queue="+listenQ, "--once", "--tries=1",
				"--sleep=0", "--events=none"))
			require.NotNil(b, w.Exit.Status)
			require.Equal(b, 0, *w.Exit.Status)
		}
		listen = float64(listenJobs) / time.Since(start).Seconds()
		a.RequireQueueEmpty(listenQ)
	}
	b.ReportMetric(pool, "pool-jobs/s")
	b.ReportMetric(perJob, "per-job-jobs/s")
	b.ReportMetric(laravel, "laravel-jobs/s")
	b.ReportMetric(listen, "listen-jobs/s")
	b.ReportMetric(pool/laravel, "x-laravel")
	b.Logf("bridge + PHP pool (2 processes) %.0f jobs/s | per-job %.0f jobs/s | Laravel queue:work %.0f jobs/s | "+
		"Laravel queue:listen %.1f jobs/s | pool %.1f×", pool, perJob, laravel, listen, pool/laravel)
}
