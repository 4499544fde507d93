package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// Outcome is what became of a job a handler ran.
type Outcome = queue.Outcome

// The outcomes of a run.
const (
	OutcomeDeleted  = queue.OutcomeDeleted
	OutcomeReleased = queue.OutcomeReleased
	OutcomeFailed   = queue.OutcomeFailed
	OutcomeKept     = queue.OutcomeKept
)

// JobResult is what RunJob did with a payload, as the worker would have done it on the queue.
type JobResult struct {
	Job     *Job          // nil when the payload could not be decoded
	Outcome Outcome       // deleted, released (for another attempt), failed (for good) or kept (left reserved)
	Delay   time.Duration // a release's delay
	Err     error         // the handler's error, or why the job failed
	Ran     bool          // false when the job failed before its handler ran (out of tries, poison)
}

// RunJob runs one payload — the bytes PHP would have pushed, or a reserved copy — through this bridge's Go
// handlers and the dialect's rules (tries, backoff, retryUntil, timeouts), dispatching the worker's events,
// but touching no store: what a test kit, a sync connection or a shadow run needs. wc supplies the worker's
// tries and delays; attempts 0 means the payload's own count.
func (b *Bridge) RunJob(ctx context.Context, queueName string, payload []byte, wc WorkerConfig) (JobResult, error) {
	if err := b.ready(); err != nil {
		return JobResult{}, err
	}
	now := b.cfg.Clock()
	// No Member: nothing is stored, and nothing is reserved.
	res := queue.Reservation{Queue: queueName, Raw: payload, Expires: now.Add(b.cfg.Expire)}
	rules := b.be.format.rules(nil, "")
	job, err := rules.NewJob(res)
	if err != nil {
		return JobResult{Outcome: OutcomeFailed, Err: fmt.Errorf("invalid payload: %w", err)}, nil
	}
	h, ok := b.mux.Lookup(job.Name())
	if !ok {
		return JobResult{Job: job}, fmt.Errorf("%s: %w", job.Name(), ErrNoHandler)
	}
	if reason := rules.CheckBeforeRun(job, wc.Tries, now); reason != nil {
		b.events.Dispatch(ctx, events.JobProcessing{Job: job})
		b.failed(ctx, h, job, res, reason)
		b.events.Dispatch(ctx, events.JobExceptionOccurred{Job: job, Err: reason})
		return JobResult{Job: job, Outcome: OutcomeFailed, Err: reason}, nil
	}
	b.events.Dispatch(ctx, events.JobProcessing{Job: job})
	began := time.Now()
	err = h.ProcessJob(ctx, job)
	job.SetTook(time.Since(began))
	r := JobResult{Job: job, Ran: true, Err: err}
	outcome, delay, failErr := job.Outcome()
	switch {
	case outcome == OutcomeFailed:
		r.Outcome, r.Err = OutcomeFailed, failErr
		b.failed(ctx, h, job, res, failErr)
	case outcome == OutcomeReleased:
		r.Outcome, r.Delay = OutcomeReleased, delay
		b.events.Dispatch(ctx, events.JobReleased{Job: job, Delay: delay})
	case outcome == OutcomeKept && err == nil:
		r.Outcome = OutcomeKept
	case outcome == OutcomeDeleted || err == nil:
		r.Outcome = OutcomeDeleted
	default:
		if reason := rules.FailAfterError(ctx, job, err, wc.Tries, now); reason != nil {
			r.Outcome, r.Err = OutcomeFailed, reason
			b.failed(ctx, h, job, res, reason)
			break
		}
		backoff := wc.Backoff
		if len(backoff) == 0 {
			backoff = []time.Duration{wc.Delay}
		}
		r.Outcome, r.Delay = OutcomeReleased, rules.RetryDelay(job, err, backoff, now)
		b.events.Dispatch(ctx, events.JobReleased{Job: job, Delay: r.Delay})
	}
	if err == nil {
		b.events.Dispatch(ctx, events.JobProcessed{Job: job})
	} else {
		b.events.Dispatch(ctx, events.JobExceptionOccurred{Job: job, Err: err})
	}
	return r, nil
}

// failed runs a handler's Failed hook and tells the listeners, as the worker does after moving a job to the
// failed store.
func (b *Bridge) failed(ctx context.Context, h Handler, job *Job, res queue.Reservation, reason error) {
	if fh, ok := h.(FailedHandler); ok {
		fh.Failed(ctx, job, reason)
	}
	b.events.Dispatch(ctx, events.JobFailed{Job: job, Reservation: res, Err: reason})
}
