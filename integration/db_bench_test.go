package integration

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// BenchmarkDBDrain: jobs/s draining the same rows (2,000 App\Jobs\Noop Laravel dispatched, copied back into
// the jobs table before each drain) through MariaDB and SQLite: the bridge (no-op handler, Concurrency 64)
// against Laravel 8.83's own `queue:work database` (one process, timed from its first job to its last).
//
//	go test -C integration -run '^$' -bench '^BenchmarkDBDrain$' -benchtime 1x .
func BenchmarkDBDrain(b *testing.B) {
	const jobs = 2000
	for _, kind := range laravelDBKinds {
		b.Run(kind, func(b *testing.B) {
			a := newLaravelApp(b, laravelOptions{Jobs: kind})
			const q = "bench"
			require.Len(b, a.Dispatch("--connection=database", "--no-readback", "--objects=2000", "--class=Noop", "--queue="+q), jobs)
			_, err := a.DB.Exec("CREATE TABLE jobs_src AS SELECT * FROM jobs")
			require.NoError(b, err)
			refill := func() {
				_, err := a.DB.Exec("DELETE FROM jobs")
				require.NoError(b, err)
				_, err = a.DB.Exec("INSERT INTO jobs SELECT * FROM jobs_src")
				require.NoError(b, err)
				require.Equal(b, jobs, a.Count("jobs", ""))
			}
			var goRate, phpRate float64
			for b.Loop() {
				b.StopTimer()
				refill()
				br := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 64, StopWhenEmpty: true,
					Sleep: 10 * time.Millisecond})
				br.HandleFunc(`App\Jobs\Noop`, func(context.Context, *bridge.Job) error { return nil })
				b.StartTimer()
				t0 := time.Now()
				require.NoError(b, br.Run(context.Background()))
				goRate = float64(jobs) / time.Since(t0).Seconds()
				b.StopTimer()
				require.Zero(b, a.Count("jobs", ""))

				refill()
				var res struct {
					Processed  int     `json:"processed"`
					JobsPerSec float64 `json:"jobs_per_sec"`
					Status     int     `json:"status"`
				}
				require.NoError(b, json.Unmarshal(a.PHP("bench_db.php", "--queue="+q), &res))
				require.Equal(b, jobs, res.Processed)
				phpRate = res.JobsPerSec
				require.Zero(b, a.Count("jobs", ""))
				b.StartTimer()
			}
			b.ReportMetric(goRate, "bridge_jobs/s")
			b.ReportMetric(phpRate, "laravel_jobs/s")
			b.ReportMetric(goRate/phpRate, "x_laravel")
		})
	}
}

// BenchmarkDBDrainBacklog: jobs/s over the first 20,000 of 200,000 rows waiting in one queue of a MariaDB
// jobs table (Laravel's own DDL, 2,000 App\Jobs\Noop Laravel dispatched, copied 100 times, put back before
// each run): the bridge (no-op handler, Concurrency 64) against Laravel 8.83's `queue:work database
// --max-jobs=20000`, timed from the first job to the 20,000th.
//
//	go test -C integration -run '^$' -bench '^BenchmarkDBDrainBacklog$' -benchtime 1x -count 3 .
func BenchmarkDBDrainBacklog(b *testing.B) {
	const dispatched, copies, jobs = 2000, 100, 20_000
	a := newLaravelApp(b, laravelOptions{Jobs: "mysql"})
	const q = "bench"
	require.Len(b, a.Dispatch("--connection=database", "--no-readback", "--objects=2000", "--class=Noop", "--queue="+q), dispatched)
	_, err := a.DB.Exec("CREATE TABLE jobs_src AS SELECT * FROM jobs")
	require.NoError(b, err)
	refill := func() {
		_, err := a.DB.Exec("DELETE FROM jobs")
		require.NoError(b, err)
		for range copies {
			_, err = a.DB.Exec("INSERT INTO jobs (queue, payload, attempts, reserved_at, available_at, created_at) " +
				"SELECT queue, payload, attempts, reserved_at, available_at, created_at FROM jobs_src ORDER BY id")
			require.NoError(b, err)
		}
		require.Equal(b, dispatched*copies, a.Count("jobs", ""))
	}
	var goRate, phpRate float64
	for b.Loop() {
		b.StopTimer()
		refill()
		br := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 64, Sleep: 10 * time.Millisecond, QuietJobs: true})
		ctx, cancel := context.WithCancel(context.Background())
		var ran atomic.Int64
		var last time.Time
		br.HandleFunc(`App\Jobs\Noop`, func(context.Context, *bridge.Job) error {
			if ran.Add(1) == jobs {
				last = time.Now()
				cancel()
			}
			return nil
		})
		b.StartTimer()
		t0 := time.Now()
		require.NoError(b, br.Run(ctx))
		b.StopTimer()
		cancel()
		require.False(b, last.IsZero(), "the bridge ran %d jobs, not %d", ran.Load(), jobs)
		goRate = float64(jobs) / last.Sub(t0).Seconds()

		refill()
		var res struct {
			Processed  int     `json:"processed"`
			JobsPerSec float64 `json:"jobs_per_sec"`
		}
		require.NoError(b, json.Unmarshal(a.PHP("bench_db.php", "--queue="+q, "--max-jobs="+strconv.Itoa(jobs)), &res))
		require.Equal(b, jobs, res.Processed)
		phpRate = res.JobsPerSec
		b.StartTimer()
	}
	b.ReportMetric(goRate, "bridge_jobs/s")
	b.ReportMetric(phpRate, "laravel_jobs/s")
	b.ReportMetric(goRate/phpRate, "x_laravel")
}
