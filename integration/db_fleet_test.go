package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestDBFleet: a mixed fleet on one MariaDB jobs table: 2 Laravel 8.83 `queue:work database` processes and
// 8 separate bridge instances (bridge.Open + Run, Concurrency 1–4) drain 10,000 string jobs together. Every
// job runs exactly once (none lost, none repeated), both sides take part, and the table ends empty.
func TestDBFleet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newLaravelApp(t, laravelOptions{Jobs: "mysql"})
	const q, total = "fleet", 10000
	log := a.Key("log")

	pusher := a.Open(bridge.WorkerConfig{})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for w := range 8 {
		wg.Go(func() {
			for n := w + 1; n <= total && errs[w] == nil; n += 8 {
				_, errs[w] = pusher.Push(ctx, q, jobLegacy, map[string]any{"n": n, "log": log})
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, total, a.Count("jobs", ""))

	workers := []*laravelWorker{
		a.StartWork("database", "--queue="+q, "--stop-when-empty", "--sleep=0", "--events=none"),
		a.StartWork("database", "--queue="+q, "--stop-when-empty", "--sleep=0", "--events=none"),
	}
	// Laravel first, so both sides surely take part.
	waitFor(t, "Laravel's workers started", func() bool { return a.LLen(log) >= 20 })

	var mu sync.Mutex
	goRuns := map[int]int{}
	var runs []*running
	for i := range 8 {
		b := a.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 1 + i%4, Sleep: 20 * time.Millisecond})
		b.HandleFunc(jobLegacy, func(_ context.Context, job *bridge.Job) error {
			var data struct {
				N int `json:"n"`
			}
			if err := job.Bind(&data); err != nil {
				return err
			}
			mu.Lock()
			goRuns[data.N]++
			mu.Unlock()
			return nil
		})
		runs = append(runs, runBackground(t, b))
	}
	waitFor(t, "the table is empty", func() bool { return a.Count("jobs", "") == 0 })
	for _, w := range workers {
		w.Wait(t)
	}
	for _, r := range runs {
		require.NoError(t, r.stop(t))
	}

	phpRuns := map[int]int{}
	for _, r := range a.RecordsIn(log) {
		require.Equal(t, "ok", r.Outcome)
		n := int(r.Data.(map[string]any)["n"].(float64))
		phpRuns[n]++
	}
	t.Logf("Laravel ran %d jobs, the bridges %d", len(phpRuns), len(goRuns))
	require.NotEmpty(t, phpRuns, "Laravel took part")
	require.NotEmpty(t, goRuns, "the bridges took part")
	for n := 1; n <= total; n++ {
		require.Equal(t, 1, phpRuns[n]+goRuns[n], fmt.Sprintf("job %d: Laravel %d runs, bridge %d", n, phpRuns[n], goRuns[n]))
	}
	require.Equal(t, total, len(phpRuns)+len(goRuns))
	require.Zero(t, a.Count("jobs", ""))
}
