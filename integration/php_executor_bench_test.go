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
// with the bridge running them in PHP — the executor in pool mode (2 processes) and in per-job mode (a fresh
// process per job, 2 at once) — and with Laravel's own queue:work (one process), and reports the three paces.
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
		br := lvOpen(b, a, bridge.WorkerConfig{Queues: []string{q}, Concurrency: 2, StopWhenEmpty: true,
			Sleep: time.Millisecond, PHP: ex})
		start := time.Now()
		require.NoError(b, br.Run(ctx))
		a.RequireQueueEmpty(q)
		return float64(n) / time.Since(start).Seconds()
	}
	var pool, perJob, laravel float64
	for range b.N {
		const poolQ, perJobQ, phpQ = "exec-pool", "exec-perjob", "exec-laravel"
		out := a.PHP("dispatch.php", "--objects="+strconv.Itoa(jobs), "--class=Noop", "--via=queue",
			"--queue="+poolQ, "--no-readback")
		require.Len(b, laravelLines[laravelJob](b, out), jobs)
		lvCopyQueue(b, a, poolQ, phpQ, jobs)
		const perJobJobs = 200 // a fresh PHP process per job: fewer jobs keep the run short
		out = a.PHP("dispatch.php", "--objects="+strconv.Itoa(perJobJobs), "--class=Noop", "--via=queue",
			"--queue="+perJobQ, "--no-readback")
		require.Len(b, laravelLines[laravelJob](b, out), perJobJobs)

		pool = drain(poolQ, php.ModePool, jobs)
		perJob = drain(perJobQ, php.ModePerJob, perJobJobs)
		res := a.Bench(jobs, "--queue="+phpQ, "--no-push")
		require.Equal(b, jobs, res.Processed)
		laravel = float64(jobs) / res.Seconds
		a.RequireQueueEmpty(phpQ)
	}
	b.ReportMetric(pool, "pool-jobs/s")
	b.ReportMetric(perJob, "per-job-jobs/s")
	b.ReportMetric(laravel, "laravel-jobs/s")
	b.ReportMetric(pool/laravel, "x-laravel")
	b.Logf("bridge + PHP pool (2 processes) %.0f jobs/s | per-job %.0f jobs/s | Laravel queue:work %.0f jobs/s | pool %.1f×",
		pool, perJob, laravel, pool/laravel)
}
