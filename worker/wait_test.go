package worker

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// waitingBroker is a fakeBroker that can block until a job is pushed, as the Redis broker's WaitReady does.
type waitingBroker struct {
	*fakeBroker
	wake chan struct{}

	mu    sync.Mutex
	waits [][]string // the queues of each WaitReady call
}

func (b *waitingBroker) WaitReady(ctx context.Context, queues []string, d time.Duration) (bool, error) {
	b.mu.Lock()
	b.waits = append(b.waits, slices.Clone(queues))
	b.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.wake:
		return true, nil
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		return false, nil
	}
}

// TestIdleWorkerWaitsOnTheBroker: with a broker that can block, an idle worker starts a pushed job at once,
// not after Sleep, and waits only on the queues it would reserve from.
func TestIdleWorkerWaitsOnTheBroker(t *testing.T) {
	h := newHarness(t)
	wb := &waitingBroker{fakeBroker: h.broker, wake: make(chan struct{})}
	h.cfg.Queues = []string{"paused", "default"}
	h.cfg.Sleep = time.Hour // a worker that slept would never see the job
	h.cfg.PausedFunc = func(_ context.Context, q string) bool { return q == "paused" }
	ran := make(chan string, 1)
	h.handle("job", func(_ context.Context, job *queue.Job) error {
		ran <- job.ID()
		return nil
	})
	w, err := New(wb, h.rules, h.router, nil, &h.cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start(context.Background()))
	defer func() { require.NoError(t, w.Stop(context.Background())) }()

	require.Eventually(t, func() bool {
		wb.mu.Lock()
		defer wb.mu.Unlock()
		return len(wb.waits) > 0
	}, 5*time.Second, time.Millisecond, "the idle worker waits on the broker")
	h.broker.push("default", "job#1")
	wb.wake <- struct{}{}
	select {
	case id := <-ran:
		require.Equal(t, "1", id)
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not start after the broker woke the worker")
	}
	wb.mu.Lock()
	defer wb.mu.Unlock()
	require.Equal(t, []string{"default"}, wb.waits[0], "a paused queue is not waited on")
}
