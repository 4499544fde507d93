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

// TestLaravelFleet: a mixed fleet drains one queue of 10,000 jobs: two real Laravel 8.83 queue:work
// processes and the bridge (concurrency 8) side by side. Half the jobs are dispatched by Laravel, half pushed
// by the bridge, App\Jobs\Record objects and App\Jobs\Legacy@handle string jobs of both. Every job runs
// exactly once, whoever pushed and whoever took it (records by uuid), each worker takes a share, and every
// key of the queue is gone at the end.
func TestLaravelFleet(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	const q = "fleet"
	log := a.Key("log")
	pusher := lvOpen(t, a, bridge.WorkerConfig{})

	pushedBy := map[string]string{} // id → "laravel" | "bridge"
	for round := range 2 {
		start := round*2500 + 1
		for i := range 2500 {
			n := start + i
			var id string
			var err error
			if i%5 == 4 {
				id, err = pusher.Push(ctx, q, lvLegacyJob, map[string]any{"n": n, "log": log})
			} else {
				id, err = pusher.PushCommand(ctx, q, lvRecordSpec{N: n, Log: log}.command())
			}
			require.NoError(t, err)
			pushedBy[id] = "bridge"
		}
		for _, j := range append(
			a.Dispatch("--objects=2000", "--queue="+q, "--log="+log, fmt.Sprintf("--start=%d", start)),
			a.Dispatch("--strings=500", "--queue="+q, "--log="+log, fmt.Sprintf("--start=%d", start+2000))...) {
			if _, dup := pushedBy[j.ID]; dup {
				require.Failf(t, "duplicate id", "%s", j.ID)
			}
			pushedBy[j.ID] = "laravel"
		}
	}
	require.Len(t, pushedBy, 10000)
	n, err := a.Redis().LLen(ctx, a.QueueKey(q)).Result()
	require.NoError(t, err)
	require.EqualValues(t, 10000, n)

	// The Laravel workers start first (PHP boots in a fraction of a second, the bridge in microseconds); the
	// bridge joins once both have taken a job, so the three really share the queue.
	php := []*laravelWorker{
		a.StartWork("--queue="+q, "--drain=0.5", "--sleep=0.1", "--events=none"),
		a.StartWork("--queue="+q, "--drain=0.5", "--sleep=0.1", "--events=none"),
	}
	waitFor(t, "both Laravel workers ran a job", func() bool {
		pids := map[int]bool{}
		for _, r := range a.RecordsIn(log) {
			pids[r.PID] = true
		}
		return len(pids) == 2
	})

	var mu sync.Mutex
	var goRuns []laravelRecord
	note := func(job *bridge.Job) {
		mu.Lock()
		goRuns = append(goRuns, laravelRecord{Runner: "bridge", UUID: job.UUID(), ID: job.ID(), Attempts: job.Attempts(), Class: job.Name()})
		mu.Unlock()
	}
	b := lvOpen(t, a, bridge.WorkerConfig{Queues: []string{q}, Concurrency: 8, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
	b.HandleFunc(lvRecordClass, func(_ context.Context, job *bridge.Job) error {
		var c lvRecordCmd
		if err := job.Bind(&c); err != nil {
			return err
		}
		note(job)
		return nil
	})
	b.HandleFunc(lvLegacyJob, func(_ context.Context, job *bridge.Job) error {
		note(job)
		return nil
	})
	require.NoError(t, lvStart(t, b).wait(t), "the bridge stops once the queue is empty")
	var phpProcessed []int
	for _, w := range php {
		res := w.Wait(t)
		phpProcessed = append(phpProcessed, res.Exit.Counts["JobProcessed"])
		require.Zero(t, res.Exit.Counts["JobFailed"])
		require.Zero(t, res.Exit.Counts["JobExceptionOccurred"])
	}

	all := append(a.RecordsIn(log), goRuns...)
	byRunner := map[string]int{}
	uuids := map[string]int{}
	ids := map[string]int{}
	for _, r := range all {
		if _, ok := pushedBy[r.ID]; !ok {
			require.Failf(t, "a run of an unknown job", "%+v", r)
		}
		require.Equal(t, 1, r.Attempts, "job %s (pushed by %s) reserved more than once", r.ID, pushedBy[r.ID])
		uuids[r.UUID]++
		ids[r.ID]++
		byRunner[r.Runner]++
	}
	for uuid, n := range uuids {
		require.Equal(t, 1, n, "job %s ran %d times", uuid, n)
	}
	require.Len(t, uuids, 10000, "every job ran")
	require.Len(t, ids, 10000)
	require.Equal(t, len(goRuns), byRunner["bridge"])
	require.Equal(t, phpProcessed[0]+phpProcessed[1], byRunner["laravel"], "queue:work counted what the records say")
	require.Positive(t, phpProcessed[0])
	require.Positive(t, phpProcessed[1])
	require.Positive(t, byRunner["bridge"])
	t.Logf("Laravel workers ran %d + %d jobs, the bridge %d", phpProcessed[0], phpProcessed[1], byRunner["bridge"])
	a.RequireQueueEmpty(q)
}
