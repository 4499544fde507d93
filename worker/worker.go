// Package worker is the loop of `bridge work`: reserve jobs from the queues in priority order, run each with a
// timeout, then delete, release or fail it as the PHP library's rules say. It knows neither the storage nor
// the format: both arrive through the Broker and Rules interfaces.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// ErrMemoryExceeded is why a worker stopped when the process grew past Config.Memory; the worker stopped
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

// Rules is the PHP library's rulebook for one job format (compat/thinkqueue.Rules, compat/laravel.Rules).
type Rules interface {
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
	RetryDelay(j *queue.Job, err error, backoff []time.Duration, now time.Time) time.Duration
	// ReleasedCopy is what a released job goes back to the delayed set as.
	ReleasedCopy(r queue.Reservation) ([]byte, error)
	// ExceptionText is how a failed record states its reason, as the PHP library writes it.
	ExceptionText(err error) string
}

// Router finds the handler for a job; false means nobody here runs it (the PHP executor, when configured,
// or the PHP workers do). It gets the whole job, not only its name, so it can route one class's jobs to
// both sides by their ids.
type Router interface {
	Lookup(job *queue.Job) (queue.Handler, bool)
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
	// Timeout bounds one job's run through its context; a payload's own timeout wins. Default 60s; -1
	// disables it. A handler still running a second after its timeout has its job settled as timed out, as
	// the PHP library settles the job of a worker it killed: failed, or released for another attempt. The
	// handler's slot stays busy until it returns, and what it returns is ignored.
	Timeout time.Duration
	// Expire is the storage's reservation lifetime; running jobs have their reservation pushed out before it
	// lapses so nobody else runs them twice. Default 60s; -1 means reservations never lapse.
	Expire time.Duration
	// Memory stops the worker (ErrMemoryExceeded) once the Go heap passes this many bytes. Default 128 MiB; -1 disables it.
	Memory int64
	// Once runs at most one job, then returns.
	Once bool
	// StopWhenEmpty returns once every queue is empty: no job of this worker is running, and a look at every
	// queue after the last one finished found nothing to run. As Laravel's --stop-when-empty, a job released
	// with a delay still to run out is not waited for; one released without a delay is found by that look.
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
	// Batch caps how many jobs one reserve call takes. Default 256. While a batch of short jobs (a mean run
	// under 10 ms) runs, a worker draining a queue reserves the next one ahead: never more than two batches
	// wait for a slot or are on their way, and no more than the slots start within 100 ms at the recent
	// mean run time (but min(2*Batch, Concurrency) always may); their reservations are extended while they
	// wait, as running jobs' are.
	Batch int
	// QuietJobs logs the line every processed job gets at Debug instead of Info, for rates where one line
	// per job is too many.
	QuietJobs bool
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
		c.Batch = 256
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

// Stats is a snapshot of a worker's handlers.
type Stats struct {
	// Running is how many handlers are running, Stuck ones included.
	Running int
	// Stuck is how many handlers are still running although their job was settled without them: they
	// outlived their timeout, or the stop that handed their job back. Each holds a slot until it returns.
	Stuck int
}

// Worker drains queues. Create it with New, then Run it, or Start it and Stop it; a Worker runs once.
type Worker struct {
	broker Broker
	rules  Rules
	router Router
	events *events.Dispatcher
	cfg    Config
	log    *slog.Logger
	// jobLevel is the level of the line each processed job gets.
	jobLevel slog.Level

	startMu   sync.Mutex
	started   bool
	stopLoop  context.CancelFunc // stop reserving
	abortJobs context.CancelFunc // cancel running jobs and the store calls made for them
	// stopCtx is done once the worker must stop reserving; workCtx once running jobs must stop. settleCtx is
	// workCtx's values without its cancellation, for store calls that must land even after the running jobs
	// were cancelled: what a job decided, and jobs going back to their queue.
	stopCtx, workCtx, settleCtx context.Context

	cancelNow  chan struct{} // closed when the grace period must end now (StopAndCancel)
	cancelOnce sync.Once
	stopped    chan struct{}

	slots    chan struct{} // one token per running handler
	runs     chan *run     // to the runners; closed once the loop is done
	acks     *completer
	ahead    ahead        // jobs reserved before a slot was free for them
	meanRun  atomic.Int64 // nanoseconds, the moving mean of recent run times; 0 until a job ran
	lease    *extender
	timeouts timeoutWatch
	restart  *restartWatcher
	finished chan struct{} // a run was settled and left running (buffered: a wake-up, not a count)

	mu       sync.Mutex
	running  map[*run]struct{} // runs whose jobs are not settled yet
	handlers int               // handler goroutines alive
	stuck    int               // of them, those whose run was settled without them
	err      error

	// Only the loop goroutine touches these.
	unserved   unserved
	errWait    time.Duration // wait after the next failed reserve
	minErrWait time.Duration // the first wait after a failed reserve; doubles to maxErrWait
	fullScan   bool          // the next round looks at resting queues too
}

// New returns a worker. events may be nil.
func New(broker Broker, rules Rules, router Router, ev *events.Dispatcher, cfg *Config) (*Worker, error) {
	if broker == nil || rules == nil || router == nil {
		return nil, errors.New("worker: broker, rules and router are required")
	}
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	w := &Worker{
		broker:     broker,
		rules:      rules,
		router:     router,
		events:     ev,
		cfg:        c,
		log:        c.Logger,
		jobLevel:   slog.LevelInfo,
		cancelNow:  make(chan struct{}),
		stopped:    make(chan struct{}),
		slots:      make(chan struct{}, c.Concurrency),
		finished:   make(chan struct{}, 1),
		running:    make(map[*run]struct{}),
		unserved:   newUnserved(c.Clock, c.Logger),
		minErrWait: time.Second,
	}
	if c.QuietJobs {
		w.jobLevel = slog.LevelDebug
	}
	w.timeouts.w = w
	if c.Expire >= 0 {
		w.lease = newExtender(broker, c.Expire, c.Clock, c.Logger, w.leased)
	}
	w.restart = newRestartWatcher(c.RestartStampFunc, c.Logger)
	return w, nil
}

// Start starts the worker and returns once it is running. ctx's values reach the store and the jobs; its
// cancellation stops the worker as Stop does, gracefully.
func (w *Worker) Start(ctx context.Context) error {
	w.startMu.Lock()
	defer w.startMu.Unlock()
	if w.started {
		return errors.New("worker: Start called twice (a Worker runs once)")
	}
	w.started = true
	w.stopCtx, w.stopLoop = context.WithCancel(ctx)
	// Jobs and acknowledgements outlive the stop signal: the grace period decides when jobs are cancelled.
	w.workCtx, w.abortJobs = context.WithCancel(context.WithoutCancel(ctx))
	w.settleCtx = context.WithoutCancel(w.workCtx)
	w.restart.init(w.stopCtx)
	w.acks = newCompleter(w.broker, w.log)
	acksDone := make(chan struct{})
	// Acknowledgements must land even after the jobs were cancelled: a job that finished is done.
	go func() { w.acks.run(context.WithoutCancel(ctx)); close(acksDone) }()
	if w.lease != nil {
		w.lease.start(w.workCtx)
	}
	w.timeouts.start(w.workCtx)
	w.runs = make(chan *run)
	for range w.cfg.Concurrency {
		go w.runner()
	}
	go w.work(acksDone)
	return nil
}

// Run starts the worker and returns when it stopped: ctx was cancelled (it stopped gracefully; nil), the
// restart signal changed (nil), every queue is empty with StopWhenEmpty (nil), one job ran with Once (nil),
// the memory limit was passed (ErrMemoryExceeded), or a reserve failed with StopWhenEmpty or Once.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.Start(ctx); err != nil {
		return err
	}
	<-w.stopped
	return w.Err()
}

// Stop stops reserving, lets the running jobs finish within the grace period, hands back those that did
// not, and returns once the worker stopped. When ctx ends first the running jobs are cancelled at once and
// handed back, as with StopAndCancel, and Stop returns ctx's error after the worker stopped.
func (w *Worker) Stop(ctx context.Context) error {
	if err := w.requestStop(false); err != nil {
		return err
	}
	select {
	case <-w.stopped:
		return nil
	case <-ctx.Done():
	}
	w.cancelOnce.Do(func() { close(w.cancelNow) })
	<-w.stopped
	return ctx.Err()
}

// StopAndCancel stops reserving, cancels the running jobs at once and hands them back, and returns once
// the worker stopped, or with ctx's error when ctx ends first (the worker still stops).
func (w *Worker) StopAndCancel(ctx context.Context) error {
	if err := w.requestStop(true); err != nil {
		return err
	}
	select {
	case <-w.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Worker) requestStop(cancelJobs bool) error {
	w.startMu.Lock()
	defer w.startMu.Unlock()
	if !w.started {
		return errors.New("worker: not started")
	}
	w.stopLoop()
	if cancelJobs {
		w.cancelOnce.Do(func() { close(w.cancelNow) })
	}
	return nil
}

// Stopped is closed once the worker stopped: it reserves nothing more, and every job it took is settled
// or handed back (a stuck handler may still be running; see Stats).
func (w *Worker) Stopped() <-chan struct{} { return w.stopped }

// Err is why the worker stopped: nil (a stop, the restart signal, Once, StopWhenEmpty), ErrMemoryExceeded,
// or the store's error that ended a StopWhenEmpty or Once run. It is nil while the worker runs.
func (w *Worker) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stats reports the worker's handlers now.
func (w *Worker) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Running: w.handlers, Stuck: w.stuck}
}

// work is the worker's life after Start: the loop, then the stop.
func (w *Worker) work(acksDone <-chan struct{}) {
	reason, err := w.loop()
	close(w.runs) // runners still executing finish their run first
	// What was reserved ahead has not started: it goes back at once, for other workers to start.
	w.handBackAhead("worker stopping: " + reason)
	w.log.Info("worker stopping", "reason", reason, "running", w.Stats().Running)
	w.events.Dispatch(w.workCtx, events.WorkerStopping{Reason: reason})
	w.drain()
	w.timeouts.stop()
	if w.lease != nil {
		w.lease.stop()
	}
	w.acks.close()
	<-acksDone
	w.unserved.flush()
	w.abortJobs()
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	close(w.stopped)
}

// drain waits for the running jobs through the grace period, then cancels them and hands back those whose
// handlers do not return.
func (w *Worker) drain() {
	grace := time.NewTimer(w.cfg.GracePeriod)
	defer grace.Stop()
	if w.waitSettled(grace.C, w.cancelNow) {
		return
	}
	select {
	case <-w.cancelNow:
		w.log.Warn("stop and cancel: cancelling running jobs", "running", w.Stats().Running)
	default:
		w.log.Warn("grace period over: cancelling running jobs", "running", w.Stats().Running)
	}
	w.abortJobs()
	// A handler that ignores its context cannot be stopped; its job goes back to the queue now, and
	// whatever the handler reports later is dropped.
	late := time.NewTimer(time.Second)
	defer late.Stop()
	if w.waitSettled(late.C, nil) {
		return
	}
	for _, r := range w.unsettled() {
		if w.takeOver(r) {
			w.handBack(w.settleCtx, r.reservation(), "handler did not stop")
			w.log.Warn("job handed back untouched: its handler did not stop", "job", r.job.Name(), "id", r.job.ID(), "queue", r.job.Queue())
			w.finish(r)
		}
	}
	// What is left are runs whose handlers returned and whose outcome is being carried out.
	w.waitSettled(nil, nil)
}

// waitSettled waits until no run is unsettled (true), or either channel fires (false).
func (w *Worker) waitSettled(a <-chan time.Time, b <-chan struct{}) bool {
	for w.runningCount() > 0 {
		select {
		case <-w.finished:
		case <-a:
			return false
		case <-b:
			return false
		}
	}
	return true
}

func (w *Worker) runningCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running)
}

// unsettled returns the runs whose jobs are not settled, for the lease extender and the drain.
func (w *Worker) unsettled() []*run {
	w.mu.Lock()
	defer w.mu.Unlock()
	runs := make([]*run, 0, len(w.running))
	for r := range w.running {
		if !r.settled.Load() {
			runs = append(runs, r)
		}
	}
	return runs
}

// leased returns what the lease extender holds: the unsettled runs and the jobs reserved ahead.
func (w *Worker) leased() []*run {
	return append(w.unsettled(), w.ahead.runs()...)
}

// sleep waits d or until the worker must stop.
func (w *Worker) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.stopCtx.Done():
	}
}
