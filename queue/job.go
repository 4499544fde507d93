// Package queue holds the types every layer shares: the Job a handler sees, the Handler contract, and the
// Reservation a storage backend hands to the worker. It does no I/O.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// ErrPHPOnly marks a job that only the app's own PHP can run (an encrypted command, a Laravel chain to
// continue): the worker hands it back untouched, for the PHP workers.
var ErrPHPOnly = errors.New("queue: only the app's PHP can run this job")

// Outcome is what became of a job once its handler returned.
type Outcome int

const (
	// OutcomeNone means the handler neither deleted, released nor failed the job.
	OutcomeNone Outcome = iota
	// OutcomeDeleted means the job leaves the queue.
	OutcomeDeleted
	// OutcomeReleased means the job goes back to the queue after a delay.
	OutcomeReleased
	// OutcomeFailed means the job leaves the queue into the failed store.
	OutcomeFailed
	// OutcomeKept means the job stays reserved until its reservation lapses, then runs again: what the PHP
	// libraries do with a job whose code returned without deleting or releasing it.
	OutcomeKept
)

// Reservation is one job taken from a queue by a storage backend.
type Reservation struct {
	// Queue is the queue name without any key scheme (e.g. "default").
	Queue string
	// Raw is the payload as it was pushed (PHP's getRawBody()).
	Raw []byte
	// Member is the exact bytes the store holds while the job is reserved; delete and release remove exactly these.
	Member []byte
	// Expires is when the reservation lapses and the job becomes visible to other workers again.
	Expires time.Time
	// Attempts is what the PHP library's attempts() reports for this run when the store counts attempts
	// beside the payload (database queues' attempts column); 0 when the payload counts them (Redis).
	Attempts int
}

// JobParams are the decoded facts a worker gives NewJob.
type JobParams struct {
	Reservation Reservation
	Name        string // the payload's "job": Class or Class@method
	ID          string // the payload's "id" ("" when there is none)
	UUID        string // the payload's "uuid" (Laravel), or
	Attempts    int    // what the PHP library's attempts() returns while the job runs
	Data        []byte // the raw JSON of the payload's "data"
	MaxTries    int    // from the payload (0 when absent)
	Timeout     time.Duration
	RetryUntil  time.Time // from the payload (think-queue timeoutAt, Laravel retryUntil); zero when absent
	Payload     any       // the dialect's own decoding of the payload (*thinkqueue.Payload for think-queue)
	// Bind decodes the job's data into v; nil means Data is JSON (see Job.Bind). Laravel object jobs set it to
	// decode their PHP-serialized command.
	Bind func(v any) error
}

// Job is one reserved job as a handler sees it. Delete, Release and Fail record the decision; the worker
// carries it out when the handler returns, so a handler never races its own acknowledgement.
type Job struct {
	p       JobParams
	outcome Outcome
	delay   time.Duration
	err     error
	inPHP   bool
	routed  bool
	took    time.Duration
}

// NewJob returns the Job for a decoded reservation.
func NewJob(p JobParams) *Job { return &Job{p: p} }

// InPHP reports whether the worker gave the job to the PHP executor rather than a Go handler (metrics label
// its runs by it).
func (j *Job) InPHP() bool { return j.inPHP }

// SetInPHP records that the worker gave the job to the PHP executor; only the worker calls it.
func (j *Job) SetInPHP() { j.inPHP = true }

// Routed reports whether the job's class has a route or a shadow handler: the side it ran on was chosen for
// it, and the migration report counts its run.
func (j *Job) Routed() bool { return j.routed }

// SetRouted records that the job's class has a route or a shadow handler; only the router calls it.
func (j *Job) SetRouted() { j.routed = true }

// Took is how long the handler ran: set by the worker once the handler returned, or once the job was
// settled without it (timed out), before the run's last event; 0 before that.
func (j *Job) Took() time.Duration { return j.took }

// SetTook records how long the handler ran; only the worker calls it.
func (j *Job) SetTook(d time.Duration) { j.took = d }

// Name is the payload's job name, e.g. `app\job\Hello` or `app\job\Multi@taskA`.
func (j *Job) Name() string { return j.p.Name }

// Queue is the queue name the job was reserved from.
func (j *Job) Queue() string { return j.p.Reservation.Queue }

// ID is the payload's id (think-queue's 32-character random id, Laravel's id), or "".
func (j *Job) ID() string { return j.p.ID }

// UUID is the payload's uuid (Laravel), or "".
func (j *Job) UUID() string { return j.p.UUID }

// Attempts is the attempt number of this run, as the PHP library's attempts() counts it (1 on the first run).
func (j *Job) Attempts() int { return j.p.Attempts }

// RawBody is the payload bytes as pushed.
func (j *Job) RawBody() []byte { return j.p.Reservation.Raw }

// MaxTries is the payload's own maxTries, or 0 when it has none.
func (j *Job) MaxTries() int { return j.p.MaxTries }

// Timeout is the payload's own timeout, or 0 when it has none.
func (j *Job) Timeout() time.Duration { return j.p.Timeout }

// RetryUntil is the payload's own deadline for retries (think-queue's timeoutAt), or the zero time.
func (j *Job) RetryUntil() time.Time { return j.p.RetryUntil }

// Payload is the dialect's own decoding of the payload: *thinkqueue.Payload for the think-queue dialects.
func (j *Job) Payload() any { return j.p.Payload }

// Reservation is what the store holds for this job while it runs.
func (j *Job) Reservation() Reservation { return j.p.Reservation }

// Bind decodes the payload's data into v. PHP writes an empty object as [] after a round trip, so an empty
// list binds to a struct or map as an empty object.
func (j *Job) Bind(v any) error {
	if j.p.Bind != nil {
		return j.p.Bind(v)
	}
	if len(j.p.Data) == 0 {
		return errors.New("queue: job has no data")
	}
	return phpjson.Unmarshal(j.p.Data, v)
}

// Data is the raw JSON of the payload's data.
func (j *Job) Data() []byte { return j.p.Data }

// Delete removes the job from the queue when the handler returns.
func (j *Job) Delete() {
	if j.outcome == OutcomeNone {
		j.outcome = OutcomeDeleted
	}
}

// Release puts the job back on its queue, visible again after delay, when the handler returns.
func (j *Job) Release(delay time.Duration) {
	if j.outcome == OutcomeNone {
		j.outcome, j.delay = OutcomeReleased, delay
	}
}

// Keep leaves the job reserved when the handler returns: it runs again once its reservation lapses (after
// expire / retry_after), as a PHP job that neither deleted nor released itself does.
func (j *Job) Keep() {
	if j.outcome == OutcomeNone {
		j.outcome = OutcomeKept
	}
}

// Fail moves the job to the failed store with err as the reason when the handler returns.
func (j *Job) Fail(err error) {
	if err == nil {
		err = errors.New("job marked as failed")
	}
	if j.outcome == OutcomeNone || j.outcome == OutcomeDeleted {
		j.outcome, j.err = OutcomeFailed, err
	}
}

// Outcome reports what the handler decided: the outcome, the release delay and the failure reason.
func (j *Job) Outcome() (Outcome, time.Duration, error) { return j.outcome, j.delay, j.err }

// Handler runs jobs. Returning nil deletes the job unless it was released or failed; returning an error
// releases it with the worker's delay, or fails it once its tries are used up.
type Handler interface {
	ProcessJob(ctx context.Context, job *Job) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, job *Job) error

// ProcessJob calls f(ctx, job).
func (f HandlerFunc) ProcessJob(ctx context.Context, job *Job) error { return f(ctx, job) }

// FailedHandler is implemented by handlers that want think-queue's failed($data) / Laravel's failed($e):
// Failed runs once, when the job leaves the queue as failed.
type FailedHandler interface {
	Failed(ctx context.Context, job *Job, err error)
}
