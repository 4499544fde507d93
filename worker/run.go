package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// PanicError is a handler's panic, as the error its run ended in.
type PanicError struct {
	Job   string // the job's name
	Value any    // what the handler panicked with
	Stack []byte // the handler goroutine's stack at the panic
}

// Error is one line, without the stack (the worker logs the stack on its own).
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic in handler for %s: %v", e.Job, e.Value)
}

// run is one job in flight. Exactly one party settles it: the job's goroutine when the handler returns,
// the timeout watch when the handler outlived its timeout, or the drain when it outlived the stop.
type run struct {
	job     *queue.Job
	handler queue.Handler
	settled atomic.Bool // set under Worker.mu, with the counts that go with it

	mu  sync.Mutex
	res queue.Reservation // Expires moves when the extender pushes the reservation out

	// For the timeout watch: the handler's timeout, and when it ends (Unix nanoseconds; 0 while none runs).
	timeout  time.Duration
	deadline atomic.Int64
}

// watch gives r's handler, started at began, to the timeout watch.
func (r *run) watch(began time.Time, timeout time.Duration) {
	r.timeout = timeout
	r.deadline.Store(began.Add(timeout).UnixNano()) // after timeout: a watch that loads it reads timeout too
}

func (r *run) reservation() queue.Reservation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res
}

func (r *run) setExpires(t time.Time) {
	r.mu.Lock()
	r.res.Expires = t
	r.mu.Unlock()
}

// logAttrs names r's job in a log line; a job reserved ahead has not started, so only its queue is given.
func (r *run) logAttrs() []any {
	if r.job == nil {
		return []any{"queue", r.reservation().Queue}
	}
	return []any{"job", r.job.Name(), "id", r.job.ID(), "queue", r.job.Queue()}
}

// startResult says what start did with a reservation.
type startResult int

const (
	startRunning  startResult = iota // its handler runs on a slot the caller holds
	startSettled                     // failed here (poison, out of tries); the slot is free again
	startUnserved                    // no handler here: the caller hands it back; the slot is free again
)

// decoded is a reservation with its payload decoded by the rules: job is nil, and err says why, for a
// payload they refuse (queue.ErrPHPOnly comes with its job).
type decoded struct {
	res queue.Reservation
	job *queue.Job
	err error
}

// decode decodes reservations just reserved.
func (w *Worker) decode(rs []queue.Reservation) []decoded {
	out := make([]decoded, len(rs))
	for i, res := range rs {
		job, err := w.rules.NewJob(res)
		out[i] = decoded{res: res, job: job, err: err}
	}
	return out
}

// start starts a decoded reservation's handler on a slot the caller holds. For an unserved job it also
// returns the job's name and why nobody here runs it.
func (w *Worker) start(d decoded) (out startResult, name, why string) {
	res, job, err := d.res, d.job, d.err
	var h queue.Handler
	switch {
	case errors.Is(err, queue.ErrPHPOnly) && w.cfg.PHP != nil:
		h = w.cfg.PHP
		job.SetInPHP()
	case errors.Is(err, queue.ErrPHPOnly):
		why = err.Error()
		if _, ok := w.router.Lookup(job); ok {
			why = "a Go handler is registered for this job, but only PHP can finish it: " + why
		}
		return startUnserved, job.Name(), why
	case err != nil:
		w.fail(w.settleCtx, nil, nil, res, fmt.Errorf("invalid payload: %w", err))
		return startSettled, "", ""
	default:
		var ok bool
		if h, ok = w.router.Lookup(job); !ok && w.cfg.PHP != nil {
			h = w.cfg.PHP
			job.SetInPHP()
		} else if !ok {
			return startUnserved, job.Name(), "no handler for " + job.Name()
		}
	}
	if err := w.rules.CheckBeforeRun(job, w.cfg.Tries, w.cfg.Clock()); err != nil {
		// The PHP workers' order: the job is processing, fails, then the exception is reported.
		ctx := w.settleCtx
		w.events.Dispatch(ctx, events.JobProcessing{Job: job})
		w.fail(ctx, h, job, res, err)
		w.events.Dispatch(ctx, events.JobExceptionOccurred{Job: job, Err: err})
		return startSettled, job.Name(), ""
	}
	r := &run{job: job, handler: h, res: res}
	w.mu.Lock()
	w.running[r] = struct{}{}
	w.handlers++
	w.mu.Unlock()
	w.runs <- r
	return startRunning, job.Name(), ""
}

// runner executes runs until the loop is done. A worker keeps Concurrency of them, as many as it has slots,
// so a job costs no goroutine start and no stack growth. Each runner's jobs derive their contexts from a
// context of its own: runners side by side then never wait on one parent's lock to register a job.
func (w *Worker) runner() {
	parent, cancel := context.WithCancel(w.workCtx)
	defer cancel()
	for r := range w.runs {
		w.execute(parent, r)
	}
}

// execute runs the handler, in a context derived from parent, and carries out its outcome. It holds its
// slot until the handler returns.
func (w *Worker) execute(parent context.Context, r *run) {
	defer func() { <-w.slots }()
	job := r.job
	if w.lease != nil && !w.lease.hold(w.workCtx, r) {
		if w.claim(r) {
			w.log.Warn("reservation lapsed before the job started and another worker took it: not run here",
				"job", job.Name(), "id", job.ID(), "queue", job.Queue())
			w.finish(r)
		}
		return
	}
	ctx, cancel, timeout := w.jobContext(parent, job)
	defer cancel()
	began := time.Now()
	if timeout >= 0 {
		r.watch(began, timeout) // the timeout watch settles the job if the handler outlives its timeout
		w.timeouts.began()
	}
	w.events.Dispatch(ctx, events.JobProcessing{Job: job})
	err := call(ctx, r.handler, job)
	took := time.Since(began)
	w.noteRun(took)
	if !w.claim(r) {
		w.log.Warn("handler returned after its job was settled without it: its result is ignored",
			"job", job.Name(), "id", job.ID(), "queue", job.Queue(), "took", took, "err", err)
		return
	}
	defer w.finish(r)
	job.SetTook(took)
	sctx := w.settleCtx
	if err != nil && w.workCtx.Err() != nil {
		// Cancelled by a stop: the attempt did not finish, so the job goes back as it came.
		w.handBack(sctx, r.reservation(), "stopped before it finished")
		w.log.Info("job handed back untouched: stopped before it finished", "job", job.Name(), "id", job.ID(), "queue", job.Queue())
		return
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		w.log.Error("handler panicked", "job", job.Name(), "id", job.ID(), "queue", job.Queue(),
			"panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	}
	// The handler finished: what it decided must reach the store even if a stop cancelled the job meanwhile.
	outcome := w.settle(sctx, r, err)
	w.logProcessed(job, took, outcome, err)
	// As in PHP's workers, the job is settled (failed, released) before JobProcessed or JobExceptionOccurred.
	if err == nil {
		w.events.Dispatch(sctx, events.JobProcessed{Job: job})
	} else {
		w.events.Dispatch(sctx, events.JobExceptionOccurred{Job: job, Err: err})
	}
}

// timedOut settles a run whose handler outlived its timeout by timeoutGrace, as the PHP library settles
// the job of a worker it killed: the rules decide between failing it and releasing it. Its reservation is
// extended no more; the handler keeps its slot until it returns.
func (w *Worker) timedOut(r *run) {
	if !w.takeOver(r) {
		return
	}
	job, timeout := r.job, r.timeout
	err := fmt.Errorf("job %s still running %s after its timeout of %s: %w", job.Name(), timeoutGrace, timeout, context.DeadlineExceeded)
	w.log.Error("job timed out and its handler ignores its context: settled without it",
		"job", job.Name(), "id", job.ID(), "queue", job.Queue(), "timeout", timeout)
	ctx := w.settleCtx
	job.SetTook(timeout + timeoutGrace)
	outcome := w.settleError(ctx, r, err)
	w.logProcessed(job, job.Took(), outcome, err)
	w.events.Dispatch(ctx, events.JobExceptionOccurred{Job: job, Err: err})
	w.finish(r)
}

// claim settles r for its handler, which returned; false when r was settled without it (the handler was
// stuck).
func (w *Worker) claim(r *run) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers--
	if !r.settled.CompareAndSwap(false, true) {
		w.stuck--
		return false
	}
	return true
}

// takeOver settles r in its handler's stead; false when the handler returned first.
func (w *Worker) takeOver(r *run) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !r.settled.CompareAndSwap(false, true) {
		return false
	}
	w.stuck++
	return true
}

// finish marks r's settlement done.
func (w *Worker) finish(r *run) {
	w.mu.Lock()
	delete(w.running, r)
	w.mu.Unlock()
	select {
	case w.finished <- struct{}{}:
	default:
	}
}

// settle carries out what became of a run: the handler's own decision, else success (delete) or the
// rules' decision after an error. It returns the outcome for the log.
func (w *Worker) settle(ctx context.Context, r *run, err error) string {
	job, res := r.job, r.reservation()
	outcome, delay, failErr := job.Outcome()
	switch {
	case outcome == queue.OutcomeFailed:
		w.fail(ctx, r.handler, job, res, failErr)
		return "failed"
	case outcome == queue.OutcomeReleased:
		w.release(ctx, r.handler, job, res, delay)
		return "released"
	case outcome == queue.OutcomeKept && err == nil:
		// No acknowledgement: the reservation lapses and the job runs again, as in PHP.
		return "kept"
	case outcome == queue.OutcomeDeleted || err == nil:
		w.acks.delete(res.Queue, res.Member)
		return "deleted"
	}
	return w.settleError(ctx, r, err)
}

// settleError fails a run that ended in err, or releases it for another attempt, as the rules say.
func (w *Worker) settleError(ctx context.Context, r *run, err error) string {
	job, res, now := r.job, r.reservation(), w.cfg.Clock()
	if reason := w.rules.FailAfterError(ctx, job, err, w.cfg.Tries, now); reason != nil {
		w.fail(ctx, r.handler, job, res, reason)
		return "failed"
	}
	w.release(ctx, r.handler, job, res, w.rules.RetryDelay(job, err, w.backoff(), now))
	return "released"
}

// logProcessed writes the line every processed job gets, as think-queue prints "Processed: app\job\Hello".
func (w *Worker) logProcessed(job *queue.Job, took time.Duration, outcome string, err error) {
	ctx := context.Background()
	if !w.log.Enabled(ctx, w.jobLevel) {
		return
	}
	attrs := []slog.Attr{
		slog.String("job", job.Name()), slog.String("queue", job.Queue()), slog.String("id", job.ID()),
		slog.Int("attempts", job.Attempts()), slog.Duration("took", took), slog.String("outcome", outcome),
	}
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
	}
	w.log.LogAttrs(ctx, w.jobLevel, "job processed", attrs...)
}

// jobContext bounds a run by the payload's timeout, or the worker's; it also returns that timeout, -1 for none.
func (w *Worker) jobContext(parent context.Context, job *queue.Job) (context.Context, context.CancelFunc, time.Duration) {
	timeout := w.cfg.Timeout
	if job.Timeout() > 0 {
		timeout = job.Timeout()
	}
	if timeout < 0 {
		ctx, cancel := context.WithCancel(parent)
		return ctx, cancel, -1
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	return ctx, cancel, timeout
}

// call runs the handler, turning a panic into a *PanicError.
func call(ctx context.Context, h queue.Handler, job *queue.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Job: job.Name(), Value: p, Stack: debug.Stack()}
		}
	}()
	return h.ProcessJob(ctx, job)
}

// backoff is the worker's retry delays: Backoff, or Delay for every attempt.
func (w *Worker) backoff() []time.Duration {
	if len(w.cfg.Backoff) > 0 {
		return w.cfg.Backoff
	}
	return []time.Duration{w.cfg.Delay}
}

func (w *Worker) release(ctx context.Context, h queue.Handler, job *queue.Job, res queue.Reservation, delay time.Duration) {
	payload, err := w.rules.ReleasedCopy(res)
	if err != nil {
		w.fail(ctx, h, job, res, fmt.Errorf("release: %w", err))
		return
	}
	at := w.cfg.Clock().Add(delay)
	ok, err := w.broker.Release(ctx, res, payload, at)
	switch {
	case err != nil:
		w.log.Error("release job", "job", job.Name(), "id", job.ID(), "err", err)
	case !ok:
		w.log.Warn("release: job was no longer reserved (its reservation lapsed)", "job", job.Name(), "id", job.ID())
	default:
		w.events.Dispatch(ctx, events.JobReleased{Job: job, Delay: delay})
	}
}

// fail moves a job to the failed store, runs the handler's Failed hook, then tells the listeners, in
// think-queue's order (delete, failed(), JobFailed). h and job are nil for a payload that could not be decoded.
func (w *Worker) fail(ctx context.Context, h queue.Handler, job *queue.Job, res queue.Reservation, reason error) {
	rec := queue.FailedJob{
		ID:         w.failedID(job),
		Connection: w.cfg.Connection,
		Queue:      res.Queue,
		Payload:    res.Raw,
		Exception:  w.rules.ExceptionText(reason),
		FailedAt:   w.cfg.Clock(),
	}
	if err := w.broker.Fail(ctx, res, rec); err != nil {
		w.log.Error("move job to the failed store", "queue", res.Queue, "err", err)
		return
	}
	name := ""
	if job != nil {
		name = job.Name()
	}
	w.log.Warn("job failed", "job", name, "queue", res.Queue, "failed_id", rec.ID, "reason", reason)
	if h != nil {
		w.callFailed(ctx, h, job, reason)
	}
	w.events.Dispatch(ctx, events.JobFailed{Job: job, Reservation: res, Err: reason})
}

// failedID names a failed record: the job's uuid where the format has one (Laravel's failed_jobs.uuid),
// else a fresh id.
func (w *Worker) failedID(job *queue.Job) string {
	if job != nil && job.UUID() != "" {
		return job.UUID()
	}
	return w.cfg.IDFunc()
}

// callFailed runs the handler's Failed hook (think-queue's failed($data)), once, after the job left the queue.
func (w *Worker) callFailed(ctx context.Context, h queue.Handler, job *queue.Job, err error) {
	fh, ok := h.(queue.FailedHandler)
	if !ok {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("panic in Failed hook", "job", job.Name(), "panic", p)
		}
	}()
	fh.Failed(ctx, job, err)
}

// handBack returns a reserved job to its queue untouched. Its callers say so in the log, each in its own
// words: one line per stop, per restart, or per job name for jobs nobody here runs.
func (w *Worker) handBack(ctx context.Context, res queue.Reservation, why string) {
	ok, err := w.broker.HandBack(ctx, res)
	switch {
	case err != nil:
		w.log.Error("hand job back", "queue", res.Queue, "why", why, "err", err)
	case ok:
		w.log.Debug("job handed back untouched", "queue", res.Queue, "why", why)
	}
}
