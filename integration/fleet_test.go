package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// fleetWorkerScript and fleetPushScript stand in for think-queue's Redis worker and Queue::push: they send
// the command sequences the golden fixtures pin (see the scripts' headers).
const (
	fleetWorkerScript = "testdata/php/fleet_worker.php"
	fleetPushScript   = "testdata/php/fleet_push.php"
)

// phpDialect is the fleet scripts' --dialect for a bridge dialect.
func phpDialect(dialect string) string {
	if strings.HasSuffix(dialect, "-v3") {
		return "v3"
	}
	return "v1"
}

// fleetReport is what fleet_worker.php prints when it stops.
type fleetReport struct {
	Processed int      `json:"processed"`
	First     *float64 `json:"first"`
	Last      *float64 `json:"last"`
	IDs       []string `json:"ids"`
}

// fleetArgs are the fleet scripts' arguments for queue q of be.
func fleetArgs(be *backend, q string) []string {
	host, port, db := be.phpRedisAddr()
	return []string{"--host", host, "--port", port, "--db", db, "--queue", q, "--dialect", phpDialect(be.Dialect)}
}

// runFleetWorker runs fleet_worker.php with the queue's fleetArgs until the queue has stayed empty for idle
// seconds. It may run off the test's goroutine.
func runFleetWorker(ctx context.Context, env Env, queueArgs []string, idle string, extra ...string) (fleetReport, error) {
	args := append(append([]string{}, queueArgs...), "--idle", idle)
	args = append(args, extra...)
	out, err := env.PHP(ctx, fleetWorkerScript, args...)
	if err != nil {
		return fleetReport{}, err
	}
	var r fleetReport
	if err := json.Unmarshal(out, &r); err != nil {
		return fleetReport{}, fmt.Errorf("fleet_worker output %q: %w", out, err)
	}
	return r, nil
}

// TestFleetMixedWorkers drains one queue with two PHP workers (the think-queue stand-in) and a bridge
// (concurrency 4) side by side: 2,000 jobs, half pushed by the bridge, half by phpredis in PHP's format,
// interleaved. Every job runs exactly once, whoever takes it, and every key ends empty.
func TestFleetMixedWorkers(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t, 5*time.Minute)
			testbridge(t) // built before the workers start, so all three drain the queue side by side
			be := newBackend(t, "redis", dialect)
			q := be.Queue("fleet")
			log := be.Key("log")
			b := be.Open(bridge.WorkerConfig{})
			queueArgs := fleetArgs(be, q)

			const rounds, perRound = 10, 100 // 10 × (100 by the bridge, 100 by PHP) = 2,000 jobs
			pushed := make(map[string]string, 2*rounds*perRound)
			for range rounds {
				for range perRound {
					id, err := b.Push(ctx, q, `test\Record`, map[string]string{"log": log})
					require.NoError(t, err)
					pushed[id] = "bridge"
				}
				out, err := be.env.PHP(ctx, fleetPushScript, slices.Concat(queueArgs, []string{"--count", fmt.Sprint(perRound), "--log", log})...)
				require.NoError(t, err)
				ids := strings.Fields(string(out))
				require.Len(t, ids, perRound)
				for _, id := range ids {
					require.NotContains(t, pushed, id, "duplicate id")
					pushed[id] = "php"
				}
			}
			require.Len(t, pushed, 2*rounds*perRound)
			require.EqualValues(t, len(pushed), be.LLen(be.Keys(q).List))

			var wg sync.WaitGroup
			reports := make([]fleetReport, 2)
			errs := make([]error, 2)
			for i := range reports {
				wg.Go(func() { reports[i], errs[i] = runFleetWorker(ctx, be.env, queueArgs, "1") })
			}
			p := be.StartBridge(q, nil, "--concurrency", "4", "--stop-when-empty", "--sleep", "0.05")
			st := p.wait()
			wg.Wait()
			require.Equal(t, 0, st.ExitCode(), "bridge exit status")
			for i, err := range errs {
				require.NoError(t, err, "PHP worker %d", i)
			}

			// The log holds the id of every run, whoever ran it.
			ran := make(map[string]int, len(pushed))
			for _, id := range be.LRange(log) {
				ran[id]++
			}
			for id, by := range pushed {
				require.Equal(t, 1, ran[id], "job %s (pushed by %s) ran %d times", id, by, ran[id])
			}
			require.Len(t, ran, len(pushed), "the log holds only pushed ids")

			byPHP := 0
			for i, r := range reports {
				require.Len(t, r.IDs, r.Processed)
				for _, id := range r.IDs {
					require.Contains(t, pushed, id, "PHP worker %d ran an unknown job", i)
				}
				byPHP += r.Processed
			}
			t.Logf("%s: PHP workers ran %d + %d jobs, the bridge %d", dialect,
				reports[0].Processed, reports[1].Processed, len(pushed)-byPHP)
			be.RequireGone(append(be.Keys(q).all(), be.FailedKeys()...)...)
		})
	}
}
