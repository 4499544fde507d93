package integration

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/events"
)

// tqxStops records why workers stopped.
type tqxStops struct {
	mu      sync.Mutex
	reasons []string
}

func (s *tqxStops) listen(_ context.Context, ev any) {
	if st, ok := ev.(events.WorkerStopping); ok {
		s.mu.Lock()
		s.reasons = append(s.reasons, st.Reason)
		s.mu.Unlock()
	}
}

func (s *tqxStops) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reasons...)
}

// TestRestart: `bridge restart` (the CLI, same cache prefix) or Conn.Restart while a job runs makes the
// worker return nil once that job is done, as think-queue's queue:restart does: the running job finishes
// and is deleted, and the job queued behind it is left on the queue, untouched, for the next worker.
func TestRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ how, dialect string }{{"cli", tqxDialectV1}, {"conn", tqxDialectV3}} {
		t.Run(tc.how, func(t *testing.T) {
			t.Parallel()
			ctx := tqxCtx(t, time.Minute)
			rdb := tqxRedis(t)
			setup := tqxNewSetup(t, rdb)
			queueName, list, delayed, reserved := tqxQueue(t, rdb, tc.dialect, "restart")

			started := make(chan struct{})
			proceed := make(chan struct{})
			var (
				mu  sync.Mutex
				ran []string
			)
			b := setup.Open(t, ctx, tc.dialect, bridge.WorkerConfig{
				Queues: []string{queueName}, Sleep: 10 * time.Millisecond,
			})
			b.HandleFunc(`app\job\Slow`, func(ctx context.Context, job *bridge.Job) error {
				mu.Lock()
				ran = append(ran, job.ID())
				first := len(ran) == 1
				mu.Unlock()
				if first {
					close(started)
					select {
					case <-proceed:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return nil
			})
			stops := &tqxStops{}
			b.Listen(stops.listen)

			current, err := b.Push(ctx, queueName, `app\job\Slow`, map[string]int{"n": 1})
			require.NoError(t, err)
			behind, err := b.Push(ctx, queueName, `app\job\Slow`, map[string]int{"n": 2})
			require.NoError(t, err)
			behindBytes, err := rdb.LIndex(ctx, list, 1).Result()
			require.NoError(t, err)

			// The worker's own context has no deadline: only the restart signal may stop it.
			runCtx, cancelRun := context.WithCancel(context.Background())
			defer cancelRun()
			done := make(chan error, 1)
			go func() { done <- b.Run(runCtx) }()

			select {
			case <-started:
			case <-ctx.Done():
				t.Fatal("the first job never started")
			}
			switch tc.how {
			case "cli":
				code, out, errOut := setup.CLI(ctx, tc.dialect, "restart")
				require.Equal(t, 0, code, errOut)
				require.Contains(t, out, "Broadcasting queue restart signal ("+setup.RestartKey()+")")
			case "conn":
				require.NoError(t, tqxOpenConn(t, ctx, setup, tc.dialect).Restart(ctx))
			}
			stamp, err := rdb.Get(ctx, setup.RestartKey()).Result()
			require.NoError(t, err)
			_, err = strconv.ParseInt(stamp, 10, 64)
			require.NoError(t, err, "the restart stamp is PHP's plain decimal Unix time, got %q", stamp)
			ttl, err := rdb.TTL(ctx, setup.RestartKey()).Result()
			require.NoError(t, err)
			require.Equal(t, time.Duration(-1), ttl, "the restart stamp has no TTL")
			close(proceed)

			select {
			case err := <-done:
				require.NoError(t, err)
			case <-ctx.Done():
				cancelRun()
				<-done
				t.Fatal("the worker did not stop after the restart signal")
			}
			require.Equal(t, []string{"restart"}, stops.get())

			mu.Lock()
			require.Contains(t, ran, current)
			require.NotContains(t, ran, behind, "the worker started the job queued behind after the restart signal")
			require.Len(t, ran, 1)
			mu.Unlock()
			items, err := rdb.LRange(ctx, list, 0, -1).Result()
			require.NoError(t, err)
			require.Equal(t, []string{behindBytes}, items, "the job behind must wait on the list, untouched")
			tqxRequireGone(t, ctx, rdb, delayed, reserved)
		})
	}
}

// TestRestartStampBeforeStart: a restart stamp that was already there when the worker started (an old
// `queue:restart`) is not a signal: the worker runs every job and stops only because the queue is empty.
func TestRestartStampBeforeStart(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{tqxDialectV1, tqxDialectV3} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := tqxCtx(t, time.Minute)
			rdb := tqxRedis(t)
			setup := tqxNewSetup(t, rdb)
			queueName, list, delayed, reserved := tqxQueue(t, rdb, dialect, "stamp")
			require.NoError(t, rdb.Set(ctx, setup.RestartKey(), "1700000000", 0).Err())

			var (
				mu  sync.Mutex
				ran = map[string]int{}
			)
			b := setup.Open(t, ctx, dialect, bridge.WorkerConfig{
				Queues: []string{queueName}, StopWhenEmpty: true, Sleep: 10 * time.Millisecond,
			})
			b.HandleFunc(`app\job\Quick`, func(_ context.Context, job *bridge.Job) error {
				mu.Lock()
				ran[job.ID()]++
				mu.Unlock()
				return nil
			})
			stops := &tqxStops{}
			b.Listen(stops.listen)
			want := map[string]int{}
			for i := range 5 {
				id, err := b.Push(ctx, queueName, `app\job\Quick`, map[string]int{"n": i})
				require.NoError(t, err)
				want[id] = 1
			}

			require.NoError(t, b.Run(ctx))
			require.Equal(t, []string{"empty"}, stops.get(), "the worker must stop because the queue is empty, not for the old stamp")
			mu.Lock()
			require.Equal(t, want, ran)
			mu.Unlock()
			tqxRequireGone(t, ctx, rdb, list, delayed, reserved)
			stamp, err := rdb.Get(ctx, setup.RestartKey()).Result()
			require.NoError(t, err)
			require.Equal(t, "1700000000", stamp, "the worker must not touch the stamp")
		})
	}
}
