package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func ok(context.Context, *queue.Job) error { return nil }

// TestPriorityOrder: a lower queue is reserved from only once the ones before it are empty.
func TestPriorityOrder(t *testing.T) {
	h := newHarness(t)
	h.cfg.Queues = []string{"high", "low"}
	h.cfg.Batch = 1 // one job per reserve, jobs reserved ahead included
	h.cfg.StopWhenEmpty = true
	h.broker.push("low", "job#l1", "job#l2", "job#l3")
	h.broker.push("high", "job#h1", "job#h2", "job#h3")
	var mu sync.Mutex
	var order []string
	h.handle("job", func(_ context.Context, job *queue.Job) error {
		mu.Lock()
		order = append(order, job.ID())
		mu.Unlock()
		return nil
	})
	require.NoError(t, h.run(h.worker(), 5*time.Second))
	require.Equal(t, []string{"h1", "h2", "h3", "l1", "l2", "l3"}, order)
	for _, c := range h.broker.snapshot().calls {
		if c.queue == "low" {
			break
		}
		require.Equal(t, 1, c.n, "one job per reserve")
	}
}

// TestPriorityWhileReservingAhead: a job pushed onto a higher queue while a lower one drains with jobs
// reserved ahead starts after at most the lower jobs already reserved (two batches ahead, the batch being
// started and the slots' jobs), not after the lower queue is empty.
func TestPriorityWhileReservingAhead(t *testing.T) {
	const lows, concurrency, batch = 3000, 4, 16
	h := newHarness(t)
	h.cfg.Queues = []string{"high", "low"}
	h.cfg.Concurrency = concurrency
	h.cfg.Batch = batch
	h.cfg.StopWhenEmpty = true
	for i := range lows {
		h.broker.push("low", fmt.Sprintf("job#l%d", i))
	}
	var lowRuns, lowBefore atomic.Int64
	lowBefore.Store(-1)
	var pushed atomic.Bool
	h.handle("job", func(_ context.Context, job *queue.Job) error {
		if strings.HasPrefix(job.ID(), "h") {
			lowBefore.Store(lowRuns.Load())
			return nil
		}
		if n := lowRuns.Add(1); n == 200 && pushed.CompareAndSwap(false, true) {
			h.broker.push("high", "job#h1")
		}
		time.Sleep(50 * time.Microsecond)
		return nil
	})
	require.NoError(t, h.run(h.worker(), 20*time.Second))
	require.True(t, pushed.Load())
	started := lowBefore.Load() - 200
	t.Logf("the high job started after %d more low jobs", started)
	require.GreaterOrEqual(t, started, int64(0), "the high job ran")
	require.LessOrEqual(t, started, int64(3*batch+concurrency), "low jobs started before the high one")
}

// TestReserveAheadBounded: while every slot is busy the worker reserves the next batch ahead, but it never
// holds more jobs that have not started than its free slots and what it may hold ahead (aheadCap): at every
// reserve, the jobs reserved whose handler has not begun plus those asked for stay within Concurrency +
// limit. With 5 ms jobs, four slots start 80 jobs within aheadMaxWait, and that is the limit (a batch of 64
// held and part of the next); one slot starts 20; with a batch of 3, two batches are.
func TestReserveAheadBounded(t *testing.T) {
	for _, c := range []struct{ concurrency, batch, limit int }{{4, 64, 80}, {1, 64, 20}, {8, 3, 6}} {
		t.Run(fmt.Sprintf("c%d-batch%d", c.concurrency, c.batch), func(t *testing.T) {
			const jobs = 120
			h := newHarness(t)
			h.cfg.Concurrency = c.concurrency
			h.cfg.Batch = c.batch
			h.cfg.StopWhenEmpty = true
			for i := range jobs {
				h.broker.push("default", fmt.Sprintf("job#%d", i))
			}
			limit := c.concurrency + c.limit
			var running, reserved, begun atomic.Int64
			var mu sync.Mutex
			var violations []string
			ahead := 0 // reserves that asked for more jobs than there were free slots
			h.broker.beforeReserve = func(call int, q string, n int) error {
				waiting := int(reserved.Load() - begun.Load())
				mu.Lock()
				defer mu.Unlock()
				if waiting+n > limit {
					violations = append(violations, fmt.Sprintf("reserve #%d asked for %d jobs with %d not started", call, n, waiting))
				}
				if waiting+n > c.concurrency-int(running.Load()) {
					ahead++
				}
				return nil
			}
			h.broker.afterReserve = func(_ int, _ string, got []queue.Reservation) { reserved.Add(int64(len(got))) }
			h.handle("job", func(context.Context, *queue.Job) error {
				begun.Add(1)
				running.Add(1)
				defer running.Add(-1)
				time.Sleep(5 * time.Millisecond)
				return nil
			})
			require.NoError(t, h.run(h.worker(), 10*time.Second))
			require.Empty(t, violations)
			require.NotZero(t, ahead, "some batch was reserved ahead of free slots")
			s := h.broker.snapshot()
			require.Len(t, s.deleted, jobs)
			require.Zero(t, s.reserved)
		})
	}
}

// TestReserveAheadOneCallAtATime: the next reservation ahead may leave while the jobs of the one before are
// decoded, but never while its store call is still under way (think-queue 3.x's copies are made from the
// head the previous call returned): with slow store calls and slow decoding, the reserves never overlap,
// and every job runs once.
func TestReserveAheadOneCallAtATime(t *testing.T) {
	const jobs = 600
	h := newHarness(t)
	h.cfg.Concurrency = 8
	h.cfg.Batch = 16
	h.cfg.StopWhenEmpty = true
	h.rules.decodeDelay = 100 * time.Microsecond
	for i := range jobs {
		h.broker.push("default", fmt.Sprintf("job#%d", i))
	}
	var inReserve, most atomic.Int64
	h.broker.beforeReserve = func(int, string, int) error {
		n := inReserve.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		return nil
	}
	h.broker.afterReserve = func(int, string, []queue.Reservation) { inReserve.Add(-1) }
	var ran atomic.Int64
	h.handle("job", func(context.Context, *queue.Job) error {
		ran.Add(1)
		return nil
	})
	require.NoError(t, h.run(h.worker(), 20*time.Second))
	require.EqualValues(t, 1, most.Load(), "reserve calls side by side")
	require.EqualValues(t, jobs, ran.Load())
	require.Len(t, h.broker.snapshot().deleted, jobs)
}

// TestReserveAheadHandedBackOnStop: jobs reserved ahead that never started go back untouched on a stop,
// attempts unchanged, with one log line; nothing else ran.
func TestReserveAheadHandedBackOnStop(t *testing.T) {
	h := newHarness(t)
	h.cfg.Concurrency = 2
	h.cfg.GracePeriod = time.Minute
	// Two quick jobs first: a worker reserves ahead only once it has seen its jobs are short.
	h.broker.push("default", "quick#a", "quick#b")
	for i := range 6 {
		h.broker.push("default", fmt.Sprintf("blocks#%d", i))
	}
	h.handle("quick", func(context.Context, *queue.Job) error { return nil })
	var started atomic.Int64
	h.handle("blocks", func(ctx context.Context, job *queue.Job) error {
		started.Add(1)
		<-ctx.Done()
		return ctx.Err()
	})
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	var reserved int
	eventually(t, 5*time.Second, "two running and some reserved ahead", func() bool {
		reserved = h.broker.snapshot().reserved
		return started.Load() == 2 && reserved > 2
	})
	time.Sleep(50 * time.Millisecond) // a reservation ahead still in flight lands
	reserved = h.broker.snapshot().reserved
	require.NoError(t, w.StopAndCancel(context.Background()))
	require.EqualValues(t, 2, started.Load(), "no job reserved ahead started")
	s := h.broker.snapshot()
	require.Len(t, s.handedBack, reserved, "the two cancelled and every job reserved ahead went back")
	require.ElementsMatch(t, []string{"blocks#0", "blocks#1", "blocks#2", "blocks#3", "blocks#4", "blocks#5"}, s.ready["default"])
	require.ElementsMatch(t, []string{"quick#a", "quick#b"}, s.deleted)
	require.Zero(t, s.reserved)
	for i := range 6 {
		require.Zero(t, h.broker.attemptsOf(fmt.Sprintf("blocks#%d", i)), "handed back with attempts unchanged")
	}
	require.Len(t, h.logs.withMsg("jobs reserved ahead handed back untouched"), 1)
}

// TestLeaseCoversReservedAhead: a job reserved ahead waits 1.6s for the one slot behind a slow job; its
// 1s reservation (whole seconds, as the stores keep it) is extended while it waits, so it never lapses
// before it runs.
func TestLeaseCoversReservedAhead(t *testing.T) {
	h := newHarness(t)
	h.cfg.Expire = time.Second
	h.cfg.StopWhenEmpty = true
	h.broker.expire = time.Second
	// A quick job first: a worker reserves ahead only once it has seen its jobs are short.
	h.broker.push("default", "quick#0", "slow#1", "job#2")
	h.handle("quick", func(context.Context, *queue.Job) error { return nil })
	var lapsed []string
	var sampled int
	h.handle("slow", func(ctx context.Context, job *queue.Job) error {
		end := time.Now().Add(1600 * time.Millisecond)
		for time.Now().Before(end) {
			if until, held := h.broker.lapseOf("job#2"); held {
				sampled++
				if !until.After(time.Now()) {
					lapsed = append(lapsed, fmt.Sprintf("job#2's reservation lapsed at %s, now %s", until.Format(time.StampMilli), time.Now().Format(time.StampMilli)))
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	})
	var attempts int
	h.handle("job", func(_ context.Context, job *queue.Job) error {
		attempts = h.broker.attemptsOf("job#2")
		return nil
	})
	// Reserved early in a second, slow#1's reservation is fresh enough to reserve behind it (see leaseFresh).
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 50*time.Millisecond).Sub(now))
	require.NoError(t, h.run(h.worker(), 10*time.Second))
	require.NotZero(t, sampled, "job#2 was reserved ahead while slow#1 ran")
	require.Empty(t, lapsed)
	require.Equal(t, 1, attempts, "job#2 ran on its first reservation")
	require.ElementsMatch(t, []string{"quick#0", "slow#1", "job#2"}, h.broker.snapshot().deleted)
	require.Empty(t, h.logs.withMsg("reservation lost before the job started"))
}

// TestAcksBatched: jobs that finish together are acknowledged together, in one or two Deletes rather than
// one each, and a stop right after a job finished returns only once its acknowledgement landed.
func TestAcksBatched(t *testing.T) {
	const jobs = 16
	h := newHarness(t)
	h.cfg.Concurrency = jobs
	for i := range jobs {
		h.broker.push("default", fmt.Sprintf("job#%d", i))
	}
	var started sync.WaitGroup
	started.Add(jobs)
	gate := make(chan struct{})
	var finished atomic.Int64
	h.handle("job", func(context.Context, *queue.Job) error {
		started.Done()
		<-gate
		finished.Add(1)
		return nil
	})
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	started.Wait()
	close(gate)
	eventually(t, 5*time.Second, "every job finished", func() bool { return finished.Load() == jobs })
	require.NoError(t, w.Stop(context.Background()))
	s := h.broker.snapshot()
	require.Len(t, s.deleted, jobs, "every acknowledgement landed before Stop returned")
	require.LessOrEqual(t, s.deletes, 2, "acknowledgements share round trips")
}

// TestLeaseExtendedWhileJobRuns: with a reservation of 1s (kept in whole seconds, as the stores keep it),
// a job running for 1.6s is extended so its reservation never lapses while it runs.
func TestLeaseExtendedWhileJobRuns(t *testing.T) {
	h := newHarness(t)
	h.cfg.Expire = time.Second
	h.cfg.StopWhenEmpty = true
	h.broker.expire = time.Second
	h.broker.push("default", "slow#1")
	var lapsed []string
	started := make(chan struct{})
	h.handle("slow", func(ctx context.Context, job *queue.Job) error {
		close(started)
		end := time.Now().Add(1600 * time.Millisecond)
		for time.Now().Before(end) {
			until, held := h.broker.lapseOf("slow#1")
			if !held || !until.After(time.Now()) {
				lapsed = append(lapsed, fmt.Sprintf("reservation lapsed at %s (held %v), now %s", until.Format(time.StampMilli), held, time.Now().Format(time.StampMilli)))
			}
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	})
	require.NoError(t, h.run(h.worker(), 10*time.Second))
	<-started
	require.Empty(t, lapsed)
	s := h.broker.snapshot()
	require.NotEmpty(t, s.extends)
	for _, e := range s.extends {
		require.Zero(t, e.until.Nanosecond(), "extends to a whole second")
		require.False(t, e.until.Before(e.at.Add(time.Second-10*time.Millisecond)), "extends to at least now+expire")
	}
	require.Equal(t, []string{"slow#1"}, s.deleted)
}

// TestLeaseExtendedSideBySide: with a store that takes 150ms per extension, eight running jobs still
// keep their 1s reservations: one look extends them side by side, not one after the other.
func TestLeaseExtendedSideBySide(t *testing.T) {
	t.Parallel()
	const jobs = 8
	h := newHarness(t)
	h.cfg.Expire = time.Second
	h.cfg.Concurrency = jobs
	h.cfg.StopWhenEmpty = true
	h.broker.expire = time.Second
	h.broker.extendDelay = 150 * time.Millisecond
	for i := range jobs {
		h.broker.push("default", fmt.Sprintf("slow#%d", i))
	}
	var mu sync.Mutex
	var lapsed []string
	h.handle("slow", func(_ context.Context, job *queue.Job) error {
		member := string(job.Reservation().Member)
		end := time.Now().Add(1600 * time.Millisecond)
		for time.Now().Before(end) {
			if until, _ := h.broker.lapseOf(member); !until.After(time.Now()) {
				mu.Lock()
				lapsed = append(lapsed, fmt.Sprintf("%s lapsed at %s", member, until.Format(time.StampMilli)))
				mu.Unlock()
			}
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	})
	require.NoError(t, h.run(h.worker(), 10*time.Second))
	require.Empty(t, lapsed)
	require.Len(t, h.broker.snapshot().deleted, jobs)
}

// TestLeaseHeldBeforeHandlerStarts: a reservation taken in the last millisecond of a second holds for
// just that millisecond with a 1s expire (the stores keep whole seconds); it is extended before the
// handler starts.
func TestLeaseHeldBeforeHandlerStarts(t *testing.T) {
	h := newHarness(t)
	clock := newFakeClock()
	clock.Advance(999 * time.Millisecond)
	h.useClock(clock)
	h.cfg.Expire = time.Second
	h.cfg.StopWhenEmpty = true
	h.broker.expire = time.Second
	h.broker.push("default", "job#1")
	var ahead time.Duration
	h.handle("job", func(context.Context, *queue.Job) error {
		until, _ := h.broker.lapseOf("job#1")
		ahead = until.Sub(clock.Now())
		return nil
	})
	require.NoError(t, h.run(h.worker(), 5*time.Second))
	require.GreaterOrEqual(t, ahead, time.Second, "the reservation holds for expire when the handler starts")
}

// TestStopGraceAndHandBack: Stop lets a running job finish within the grace period and hands back one
// that does not, untouched; nothing new is reserved after the stop.
func TestStopGraceAndHandBack(t *testing.T) {
	h := newHarness(t)
	h.cfg.Concurrency = 2
	h.cfg.GracePeriod = 300 * time.Millisecond
	h.broker.push("default", "finishes#1", "blocks#2", "waits#3")
	var started sync.WaitGroup
	started.Add(2)
	stopCalled := make(chan struct{})
	var sawCancel atomic.Bool
	h.handle("finishes", func(ctx context.Context, job *queue.Job) error {
		started.Done()
		<-stopCalled
		time.Sleep(50 * time.Millisecond) // well inside the grace period
		return nil
	})
	h.handle("blocks", func(ctx context.Context, job *queue.Job) error {
		started.Done()
		<-ctx.Done()
		sawCancel.Store(true)
		return ctx.Err()
	})
	var waitsRan atomic.Bool
	h.handle("waits", func(context.Context, *queue.Job) error {
		waitsRan.Store(true)
		return nil
	})
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	started.Wait()
	begin := time.Now()
	close(stopCalled)
	require.NoError(t, w.Stop(context.Background()))
	took := time.Since(begin)
	<-w.Stopped()
	require.NoError(t, w.Err())
	require.True(t, sawCancel.Load(), "the job past the grace period was cancelled")
	require.GreaterOrEqual(t, took, 300*time.Millisecond, "Stop waited for the grace period")
	s := h.broker.snapshot()
	require.Equal(t, []string{"finishes#1"}, s.deleted)
	// waits#3 is reserved ahead unless the stop came first: then it goes back as the stop begins, the
	// cancelled one after the grace period.
	require.Equal(t, "blocks#2", s.handedBack[len(s.handedBack)-1])
	require.Subset(t, []string{"waits#3", "blocks#2"}, s.handedBack)
	require.False(t, waitsRan.Load(), "the job behind never ran")
	require.Equal(t, []string{"waits#3", "blocks#2"}, s.ready["default"], "the job behind never ran; the cancelled one is back")
	require.Zero(t, s.reserved)
	require.Zero(t, h.broker.attemptsOf("waits#3"), "handed back with its attempts unchanged")
	require.Zero(t, h.broker.attemptsOf("blocks#2"), "handed back with its attempts unchanged")
	require.Equal(t, Stats{}, w.Stats())
}

// TestStopContextEndsGrace: when Stop's context ends before the grace period, the running jobs are
// cancelled at once and handed back, and Stop returns the context's error once the worker stopped.
func TestStopContextEndsGrace(t *testing.T) {
	h := newHarness(t)
	h.cfg.GracePeriod = time.Minute
	h.broker.push("default", "blocks#1")
	started := make(chan struct{})
	h.handle("blocks", func(ctx context.Context, job *queue.Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, w.Stop(ctx), context.DeadlineExceeded)
	select {
	case <-w.Stopped():
	default:
		t.Fatal("Stop returned before the worker stopped")
	}
	require.Equal(t, []string{"blocks#1"}, h.broker.snapshot().handedBack)
}

// TestStopAndCancel cancels running jobs at once, without waiting for the grace period, and hands them back.
func TestStopAndCancel(t *testing.T) {
	h := newHarness(t)
	h.cfg.GracePeriod = time.Minute
	h.cfg.Concurrency = 3
	h.broker.push("default", "blocks#1", "blocks#2", "blocks#3")
	var started sync.WaitGroup
	started.Add(3)
	h.handle("blocks", func(ctx context.Context, job *queue.Job) error {
		started.Done()
		<-ctx.Done()
		return ctx.Err()
	})
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	started.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	begin := time.Now()
	require.NoError(t, w.StopAndCancel(ctx))
	require.Less(t, time.Since(begin), 2*time.Second)
	s := h.broker.snapshot()
	require.ElementsMatch(t, []string{"blocks#1", "blocks#2", "blocks#3"}, s.handedBack)
	require.Empty(t, s.deleted)
	require.Empty(t, s.releases)
	require.Len(t, h.logs.withMsg("stop and cancel: cancelling running jobs"), 1)
}

// TestLifecycle: Start once, Stop only a started worker, Run returns nil when its context is cancelled.
func TestLifecycle(t *testing.T) {
	h := newHarness(t)
	w := h.worker()
	require.Error(t, w.Stop(context.Background()), "not started")
	require.Error(t, w.StopAndCancel(context.Background()), "not started")
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, w.Start(ctx))
	require.Error(t, w.Start(ctx), "a worker runs once")
	select {
	case <-w.Stopped():
		t.Fatal("stopped before it was told to")
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	select {
	case <-w.Stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling Start's context did not stop the worker")
	}
	require.NoError(t, w.Err())
	require.NoError(t, w.Stop(context.Background()), "stopping a stopped worker")

	_, err := New(h.broker, h.rules, h.router, nil, &Config{IDFunc: h.cfg.IDFunc})
	require.ErrorContains(t, err, "Queues is empty")
}

// TestRestartSignal: a restart signal arriving while a reservation is on its way sends the jobs just
// reserved back untouched, and the worker stops once its running job finished.
func TestRestartSignal(t *testing.T) {
	h := newHarness(t)
	h.broker.push("default", "slow#1", "job#2", "job#3")
	secondReserve := make(chan struct{})
	h.broker.afterReserve = func(call int, q string, got []queue.Reservation) {
		if call == 2 {
			close(secondReserve)
		}
	}
	var reads atomic.Int64
	h.cfg.RestartStampFunc = func(ctx context.Context) (string, error) {
		// Reading 1 is the baseline, 2 goes with the first reserve; the signal comes during the second.
		if reads.Add(1) < 3 {
			return "100", nil
		}
		select {
		case <-secondReserve:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return "200", nil
	}
	var stopping []string
	ev := &events.Dispatcher{}
	ev.Listen(func(_ context.Context, e any) {
		if s, ok := e.(events.WorkerStopping); ok {
			stopping = append(stopping, s.Reason)
		}
	})
	var ran []string
	h.handle("slow", func(context.Context, *queue.Job) error {
		ran = append(ran, "slow#1")
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	h.handle("job", func(_ context.Context, job *queue.Job) error {
		ran = append(ran, "job#"+job.ID())
		return nil
	})
	w, err := New(h.broker, h.rules, h.router, ev, &h.cfg)
	require.NoError(t, err)
	require.NoError(t, h.run(w, 5*time.Second))
	require.Equal(t, []string{"slow#1"}, ran)
	require.Equal(t, []string{"restart"}, stopping)
	s := h.broker.snapshot()
	require.Equal(t, []string{"slow#1"}, s.deleted)
	require.Equal(t, []string{"job#2"}, s.handedBack)
	require.Equal(t, []string{"job#3", "job#2"}, s.ready["default"])
	require.Zero(t, h.broker.attemptsOf("job#2"))
}

// TestMemoryLimit: past Config.Memory the worker stops with ErrMemoryExceeded, taking nothing more.
func TestMemoryLimit(t *testing.T) {
	h := newHarness(t)
	h.cfg.Memory = 1
	h.cfg.StopWhenEmpty = true
	h.broker.push("default", "job#1")
	h.handle("job", ok)
	err := h.run(h.worker(), 5*time.Second)
	require.ErrorIs(t, err, ErrMemoryExceeded)
	require.Equal(t, []string{"job#1"}, h.broker.snapshot().ready["default"])
}

// TestHandlerPanic: a panic ends the run in a *PanicError of one line, its stack is logged on its own,
// and the worker goes on.
func TestHandlerPanic(t *testing.T) {
	h := newHarness(t)
	h.cfg.StopWhenEmpty = true
	h.cfg.Tries = 1
	h.broker.push("default", "panics#1", "job#2")
	h.handle("panics", func(context.Context, *queue.Job) error { panic("boom") })
	h.handle("job", ok)
	require.NoError(t, h.run(h.worker(), 5*time.Second))
	s := h.broker.snapshot()
	require.Equal(t, []string{"job#2"}, s.deleted, "the worker went on")
	require.Len(t, s.failed, 1)
	require.Equal(t, "panic in handler for panics: boom", s.failed[0].Exception)
	errs := h.rules.errors()
	require.Len(t, errs, 1)
	pe, isPanic := errors.AsType[*PanicError](errs[0])
	require.True(t, isPanic, "got %T", errs[0])
	require.Equal(t, "panics", pe.Job)
	require.Equal(t, "boom", pe.Value)
	require.NotContains(t, pe.Error(), "\n")
	logged := h.logs.withMsg("handler panicked")
	require.Len(t, logged, 1)
	require.Contains(t, logged[0].attrs["stack"], "panic")
	require.Equal(t, "boom", logged[0].attrs["panic"])
}

// TestUnhandledBacksOff: a job nobody here runs goes back untouched; its queue then rests 1s, doubling
// to 30s, and the log says so once, then sums up once a minute.
func TestUnhandledBacksOff(t *testing.T) {
	h := newHarness(t)
	clock := newFakeClock()
	h.useClock(clock)
	h.cfg.Sleep = time.Millisecond
	h.broker.push("default", "nobody#1")
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	defer func() { require.NoError(t, w.Stop(context.Background())) }()

	reserves := func() int { return h.broker.snapshot().reservesOf("default") }
	// A round reserves the job, then once more to look behind it; the queue then rests.
	settle := func(want int) {
		t.Helper()
		eventually(t, 5*time.Second, fmt.Sprintf("%d reserves", want), func() bool { return reserves() >= want })
		time.Sleep(30 * time.Millisecond) // the loop turns about 30 times meanwhile
		require.Equal(t, want, reserves(), "the queue rests")
	}
	settle(2)
	for _, rest := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		before := reserves()
		clock.Advance(rest - 10*time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		require.Equal(t, before, reserves(), "still resting %s after a rest of %s began", rest-10*time.Millisecond, rest)
		clock.Advance(10 * time.Millisecond)
		settle(before + 2)
	}
	s := h.broker.snapshot()
	require.Equal(t, []string{"nobody#1"}, s.ready["default"], "untouched, back on its queue")
	require.Zero(t, h.broker.attemptsOf("nobody#1"))
	require.Len(t, h.logs.withMsg("job handed back untouched, for a worker that can run it"), 1)
	summaries := h.logs.withMsg("jobs handed back untouched")
	require.Len(t, summaries, 1, "the rests added up to more than a minute")
	require.Equal(t, "nobody", summaries[0].attrs["job"])
}

// TestReserveErrorEndsDrain: with StopWhenEmpty or Once, a failed reserve is no empty queue: Run returns
// the error, wrapped once.
func TestReserveErrorEndsDrain(t *testing.T) {
	for _, mode := range []string{"stop-when-empty", "once"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.StopWhenEmpty = mode == "stop-when-empty"
			h.cfg.Once = mode == "once"
			h.broker.push("default", "job#1")
			h.handle("job", ok)
			storeErr := errors.New("reserve default: connection refused")
			h.broker.beforeReserve = func(int, string, int) error { return storeErr }
			err := h.run(h.worker(), 5*time.Second)
			require.ErrorIs(t, err, storeErr)
			require.Equal(t, "worker: reserve default: connection refused", err.Error())
		})
	}
}

// TestReserveErrorDaemonGoesOn: a daemon logs a failed reserve, waits, and goes on.
func TestReserveErrorDaemonGoesOn(t *testing.T) {
	h := newHarness(t)
	h.broker.push("default", "job#1")
	h.broker.beforeReserve = func(call int, q string, n int) error {
		if call <= 2 {
			return errors.New("reserve default: connection refused")
		}
		return nil
	}
	ran := make(chan struct{})
	h.handle("job", func(context.Context, *queue.Job) error { close(ran); return nil })
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not go on after a failed reserve")
	}
	require.NoError(t, w.Stop(context.Background()))
	logged := h.logs.withMsg("reserve failed")
	require.Len(t, logged, 2)
	require.Equal(t, "reserve default: connection refused", logged[0].attrs["err"])
	require.Equal(t, "5ms", logged[0].attrs["retry_in"])
	require.Equal(t, "10ms", logged[1].attrs["retry_in"], "the wait doubles")
}

// TestStopWhenEmptyRaceWithRelease: a job that releases itself (delay 0) after a reserve found the queue
// empty, but before that reserve answered, is run again: empty needs a look at the queues that began after
// the last job settled.
func TestStopWhenEmptyRaceWithRelease(t *testing.T) {
	h := newHarness(t)
	h.cfg.StopWhenEmpty = true
	h.cfg.Concurrency = 2
	h.broker.push("default", "again#1")
	looked := make(chan struct{})
	var w *Worker
	h.broker.afterReserve = func(call int, q string, got []queue.Reservation) {
		if call == 2 {
			// This reserve found the queue empty; the running job releases itself before it answers.
			close(looked)
			eventually(t, 5*time.Second, "the run to settle", func() bool { return w.runningCount() == 0 })
		}
	}
	var runs atomic.Int64
	h.handle("again", func(_ context.Context, job *queue.Job) error {
		if runs.Add(1) == 1 {
			<-looked
			job.Release(0)
		}
		return nil
	})
	w = h.worker()
	require.NoError(t, h.run(w, 5*time.Second))
	require.EqualValues(t, 2, runs.Load(), "the released job ran again")
	require.Equal(t, []string{"again#1"}, h.broker.snapshot().deleted)
}

// TestUnservedHeadDoesNotHideJobs: a job nobody here runs at the head of a queue that gives it out first
// again (a jobs table) does not make the queue count as empty while runnable jobs sit behind it.
func TestUnservedHeadDoesNotHideJobs(t *testing.T) {
	for _, head := range []bool{true, false} {
		t.Run(fmt.Sprintf("head-hand-back=%v", head), func(t *testing.T) {
			h := newHarness(t)
			h.broker.headHandBack = head
			h.cfg.StopWhenEmpty = true
			h.broker.push("default", "nobody#u", "job#1", "job#2", "job#3")
			h.handle("job", ok)
			require.NoError(t, h.run(h.worker(), 5*time.Second))
			s := h.broker.snapshot()
			require.ElementsMatch(t, []string{"job#1", "job#2", "job#3"}, s.deleted)
			require.Equal(t, []string{"nobody#u"}, s.ready["default"])
			require.Zero(t, s.reserved)
		})
	}
}

// TestOnce runs one job and returns; with nothing to run it returns at once.
func TestOnce(t *testing.T) {
	h := newHarness(t)
	h.cfg.Once = true
	h.cfg.Concurrency = 4
	h.broker.push("default", "nobody#u", "job#1", "job#2")
	h.handle("job", ok)
	require.NoError(t, h.run(h.worker(), 5*time.Second))
	s := h.broker.snapshot()
	require.Equal(t, []string{"job#1"}, s.deleted)
	require.Equal(t, []string{"job#2", "nobody#u"}, s.ready["default"])

	h2 := newHarness(t)
	h2.cfg.Once = true
	require.NoError(t, h2.run(h2.worker(), 5*time.Second))
}

// TestTimeoutStuckHandler: a handler that ignores its context has its job settled as timed out a second
// after its timeout (the rules see context.DeadlineExceeded), its lease is extended no more, its slot stays
// busy until it returns, and its late result is ignored.
func TestTimeoutStuckHandler(t *testing.T) {
	for _, outcome := range []string{"released", "failed"} {
		t.Run(outcome, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.cfg.Timeout = 100 * time.Millisecond
			h.cfg.Expire = time.Second
			h.cfg.Delay = time.Hour
			h.broker.expire = time.Second
			if outcome == "failed" {
				h.rules.failAfter = func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }
			}
			h.broker.push("default", "stuck#1", "job#2")
			gate := make(chan struct{})
			h.handle("stuck", func(context.Context, *queue.Job) error {
				<-gate
				return nil // a success nobody may count any more
			})
			ranSecond := make(chan struct{})
			h.handle("job", func(context.Context, *queue.Job) error { close(ranSecond); return nil })
			w := h.worker()
			require.NoError(t, w.Start(context.Background()))
			eventually(t, 5*time.Second, "the job to be settled as timed out", func() bool {
				s := h.broker.snapshot()
				return len(s.releases)+len(s.failed) > 0
			})
			settledAt := time.Now()
			errs := h.rules.errors()
			require.Len(t, errs, 1)
			require.ErrorIs(t, errs[0], context.DeadlineExceeded)
			require.Equal(t, Stats{Running: 1, Stuck: 1}, w.Stats())

			time.Sleep(600 * time.Millisecond) // the extender looks every 250ms
			s := h.broker.snapshot()
			for _, e := range s.extends {
				require.False(t, e.at.After(settledAt), "extended after it was settled: %+v", e)
			}
			select {
			case <-ranSecond:
				t.Fatal("the stuck handler's slot was given to another job")
			default:
			}
			if outcome == "failed" {
				require.Len(t, s.failed, 1)
				require.Contains(t, s.failed[0].Exception, "still running 1s after its timeout of 100ms")
			} else {
				require.Equal(t, "stuck#1", s.releases[0].member)
			}

			close(gate)
			<-ranSecond
			require.NoError(t, w.Stop(context.Background()))
			s = h.broker.snapshot()
			require.Equal(t, []string{"job#2"}, s.deleted, "the late success of the stuck job is ignored")
			require.Len(t, h.logs.withMsg("handler returned after its job was settled without it: its result is ignored"), 1)
			require.Equal(t, Stats{}, w.Stats())
		})
	}
}

// TestProcessedLog: one line per processed job with its name, queue, id, attempts, run time and outcome,
// at Info, or Debug with QuietJobs.
func TestProcessedLog(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			h := newHarness(t)
			h.cfg.StopWhenEmpty = true
			h.cfg.QuietJobs = quiet
			h.cfg.Tries = 1
			h.broker.push("default", "deletes#1", "releases#2", "fails#3", "keeps#4")
			h.handle("deletes", ok)
			h.handle("releases", func(_ context.Context, job *queue.Job) error { job.Release(time.Millisecond); return nil })
			h.handle("fails", func(context.Context, *queue.Job) error { return errors.New("bad input") })
			var kept atomic.Bool
			h.handle("keeps", func(_ context.Context, job *queue.Job) error {
				if kept.CompareAndSwap(false, true) {
					job.Keep()
				}
				return nil
			})
			require.NoError(t, h.run(h.worker(), 5*time.Second))
			lines := h.logs.withMsg("job processed")
			want := slog.LevelInfo
			if quiet {
				want = slog.LevelDebug
			}
			got := map[string]string{}
			for _, l := range lines {
				require.Equal(t, want, l.level)
				require.Equal(t, "default", l.attrs["queue"])
				require.NotEmpty(t, l.attrs["took"])
				got[l.attrs["job"]+"#"+l.attrs["id"]+"@"+l.attrs["attempts"]] += l.attrs["outcome"]
			}
			// releases#2 is released, then runs again (Tries 1: it fails before running, no line).
			assert.Equal(t, map[string]string{
				"deletes#1@1": "deleted", "releases#2@1": "released", "fails#3@1": "failed", "keeps#4@1": "kept",
			}, got)
		})
	}
}

// TestHandBackLoggedOncePerName: many jobs of one name handed back make one line, not one per job.
func TestHandBackLoggedOncePerName(t *testing.T) {
	h := newHarness(t)
	h.cfg.StopWhenEmpty = true
	for i := range 20 {
		h.broker.push("default", fmt.Sprintf("nobody#%d", i))
	}
	h.broker.push("default", "php:Encrypted#x")
	require.NoError(t, h.run(h.worker(), 5*time.Second))
	lines := h.logs.withMsg("job handed back untouched, for a worker that can run it")
	require.Len(t, lines, 2)
	require.Equal(t, "no handler for nobody", lines[0].attrs["why"])
	require.Equal(t, "job php:Encrypted: queue: only the app's PHP can run this job", lines[1].attrs["why"])
	summaries := h.logs.withMsg("jobs handed back untouched")
	require.Len(t, summaries, 1, "summed up at the stop")
	require.Equal(t, "19", summaries[0].attrs["count"])
	require.Len(t, h.broker.snapshot().ready["default"], 21)
	for _, r := range h.logs.all() {
		require.False(t, strings.Contains(r.msg, "reserve") && r.level >= slog.LevelWarn, "unexpected %+v", r)
	}
}

// TestRestartSignalWithJobsReservedAhead: the restart signal comes while a job runs and the next ones wait,
// reserved ahead: they go back untouched, not started, as a PHP worker that checks the signal between jobs
// never takes them. The reading that went out with their reservation was from before the signal.
func TestRestartSignalWithJobsReservedAhead(t *testing.T) {
	h := newHarness(t)
	// A quick job first: a worker reserves ahead only once it has seen its jobs are short.
	h.broker.push("default", "quick#0", "slow#1", "job#2", "job#3")
	signal := make(chan struct{})
	var signalled atomic.Bool
	h.cfg.RestartStampFunc = func(ctx context.Context) (string, error) {
		if signalled.Load() {
			return "200", nil
		}
		return "100", nil
	}
	var ran []string
	var mu sync.Mutex
	note := func(name string) {
		mu.Lock()
		ran = append(ran, name)
		mu.Unlock()
	}
	h.handle("quick", func(context.Context, *queue.Job) error { note("quick#0"); return nil })
	h.handle("slow", func(context.Context, *queue.Job) error {
		note("slow#1")
		<-signal
		return nil
	})
	h.handle("job", func(_ context.Context, job *queue.Job) error { note("job#" + job.ID()); return nil })
	w := h.worker()
	require.NoError(t, w.Start(context.Background()))
	eventually(t, 5*time.Second, "the jobs behind slow#1 reserved ahead while it runs", func() bool {
		return h.broker.snapshot().reserved == 3
	})
	time.Sleep(2 * restartFresh) // the reading before slow#1 started no longer stands
	signalled.Store(true)
	close(signal)
	select {
	case <-w.Stopped():
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not stop on the restart signal")
	}
	require.NoError(t, w.Err())
	mu.Lock()
	require.Equal(t, []string{"quick#0", "slow#1"}, ran, "nothing reserved ahead started after the signal")
	mu.Unlock()
	s := h.broker.snapshot()
	require.ElementsMatch(t, []string{"quick#0", "slow#1"}, s.deleted)
	require.ElementsMatch(t, []string{"job#2", "job#3"}, s.handedBack)
	require.Zero(t, s.reserved)
}

// TestNoReserveAheadForLongJobs: jobs that run longer than aheadMaxRun are not reserved ahead — the round
// trip saved is small beside them, and a job held for a slot would wait that long while other workers could
// run it.
func TestNoReserveAheadForLongJobs(t *testing.T) {
	h := newHarness(t)
	h.cfg.Concurrency = 2
	h.cfg.StopWhenEmpty = true
	for i := range 6 {
		h.broker.push("default", fmt.Sprintf("job#%d", i))
	}
	// A reserve is ahead when the jobs reserved and not finished, and the ones it asks for, are more than
	// the slots.
	var reserved, finished, ahead atomic.Int64
	h.broker.beforeReserve = func(_ int, _ string, n int) error {
		if reserved.Load()-finished.Load()+int64(n) > int64(h.cfg.Concurrency) {
			ahead.Add(1)
		}
		return nil
	}
	h.broker.afterReserve = func(_ int, _ string, got []queue.Reservation) { reserved.Add(int64(len(got))) }
	h.handle("job", func(context.Context, *queue.Job) error {
		defer finished.Add(1)
		time.Sleep(2 * aheadMaxRun)
		return nil
	})
	require.NoError(t, h.run(h.worker(), 10*time.Second))
	require.Zero(t, ahead.Load(), "no reserve asked for more jobs than there were free slots")
	require.Len(t, h.broker.snapshot().deleted, 6)
}

// TestRestartReadingStands: a reading that found no change stands for restartFresh, so rounds that begin
// within it do not read again; after it, or after a reading that failed, the next round reads.
func TestRestartReadingStands(t *testing.T) {
	var reads atomic.Int64
	fail := atomic.Bool{}
	r := newRestartWatcher(func(context.Context) (string, error) {
		reads.Add(1)
		if fail.Load() {
			return "", errors.New("unreachable")
		}
		return "100", nil
	}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	r.init(ctx)
	require.False(t, r.begin(ctx)())
	require.False(t, r.begin(ctx)())
	require.EqualValues(t, 2, reads.Load(), "the baseline, then one reading for two rounds in a row")
	time.Sleep(2 * restartFresh)
	fail.Store(true)
	require.False(t, r.begin(ctx)())
	require.False(t, r.begin(ctx)())
	require.EqualValues(t, 4, reads.Load(), "a failed reading stands for nothing")
}
