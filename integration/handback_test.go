package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/events"
)

// TestHandback: jobs whose names have no handler here (and no fallback) go back to the list untouched, as
// the PHP producer wrote them (attempts unchanged; v3 not the reserved copy, whose {} became []), nothing
// stays in :reserved, they never fail, and a handled job pushed behind them still runs.
func TestHandback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, dialect string }{{"v1", tqxDialectV1}, {"v3", tqxDialectV3}} {
		for _, concurrency := range []int{1, 8} {
			t.Run(tc.version+"/concurrency="+strconv.Itoa(concurrency), func(t *testing.T) {
				t.Parallel()
				ctx := tqxCtx(t, time.Minute)
				rdb := tqxRedis(t)
				setup := tqxNewSetup(t, rdb)
				queueName, list, delayed, reserved := tqxQueue(t, rdb, tc.dialect, "handback")

				// PHP-written jobs for handlers that live in PHP only: a plain one (v3: data holds {}) and an
				// object job (CallQueuedHandler, which Go can never run).
				var foreign []string
				for _, name := range []string{"assoc_default_queue.json", "object_job.json"} {
					raw, err := os.ReadFile(tqxFixturePath(t, filepath.Join(tc.version, "redis", "payloads", name)))
					require.NoError(t, err)
					foreign = append(foreign, string(raw))
					require.NoError(t, rdb.RPush(ctx, list, raw).Err())
				}

				var (
					mu     sync.Mutex
					ran    = map[string]int{}
					failed int
				)
				b := setup.Open(t, ctx, tc.dialect, bridge.WorkerConfig{
					Queues: []string{queueName}, Concurrency: concurrency, StopWhenEmpty: true, Sleep: 10 * time.Millisecond,
				})
				b.HandleFunc(`app\job\Handled`, func(_ context.Context, job *bridge.Job) error {
					mu.Lock()
					ran[job.ID()]++
					mu.Unlock()
					return nil
				})
				b.Listen(func(_ context.Context, ev any) {
					if _, ok := ev.(events.JobFailed); ok {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				})
				handled, err := b.Push(ctx, queueName, `app\job\Handled`, map[string]string{"k": "v"})
				require.NoError(t, err)

				require.NoError(t, b.Run(ctx))

				mu.Lock()
				require.Equal(t, map[string]int{handled: 1}, ran,
					"the handled job pushed behind the unhandled ones must run exactly once (StopWhenEmpty returned before it ran)")
				require.Zero(t, failed, "an unhandled job is not a failure")
				mu.Unlock()

				items, err := rdb.LRange(ctx, list, 0, -1).Result()
				require.NoError(t, err)
				slices.Sort(items)
				want := slices.Clone(foreign)
				slices.Sort(want)
				require.Equal(t, want, items, "the list must hold the unhandled jobs' exact pushed bytes")
				tqxRequireGone(t, ctx, rdb, delayed, reserved)
				tqxRequireGone(t, ctx, rdb, setup.FailedKeys()...)
			})
		}
	}
}
