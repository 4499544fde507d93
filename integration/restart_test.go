package integration

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestRestart: `bridge restart` (the CLI, same cache prefix) or Conn.Restart while a job runs makes the
// worker return nil once that job is done, as think-queue's queue:restart does: the running job finishes
// and is deleted, and the job queued behind it is left on the queue, untouched, for the next worker.
func TestRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ how, dialect string }{{"cli", dialectV1}, {"conn", dialectV3}} {
		t.Run(tc.how, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t, time.Minute)
			be := newBackend(t, "redis", tc.dialect)
			q := be.Queue("restart")
			k := be.Keys(q)

			started := make(chan struct{})
			proceed := make(chan struct{})
			rec := be.NewRecorder()
			var runs atomic.Int32
			b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Sleep: 10 * time.Millisecond})
			b.HandleFunc(`app\job\Slow`, func(ctx context.Context, job *bridge.Job) error {
				rec.Record(job, "start", nil)
				if runs.Add(1) == 1 {
					close(started)
					select {
					case <-proceed:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			})
			rec.Listen(b)

			current, err := b.Push(ctx, q, `app\job\Slow`, map[string]int{"n": 1})
			require.NoError(t, err)
			behind, err := b.Push(ctx, q, `app\job\Slow`, map[string]int{"n": 2})
			require.NoError(t, err)
			behindBytes := be.LRange(k.List)[1]

			// The worker's own context has no deadline: only the restart signal may stop it.
			run := runBackground(t, b)
			select {
			case <-started:
			case <-ctx.Done():
				t.Fatal("the first job never started")
			}
			switch tc.how {
			case "cli":
				code, out, errOut := be.CLI(ctx, "restart")
				require.Equal(t, 0, code, errOut)
				require.Contains(t, out, "Broadcasting queue restart signal ("+be.RestartKey()+")")
			case "conn":
				require.NoError(t, be.Open(bridge.WorkerConfig{}).Restart(ctx))
			}
			stamp, err := be.Redis.Get(ctx, be.RestartKey()).Result()
			require.NoError(t, err)
			_, err = strconv.ParseInt(stamp, 10, 64)
			require.NoError(t, err, "the restart stamp is PHP's plain decimal Unix time, got %q", stamp)
			ttl, err := be.Redis.TTL(ctx, be.RestartKey()).Result()
			require.NoError(t, err)
			require.Equal(t, time.Duration(-1), ttl, "the restart stamp has no TTL")
			close(proceed)

			require.NoError(t, run.wait(t), "the worker stops after the restart signal")
			require.Equal(t, []string{"restart"}, rec.Events().StopReasons())

			ran := rec.Records().IDs()
			require.Contains(t, ran, current)
			require.NotContains(t, ran, behind, "the worker started the job queued behind after the restart signal")
			require.Len(t, ran, 1)
			require.Equal(t, []string{behindBytes}, be.LRange(k.List), "the job behind must wait on the list, untouched")
			be.RequireGone(k.Delayed, k.Reserved)
		})
	}
}

// TestRestartStampBeforeStart: a restart stamp that was already there when the worker started (an old
// `queue:restart`) is not a signal: the worker runs every job and stops only because the queue is empty.
func TestRestartStampBeforeStart(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t, time.Minute)
			be := newBackend(t, "redis", dialect)
			q := be.Queue("stamp")
			require.NoError(t, be.Redis.Set(ctx, be.RestartKey(), "1700000000", 0).Err())

			rec := be.NewRecorder()
			b := be.Open(bridge.WorkerConfig{Queues: []string{q}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
			b.HandleFunc(`app\job\Quick`, func(_ context.Context, job *bridge.Job) error {
				rec.Record(job, "ok", nil)
				return nil
			})
			rec.Listen(b)
			want := map[string]int{}
			for i := range 5 {
				id, err := b.Push(ctx, q, `app\job\Quick`, map[string]int{"n": i})
				require.NoError(t, err)
				want[id] = 1
			}

			require.NoError(t, b.Run(ctx))
			require.Equal(t, []string{"empty"}, rec.Events().StopReasons(), "the worker must stop because the queue is empty, not for the old stamp")
			require.Equal(t, want, rec.Records().ByID())
			be.RequireQueueEmpty(q)
			stamp, err := be.Redis.Get(ctx, be.RestartKey()).Result()
			require.NoError(t, err)
			require.Equal(t, "1700000000", stamp, "the worker must not touch the stamp")
		})
	}
}
