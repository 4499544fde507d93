package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestRedisRestartUnderLoad kills the bridge's Redis (a redis-server of the test's own, append-only file
// synced on every write) in the middle of a drain and starts it again a second later. The bridge, never
// restarted, resumes by itself and every job runs; acknowledgements lost with the connection only make jobs
// run again after their reservation lapsed.
func TestRedisRestartUnderLoad(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{dialectV1, dialectV3, dialectLaravel} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			srv := startRedisServer(t, "--appendonly", "yes", "--appendfsync", "always")
			be := newBackend(t, "redis", dialect)
			be.onServer(srv)
			be.Expire = time.Second
			q := be.Queue("restart")
			const jobs = 3000

			pusher := be.Open(bridge.WorkerConfig{})
			pushed := make(map[string]bool, jobs)
			for range jobs {
				id, err := pusher.Push(context.Background(), q, `test\Noop`, map[string]any{})
				require.NoError(t, err)
				pushed[id] = true
			}

			var mu sync.Mutex
			runs := map[string]int{}
			br := be.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 8, Sleep: 100 * time.Millisecond, QuietJobs: true})
			br.HandleFunc(`test\Noop`, func(_ context.Context, job *bridge.Job) error {
				time.Sleep(time.Millisecond) // a drain that lasts long enough to be interrupted
				mu.Lock()
				runs[job.ID()]++
				mu.Unlock()
				return nil
			})
			ranSoFar := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(runs)
			}
			r := runBackground(t, br)
			waitFor(t, "a third of the jobs ran", func() bool { return ranSoFar() >= jobs/3 })
			srv.restart(time.Second)
			require.Less(t, ranSoFar(), jobs, "the restart came before the drain ended")
			waitFor(t, "every job ran after the restart", func() bool { return ranSoFar() == jobs && be.QueueEmpty(q) })
			require.NoError(t, r.stop(t))

			dups := 0
			for id, n := range runs {
				require.True(t, pushed[id], id)
				if n > 1 {
					dups++
				}
			}
			t.Logf("%d jobs, 0 lost, %d ran again after an acknowledgement lost with the connection", jobs, dups)
		})
	}
}
