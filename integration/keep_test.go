package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// Job.Keep leaves the job reserved, as a PHP job that neither deleted nor released itself: it is not
// acknowledged, comes back once its reservation lapses, and runs again with the next attempt.
func TestKeepLeavesTheJobReserved(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t, time.Minute)
	be := newBackend(t, "redis", dialectV3)
	be.Expire = time.Second
	q := be.Queue("keep")
	k := be.Keys(q)
	rec := be.NewRecorder()
	b := be.Open(bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
	b.HandleFunc(`app\job\Keep`, func(_ context.Context, job *bridge.Job) error {
		rec.Record(job, "ok", nil)
		if len(rec.Records()) == 1 { // the first run
			job.Keep()
		}
		return nil
	})
	_, err := b.Push(ctx, q, `app\job\Keep`, nil)
	require.NoError(t, err)

	require.NoError(t, b.Run(ctx)) // stops while the kept job is still reserved
	zs := be.ZRange(k.Reserved)
	require.Len(t, zs, 1, "kept: still reserved, not acknowledged")
	waitFor(t, "the reservation to lapse", func() bool { return float64(time.Now().Unix()) >= zs[0].Score })
	require.NoError(t, b.Run(ctx))
	require.Equal(t, []int{1, 2}, rec.Records().Attempts())
	be.RequireQueueEmpty(q)
}
