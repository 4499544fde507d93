package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// Job.Keep leaves the job reserved, as a PHP job that neither deleted nor released itself: it is not
// acknowledged, comes back once its reservation lapses, and runs again with the next attempt.
func TestKeepLeavesTheJobReserved(t *testing.T) {
	t.Parallel()
	ctx := tqxCtx(t, time.Minute)
	rdb := tqxRedis(t)
	setup := tqxNewSetup(t, rdb)
	queueName, list, delayed, reserved := tqxQueue(t, rdb, tqxDialectV3, "keep")
	cfg := setup.Config(tqxDialectV3, bridge.WorkerConfig{Queues: []string{queueName}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
	cfg.Expire = time.Second
	b, err := bridge.Open(ctx, cfg)
	require.NoError(t, err)
	defer b.Close()
	var mu sync.Mutex
	var attempts []int
	b.HandleFunc(`app\job\Keep`, func(_ context.Context, job *bridge.Job) error {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, job.Attempts())
		if len(attempts) == 1 {
			job.Keep()
		}
		return nil
	})
	_, err = b.Push(ctx, queueName, `app\job\Keep`, nil)
	require.NoError(t, err)

	require.NoError(t, b.Run(ctx)) // stops while the kept job is still reserved
	n, err := rdb.ZCard(ctx, reserved).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "kept: still reserved, not acknowledged")

	zs, err := rdb.ZRangeWithScores(ctx, reserved, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, zs, 1)
	tqxWaitFor(t, ctx, "the reservation to lapse", func() (bool, error) {
		return float64(time.Now().Unix()) >= zs[0].Score, nil
	})
	require.NoError(t, b.Run(ctx))
	require.Equal(t, []int{1, 2}, attempts)
	tqxRequireGone(t, ctx, rdb, list, delayed, reserved)
}
