package integration

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestHandback: jobs whose names have no handler here (and no fallback) go back to the list untouched, as
// the PHP producer wrote them (attempts unchanged; v3 not the reserved copy, whose {} became []), nothing
// stays in :reserved, they never fail, and a handled job pushed behind them still runs.
func TestHandback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, dialect string }{{"v1", dialectV1}, {"v3", dialectV3}} {
		for _, concurrency := range []int{1, 8} {
			t.Run(tc.version+"/concurrency="+strconv.Itoa(concurrency), func(t *testing.T) {
				t.Parallel()
				ctx := testCtx(t, time.Minute)
				be := newBackend(t, "redis", tc.dialect)
				q := be.Queue("handback")
				k := be.Keys(q)

				// PHP-written jobs for handlers that live in PHP only: a plain one (v3: data holds {}) and an
				// object job (CallQueuedHandler, which Go can never run).
				var foreign []string
				for _, name := range []string{"assoc_default_queue.json", "object_job.json"} {
					raw, err := os.ReadFile(fixturePath(t, "thinkqueue", tc.version, "redis", "payloads", name))
					require.NoError(t, err)
					foreign = append(foreign, string(raw))
					require.NoError(t, be.Redis.RPush(ctx, k.List, raw).Err())
				}

				rec := be.NewRecorder()
				b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: concurrency, StopWhenEmpty: true,
					Sleep: 10 * time.Millisecond})
				b.HandleFunc(`app\job\Handled`, func(_ context.Context, job *bridge.Job) error {
					rec.Record(job, "ok", nil)
					return nil
				})
				rec.Listen(b)
				handled, err := b.Push(ctx, q, `app\job\Handled`, map[string]string{"k": "v"})
				require.NoError(t, err)

				require.NoError(t, b.Run(ctx))

				require.Equal(t, map[string]int{handled: 1}, rec.Records().ByID(),
					"the handled job pushed behind the unhandled ones must run exactly once (StopWhenEmpty returned before it ran)")
				require.Empty(t, rec.Events().Of("JobFailed"), "an unhandled job is not a failure")

				items := be.LRange(k.List)
				slices.Sort(items)
				want := slices.Clone(foreign)
				slices.Sort(want)
				require.Equal(t, want, items, "the list must hold the unhandled jobs' exact pushed bytes")
				be.RequireGone(k.Delayed, k.Reserved)
				be.RequireGone(be.FailedKeys()...)
			})
		}
	}
}
