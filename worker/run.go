package worker

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// run is one job in flight. Exactly one party settles it: the job's goroutine when the handler returns, or
// the drain when a handler outlived the grace period.
type run struct {
	job     *queue.Job
	settled atomic.Bool

	mu  sync.Mutex
	res queue.Reservation // Expires moves when the extender pushes the reservation out
}

func (r *run) settle() bool { return r.settled.CompareAndSwap(false, true) }

// startResult says what start did with a reservation.
type startResult int

const (
	startRunning    startResult = iota // its handler runs on the slot the caller gave
	startSettled                       // failed here (poison, out of tries); the slot is free again
	startHandedBack                    // no handler here: back on its queue untouched; the slot is free again
)

// start decodes a reservation and starts its handler on a slot the caller holds.
func (w *Worker) start(jobCtx context.Context, res queue.Reservation, slots chan struct{}, jobs *sync.WaitGroup, acks *completer) startResult {
	job, err := w.dialect.NewJob(res)
	var h queue.Handler
	switch {
	case errors.Is(err, queue.ErrPHPOnly) && w.cfg.PHP != nil:
		h = w.cfg.PHP
	case errors.Is(err, queue.ErrPHPOnly):
		if _, ok := w.router.Lookup(job.Name()); ok {
			w.log.Warn("a Go handler is registered for this job, but only PHP can finish it: handed back", "job", job.Name(), "why", err)
		}
		w.handBack(jobCtx, res, err.Error())
		return startHandedBack
	case err != nil:
		w.fail(jobCtx, nil, nil, res, fmt.Errorf("invalid payload: %w", err))
		return startSettled
	default:
		var ok bool
		if h, ok = w.router.Lookup(job.Name()); !ok && w.cfg.PHP != nil {
			h = w.cfg.PHP
		} else if !ok {
			w.handBack(jobCtx, res, "no handler for "+job.Name())
			return startHandedBack
		}
	}
	if err := w.dialect.CheckBeforeRun(job, w.cfg.Tries, w.cfg.Clock()); err != nil {
		// The PHP workers' order: the job is processing, fails, then the exception is reported.
		w.events.Dispatch(jobCtx, events.JobProcessing{Job: job})
		w.fail(jobCtx, h, job, res, err)
		w.events.Dispatch(jobCtx, events.JobExceptionOccurred{Job: job, Err: err})
		return startSettled
	}
	r := &run{job: job, res: res}
	w.mu.Lock()
	w.running[r] = struct{}{}
	w.mu.Unlock()
	jobs.Add(1)
	go func() {
		defer func() {
			w.mu.Lock()
			delete(w.running, r)
			w.mu.Unlock()
			<-slots
			jobs.Done()
		}()
		w.execute(jobCtx, r, h, acks)
	}()
	return startRunning
}

// execute runs the handler and carries out its outcome.
func (w *Worker) execute(jobCtx context.Context, r *run, h queue.Handler, acks *completer) {
	job := r.job
	ctx, cancel := w.jobContext(jobCtx, job)
	defer cancel()
	w.events.Dispatch(ctx, events.JobProcessing{Job: job})
	err := call(ctx, h, job)
	if !r.settle() {
		return // handed back by the drain
	}
	if err != nil && jobCtx.Err() != nil {
		// Cancelled by a stop: the attempt did not finish, so the job goes back as it came.
		w.handBack(context.WithoutCancel(jobCtx), r.reservation(), "stopped before it finished")
		return
	}
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	if err != nil {
		w.log.Warn("job failed an attempt", "job", job.Name(), "id", job.ID(), "queue", job.Queue(), "attempts", job.Attempts(), "err", err)
	}
	// The handler finished: what it decided must reach the store even if a stop cancelled the job meanwhile.
	jobCtx = context.WithoutCancel(jobCtx)
	w.settle(jobCtx, h, job, r.reservation(), err, acks)
	// As in PHP's workers, the job is settled (failed, released) before JobProcessed or JobExceptionOccurred.
	if err == nil {
		w.events.Dispatch(jobCtx, events.JobProcessed{Job: job})
	} else {
		w.events.Dispatch(jobCtx, events.JobExceptionOccurred{Job: job, Err: err})
	}
}

// settle carries out what became of a run: the handler's own decision, else success (delete) or the
// dialect's rule after an error (fail, or release for another attempt).
func (w *Worker) settle(ctx context.Context, h queue.Handler, job *queue.Job, res queue.Reservation, err error, acks *completer) {
	outcome, delay, failErr := job.Outcome()
	switch {
	case outcome == queue.OutcomeFailed:
		w.fail(ctx, h, job, res, failErr)
	case outcome == queue.OutcomeReleased:
		w.release(ctx, h, job, res, delay)
	case outcome == queue.OutcomeKept && err == nil:
		// No acknowledgement: the reservation lapses and the job runs again, as in PHP.
	case outcome == queue.OutcomeDeleted || err == nil:
		acks.delete(res.Queue, res.Member)
	default:
		if reason := w.dialect.FailAfterError(ctx, job, err, w.cfg.Tries, w.cfg.Clock()); reason != nil {
			w.fail(ctx, h, job, res, reason)
			return
		}
		w.release(ctx, h, job, res, w.dialect.RetryDelay(job, err, w.backoff()))
	}
}

func (r *run) reservation() queue.Reservation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res
}

// jobContext bounds a run by the payload's timeout, or the worker's.
func (w *Worker) jobContext(parent context.Context, job *queue.Job) (context.Context, context.CancelFunc) {
	timeout := w.cfg.Timeout
	if job.Timeout() > 0 {
		timeout = job.Timeout()
	}
	if timeout < 0 {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, timeout)
}

// call runs the handler, turning a panic into an error that says where it happened.
func call(ctx context.Context, h queue.Handler, job *queue.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in handler for %s: %v\n%s", job.Name(), p, debug.Stack())
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
	payload, err := w.dialect.ReleasedCopy(res)
	if err != nil {
		w.fail(ctx, h, job, res, fmt.Errorf("release: %w", err))
		return
	}
	ok, err := w.broker.Release(ctx, res, payload, w.cfg.Clock().Add(delay))
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
		Exception:  w.dialect.ExceptionText(reason),
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

func (w *Worker) handBack(ctx context.Context, res queue.Reservation, why string) {
	ok, err := w.broker.HandBack(ctx, res)
	switch {
	case err != nil:
		w.log.Error("hand job back", "queue", res.Queue, "err", err)
	case ok:
		w.log.Info("job handed back untouched", "queue", res.Queue, "why", why)
	}
}
