package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/executor/php"
)

// laravelExecutor is a pool of workers PHP processes running the app's own job code (the real Laravel 8.83
// app of testdata/laravel), closed after the test.
func laravelExecutor(t *testing.T, a *laravelApp, workers int) php.Executor {
	t.Helper()
	harness, err := filepath.Abs(filepath.Join("testdata", "laravel"))
	require.NoError(t, err)
	boot := filepath.Join(t.TempDir(), "boot.php")
	require.NoError(t, os.WriteFile(boot, []byte("<?php\nrequire '"+filepath.Join(harness, "bootstrap.php")+"';\nreturn qb_app();\n"), 0o644))
	ex, err := php.New(testCtx(t, time.Minute), php.Options{App: harness, Boot: boot, Workers: workers, Env: a.Vars(), Logger: a.Logger()})
	require.NoError(t, err)
	t.Cleanup(func() { ex.Close() })
	return ex
}

// A class with a Go handler and the real PHP executor, routed 30% to Go: of 1,000 jobs about 30% run in Go
// and the rest in Laravel's own App\Jobs\Legacy, each to success exactly once, a job that throws once coming
// back to the side it ran on; the report's counts are the two ledgers' (PHP's records in Redis, Go's in the
// test).
func TestRoutePHPExecutor(t *testing.T) {
	t.Parallel()
	const n = 1000
	a := newLaravelApp(t, laravelOptions{})
	const q = "route-php"
	log := a.Key("log")
	ex := laravelExecutor(t, a, 4)
	rec := a.NewRecorder()
	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond,
		Concurrency: 8, Tries: 3, PHP: ex})
	b.Handle(jobLegacy, legacyHandler{rec: rec})
	b.Route(jobLegacy, bridge.RoutePercent(30))
	ctx := testCtx(t, 5*time.Minute)
	ids := make([]string, n)
	for i := range n {
		data := map[string]any{"n": i, "log": log}
		if i%10 == 3 {
			data["failTimes"] = 1 // throws on its first attempt, wherever it runs
		}
		var err error
		ids[i], err = b.Push(ctx, q, jobLegacy, data)
		require.NoError(t, err)
	}
	require.NoError(t, b.Run(ctx))

	side := map[string]string{}
	ok := map[string]int{}
	count := map[string]int64{}
	tally := func(rs records, name string) {
		for _, r := range rs {
			if s, seen := side[r.ID]; seen {
				require.Equal(t, s, name, "job %s ran on both sides", r.ID)
			}
			side[r.ID] = name
			count[name+".runs"]++
			switch r.Outcome {
			case "ok":
				ok[r.ID]++
			case "throw":
				count[name+".released"]++
			default:
				t.Errorf("%s record %+v", name, r)
			}
		}
	}
	tally(a.RecordsIn(log), "php")
	tally(rec.Records(), "go")
	goJobs := 0
	for _, id := range ids {
		require.Equal(t, 1, ok[id], "job %s succeeded %d times", id, ok[id])
		if side[id] == "go" {
			goJobs++
		}
	}
	share := float64(goJobs) / n
	t.Logf("Go ran %d of %d jobs (%.1f%%), PHP %d; runs: %v", goJobs, n, 100*share, n-goJobs, count)
	require.InDelta(t, 0.30, share, 0.05)
	require.Positive(t, count["php.released"])
	require.Positive(t, count["go.released"])
	a.RequireQueueEmpty(q)

	reps, err := b.Report(ctx, time.Hour)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	r := reps[0]
	require.Equal(t, classLegacy, r.Class)
	require.Equal(t, "30%", r.Route)
	require.Equal(t, count["go.runs"], r.Go.Runs)
	require.Equal(t, count["php.runs"], r.PHP.Runs)
	require.Equal(t, count["go.released"], r.Go.Released)
	require.Equal(t, count["php.released"], r.PHP.Released)
	require.Zero(t, r.Go.Failed+r.PHP.Failed)
	require.Positive(t, r.PHP.Mean)
}

// A shadow handler beside the real PHP executor: Laravel's App\Jobs\Legacy runs every job and its outcome
// is applied (a job that throws once is released, then deleted); the Go handler runs on a copy of each and
// is compared with PHP's outcome, including PHP's exception message; it disagrees on the jobs the test made
// it disagree on, and only those are mismatches.
func TestShadowPHPExecutor(t *testing.T) {
	t.Parallel()
	const n = 200
	a := newLaravelApp(t, laravelOptions{})
	const q = "shadow-php"
	log := a.Key("log")
	ex := laravelExecutor(t, a, 2)
	b := a.Open(bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond,
		Concurrency: 4, Tries: 3, PHP: ex})
	var shadows atomic.Int64
	b.HandleShadow(jobLegacy, bridge.HandlerFunc(func(ctx context.Context, job *bridge.Job) error {
		require.True(t, bridge.IsShadow(ctx))
		shadows.Add(1)
		var d struct {
			N         int `json:"n"`
			FailTimes int `json:"failTimes"`
		}
		if err := job.Bind(&d); err != nil {
			return err
		}
		switch {
		case d.N%50 == 7:
			job.Fail(errors.New("Go says no")) // PHP deletes it
			return nil
		case job.Attempts() <= d.FailTimes:
			return &phpError{Class: "RuntimeException", Message: fmt.Sprintf("Legacy %d fails on attempt %d", d.N, job.Attempts())}
		}
		return nil
	}))
	ctx := testCtx(t, 3*time.Minute)
	for i := range n {
		data := map[string]any{"n": i, "log": log}
		if i%10 == 3 {
			data["failTimes"] = 1
		}
		_, err := b.Push(ctx, q, jobLegacy, data)
		require.NoError(t, err)
	}
	require.NoError(t, b.Run(ctx))

	runs, oks := 0, map[string]int{}
	for _, r := range a.RecordsIn(log) {
		runs++
		if r.Outcome == "ok" {
			oks[r.UUID]++
		}
	}
	require.Len(t, oks, n, "PHP ran every job to success")
	require.EqualValues(t, runs, shadows.Load(), "a shadow run beside every PHP run")
	a.RequireQueueEmpty(q)
	require.Empty(t, a.FailedJobs(), "the shadow's failures reach no store")

	reps, err := b.Report(ctx, time.Hour)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	r := reps[0]
	require.EqualValues(t, runs, r.PHP.Runs)
	require.EqualValues(t, n/10, r.PHP.Released)
	require.EqualValues(t, runs, r.ShadowRuns)
	require.EqualValues(t, n/50, r.ShadowMismatches, "%+v", r.Mismatches)
	for _, m := range r.Mismatches {
		require.Equal(t, "deleted", m.PHP.Outcome)
		require.Equal(t, "failed", m.Go.Outcome)
		require.Equal(t, "Go says no", m.Go.Error)
	}
}
