// Package worker is the loop of `bridge work`: reserve jobs from the queues in priority order, run each with a
// timeout, then delete, release or fail it as the dialect's rules say. It knows neither the storage nor the
// format: both arrive through the Broker and Dialect interfaces.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// ErrMemoryExceeded is returned by Run when the process grew past Config.Memory; the worker stopped
// gracefully and its supervisor should start a fresh one (think-queue 3.x exits 12).
var ErrMemoryExceeded = errors.New("worker: memory limit exceeded")

// Broker is the storage a worker drains.
type Broker interface {
	Reserve(ctx context.Context, queue string, n int) ([]queue.Reservation, error)
	Delete(ctx context.Context, queue string, members ...[]byte) (int, error)
	Release(ctx context.Context, r queue.Reservation, payload []byte, at time.Time) (bool, error)
	HandBack(ctx context.Context, r queue.Reservation) (bool, error)
	Extend(ctx context.Context, r queue.Reservation, until time.Time) (bool, error)
	Fail(ctx context.Context, r queue.Reservation, rec queue.FailedJob) error
}

// Dialect is the PHP library's rulebook for one job format.
type Dialect interface {
	// NewJob decodes a reservation. An error means the payload is poison: it goes to the failed store; but
	// an error wrapping queue.ErrPHPOnly comes with the job, which goes back to its queue for PHP.
	NewJob(r queue.Reservation) (*queue.Job, error)
	// CheckBeforeRun returns the reason a job must fail without running, or nil to run it.
	CheckBeforeRun(j *queue.Job, tries int, now time.Time) error
	// FailAfterError decides on a run that ended in err: nil releases the job for another attempt, an error
	// fails it for good with that reason (err itself, or the library's own, e.g. Laravel's
	// MaxAttemptsExceededException after a timeout). It may keep count of errors across workers (Laravel's
	// maxExceptions), hence the context.
	FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error
	// RetryDelay is how long a job whose run ended in err waits before its next attempt, given the worker's
	// backoff (one delay per attempt, the last one repeating).
	RetryDelay(j *queue.Job, err error, backoff []time.Duration) time.Duration
	// ReleasedCopy is what a released job goes back to the delayed set as.
	ReleasedCopy(r queue.Reservation) ([]byte, error)
	// ExceptionText is how a failed record states its reason, as the PHP library writes it.
	ExceptionText(err error) string
}

// Router finds the handler for a job name; false means nobody here can run it.
type Router interface {
	Lookup(name string) (queue.Handler, bool)
}

// Config tunes a worker. The zero value of every field but Queues means its default.
type Config struct {
	// Queues are drained in priority order: a lower queue is reserved from only when the ones before it are empty.
	Queues []string
	// Concurrency is how many jobs run at once. Default 1.
	Concurrency int
	// Tries fails a job once it has been attempted this many times; the payload's own maxTries wins where the
	// dialect has one. Default 0: unlimited, as think-queue's --tries.
	Tries int
	// Delay is how long a job that returned an error waits before it is visible again (think-queue's
	// --delay). Default 0.
	Delay time.Duration
	// Backoff, when set, replaces Delay with one delay per attempt, the last repeating (Laravel's
	// --backoff=10,30); a payload's own backoff wins where the dialect has one.
	Backoff []time.Duration
	// Sleep is how long to wait when every queue is empty. Default 3s, as think-queue's --sleep.
	Sleep time.Duration
	// Timeout bounds one job's run through its context; a payload's own timeout wins. Default 60s; -1 disables it.
	Timeout time.Duration
	// Expire is the storage's reservation lifetime; running jobs have their reservation pushed out before it
	// lapses so nobody else runs them twice. Default 60s; -1 means reservations never lapse.
	Expire time.Duration
	// Memory stops the worker (ErrMemoryExceeded) once the Go heap passes this many bytes. Default 128 MiB; -1 disables it.
	Memory int64
	// Once runs at most one job, then returns.
	Once bool
	// StopWhenEmpty returns once every queue is empty.
	StopWhenEmpty bool
	// GracePeriod is how long a stopping worker lets running jobs finish before it cancels them and hands
	// their jobs back. Default 30s.
	GracePeriod time.Duration
	// RestartStampFunc reads the restart signal (think-queue's `think:queue:restart` cache key): when its value
	// changes, the worker stops after its current jobs. Nil disables the check.
	RestartStampFunc func(ctx context.Context) (string, error)
	// PHP runs jobs in the app's own PHP code (executor/php): those with no Go handler, and those only PHP
	// can finish (queue.ErrPHPOnly). Nil: such jobs are handed back untouched for the PHP workers.
	PHP queue.Handler
	// PausedFunc reports whether a queue is paused (Laravel 12's queue:pause, or the worker paused by
	// SIGUSR2): a paused queue is not reserved from. Nil: never paused.
	PausedFunc func(ctx context.Context, queue string) bool
	// Batch caps how many jobs one reserve call takes. Default 64. A worker never reserves more jobs than
	// it has free slots, so no reserved job waits unstarted while its reservation runs out.
	Batch int
	// Connection names the connection in failed records (think-queue's failed_jobs.connection). Default "redis".
	Connection string
	// Logger receives the worker's logs. Default slog.Default().
	Logger *slog.Logger
	// Clock gives "now". Default time.Now.
	Clock func() time.Time
	// IDFunc names failed records. Required.
	IDFunc func() string
}

func (c Config) withDefaults() Config {
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.Sleep == 0 {
		c.Sleep = 3 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	if c.Expire == 0 {
		c.Expire = 60 * time.Second
	}
	if c.Memory == 0 {
		c.Memory = 128 << 20
	}
	if c.GracePeriod == 0 {
		c.GracePeriod = 30 * time.Second
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.Connection == "" {
		c.Connection = "redis"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

func (c Config) validate() error {
	switch {
	case len(c.Queues) == 0:
		return errors.New("worker: Queues is empty")
	case c.Concurrency < 0:
		return fmt.Errorf("worker: Concurrency %d is negative", c.Concurrency)
	case c.Tries < 0:
		return fmt.Errorf("worker: Tries %d is negative", c.Tries)
	case c.Delay < 0:
		return fmt.Errorf("worker: Delay %s is negative", c.Delay)
	case slices.ContainsFunc(c.Backoff, func(d time.Duration) bool { return d < 0 }):
		return fmt.Errorf("worker: Backoff %v has a negative delay", c.Backoff)
	case c.Batch < 0:
		return fmt.Errorf("worker: Batch %d is negative", c.Batch)
	case c.IDFunc == nil:
		return errors.New("worker: IDFunc is nil")
	}
	for _, q := range c.Queues {
		if q == "" {
			return errors.New("worker: empty queue name in Queues")
		}
	}
	return nil
}

// Worker drains queues. Create it with New; Run it once.
type Worker struct {
	broker  Broker
	dialect Dialect
	router  Router
	events  *events.Dispatcher
	cfg     Config
	log     *slog.Logger

	mu      sync.Mutex
	running map[*run]struct{}

	unserved unserved // only the loop goroutine touches it
}

// New returns a worker. events may be nil.
func New(broker Broker, dialect Dialect, router Router, ev *events.Dispatcher, cfg *Config) (*Worker, error) {
	if broker == nil || dialect == nil || router == nil {
		return nil, errors.New("worker: broker, dialect and router are required")
	}
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Worker{
		broker:   broker,
		dialect:  dialect,
		router:   router,
		events:   ev,
		cfg:      c,
		log:      c.Logger,
		running:  make(map[*run]struct{}),
		unserved: unserved{queues: make(map[string]*unservedQueue)},
	}, nil
}

// Run drains the queues until ctx is cancelled (then it stops gracefully and returns nil), the restart
// signal changes (nil), every queue is empty with StopWhenEmpty (nil), one job ran with Once (nil), or the
// memory limit is passed (ErrMemoryExceeded).
func (w *Worker) Run(ctx context.Context) error {
	// Jobs and acknowledgements outlive the stop signal: the grace period decides when jobs are cancelled.
	jobCtx, abortJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer abortJobs()
	acks := newCompleter(w.broker, w.log)
	acksDone := make(chan struct{})
	// Acknowledgements must land even after the grace period cancelled the jobs: a job that finished is done.
	go func() { acks.run(context.WithoutCancel(ctx)); close(acksDone) }()

	restartStamp, haveStamp := w.restartStamp(ctx)
	slots := make(chan struct{}, w.cfg.Concurrency)
	var jobs sync.WaitGroup
	stopExtender := w.startExtender(jobCtx)

	reason, err := w.loop(ctx, jobCtx, slots, &jobs, acks, restartStamp, haveStamp)

	w.log.Info("worker stopping", "reason", reason, "running", w.runningCount())
	w.events.Dispatch(jobCtx, events.WorkerStopping{Reason: reason})
	w.drain(&jobs, abortJobs)
	stopExtender()
	acks.close()
	<-acksDone
	return err
}

// loop reserves and starts jobs until it is told to stop; it returns why.
func (w *Worker) loop(ctx, jobCtx context.Context, slots chan struct{}, jobs *sync.WaitGroup, acks *completer, restartStamp string, haveStamp bool) (string, error) {
	var lastMemoryCheck time.Time
	for {
		if ctx.Err() != nil {
			return "signal", nil
		}
		// Reading the heap stops the world briefly: once a second is enough.
		if now := time.Now(); now.Sub(lastMemoryCheck) >= time.Second {
			lastMemoryCheck = now
			if w.memoryExceeded() {
				return "memory", ErrMemoryExceeded
			}
		}
		free := w.acquire(ctx, slots)
		if free == 0 {
			continue // ctx done
		}
		// Like PHP's workers, look for the restart signal before taking more work, so a restart stops the
		// worker after the jobs it is running. The signal is read while the reservation is on its way, so it
		// costs no round trip; jobs reserved when the signal came go back untouched.
		restartRead := w.restartStampAsync(ctx)
		reserved, err := w.reserve(ctx, free)
		if stamp, ok := restartRead(); ok {
			if !haveStamp {
				restartStamp, haveStamp = stamp, true
			}
			if stamp != restartStamp {
				for _, r := range reserved {
					w.handBack(jobCtx, r, "restart signal")
				}
				w.releaseSlots(slots, free)
				return "restart", nil
			}
		}
		if err != nil && ctx.Err() == nil {
			w.log.Error("reserve failed", "err", err)
			w.sleep(ctx, time.Second)
		}
		started := 0
		for _, r := range reserved {
			switch w.start(jobCtx, r, slots, jobs, acks) {
			case startRunning:
				started++
				w.unserved.served(r.Queue)
			case startHandedBack:
				w.unserved.handedBack(r.Queue, r.Raw)
			}
		}
		reservedAny := len(reserved) > 0
		w.releaseSlots(slots, free-started)
		if w.cfg.Once && reservedAny {
			return "once", nil
		}
		if started == 0 && !reservedAny {
			switch {
			case w.cfg.Once:
				return "empty", nil
			case w.cfg.StopWhenEmpty && w.runningCount() == 0:
				return "empty", nil
			case w.cfg.StopWhenEmpty:
				// A running job may still release work back onto the queue: look again once it is done.
				w.sleep(ctx, 10*time.Millisecond)
			default:
				w.sleep(ctx, w.cfg.Sleep)
			}
		}
	}
}

func (w *Worker) paused(ctx context.Context, q string) bool {
	return w.cfg.PausedFunc != nil && w.cfg.PausedFunc(ctx, q)
}

// restartStampAsync starts reading the restart signal and returns the function that waits for the reading
// (see restartStamp); without a signal to watch it starts nothing.
func (w *Worker) restartStampAsync(ctx context.Context) func() (string, bool) {
	if w.cfg.RestartStampFunc == nil {
		return func() (string, bool) { return "", false }
	}
	type reading struct {
		stamp string
		ok    bool
	}
	c := make(chan reading, 1)
	go func() {
		stamp, ok := w.restartStamp(ctx)
		c <- reading{stamp, ok}
	}()
	return func() (string, bool) {
		r := <-c
		return r.stamp, r.ok
	}
}

// reserve takes up to free jobs from the queues in priority order: a lower queue only when the ones before
// it came up short. On an error it returns what it had reserved so far.
func (w *Worker) reserve(ctx context.Context, free int) ([]queue.Reservation, error) {
	var reserved []queue.Reservation
	for _, q := range w.cfg.Queues {
		if len(reserved) == free || w.unserved.skip(q, w.cfg.StopWhenEmpty) || w.paused(ctx, q) {
			continue
		}
		rs, err := w.broker.Reserve(ctx, q, min(free-len(reserved), w.cfg.Batch))
		if err != nil {
			return reserved, fmt.Errorf("reserve %s: %w", q, err)
		}
		reserved = append(reserved, rs...)
	}
	return reserved, nil
}

// acquire blocks for one free slot, then takes every other free one; it returns how many it holds.
func (w *Worker) acquire(ctx context.Context, slots chan struct{}) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n, most := 1, w.cfg.Batch
	if w.cfg.Once {
		most = 1
	}
	for n < most {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

func (w *Worker) releaseSlots(slots chan struct{}, n int) {
	for range n {
		<-slots
	}
}

// drain waits for running jobs through the grace period, then cancels them and hands back the unfinished.
func (w *Worker) drain(jobs *sync.WaitGroup, abortJobs context.CancelFunc) {
	done := make(chan struct{})
	go func() { jobs.Wait(); close(done) }()
	grace := time.NewTimer(w.cfg.GracePeriod)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	}
	w.log.Warn("grace period over: cancelling running jobs", "running", w.runningCount())
	abortJobs()
	// A handler that ignores its context cannot be stopped; its job goes back to the queue now, and
	// whatever the handler reports later is dropped.
	select {
	case <-done:
	case <-time.After(time.Second):
		w.mu.Lock()
		left := make([]*run, 0, len(w.running))
		for r := range w.running {
			left = append(left, r)
		}
		w.mu.Unlock()
		for _, r := range left {
			if r.settle() {
				w.handBack(context.Background(), r.reservation(), "handler did not stop")
			}
		}
	}
}

// restartStamp reads the restart signal; false when it could not be read (a read error is no signal).
func (w *Worker) restartStamp(ctx context.Context) (string, bool) {
	if w.cfg.RestartStampFunc == nil {
		return "", false
	}
	stamp, err := w.cfg.RestartStampFunc(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("read restart signal", "err", err)
		}
		return "", false
	}
	return stamp, true
}

func (w *Worker) memoryExceeded() bool {
	if w.cfg.Memory < 0 {
		return false
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc) > w.cfg.Memory
}

// sleep waits d or until ctx is done.
func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (w *Worker) runningCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running)
}
