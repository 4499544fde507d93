package laravel

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/queue"
)

// ExceptionCounter keeps Laravel's per-job exception count (job-exceptions:<uuid> in the app's cache
// store), which maxExceptions is checked against, so that PHP workers and the bridge count one job's
// exceptions together. Keys are whole cache-store keys (see Dialect.CacheKey).
type ExceptionCounter interface {
	// Increment adds one to the count under key, which starts at 0 with ttl when missing, and returns it.
	Increment(ctx context.Context, key string, ttl time.Duration) (int, error)
	// Forget removes the count under key.
	Forget(ctx context.Context, key string) error
}

// exceptionsTTL is how long Laravel keeps a job's exception count from its first exception.
const exceptionsTTL = 24 * time.Hour

// Rules is the rulebook of Illuminate\Queue\Worker for one Dialect, as the bridge's worker applies it to
// every job: reading a reservation, failing before or after a run, the release delay and copy, and the
// failed record's exception text. Time comes in with each call and the exception count lives in the
// ExceptionCounter, so Rules itself reads no clock and does no I/O.
//
// On a database queue (a Reservation with Attempts > 0) the attempts column counts, the row id is the
// job's id, and a job whose column reached 255 fails rather than overflow it.
type Rules struct {
	d           Dialect
	exceptions  ExceptionCounter
	cachePrefix string
}

// NewRules returns the rules for d. exceptions keeps maxExceptions' count under the app's cache prefix
// (config cache.prefix, see Dialect.CacheKey); nil keeps none, as PHP without a cache store, and then
// maxExceptions never fails a job.
func NewRules(d Dialect, exceptions ExceptionCounter, cachePrefix string) Rules {
	return Rules{d: d, exceptions: exceptions, cachePrefix: cachePrefix}
}

// NewJob reads a reservation into the job a handler sees. An error means the payload cannot be run (it
// goes to the failed store), except for one wrapping queue.ErrPHPOnly: that comes with the job, which
// only the app's PHP can run (an encrypted command, a chain to continue, a batch to count).
func (r Rules) NewJob(res queue.Reservation) (*queue.Job, error) {
	p, err := r.d.Parse(res.Raw)
	if err != nil {
		return nil, err
	}
	if res.Attempts == 0 && bytes.Equal(res.Raw, res.Member) {
		// The pop script keeps the raw bytes only when Redis's cjson could not re-encode them.
		return nil, errors.New("laravel: the pop script could not re-encode the payload with Redis's cjson (Laravel's own pop would have lost it)")
	}
	params := queue.JobParams{
		Reservation: res,
		Name:        p.Name(),
		ID:          cmp.Or(p.ID, jobstable.RowID(res)),
		UUID:        p.UUID,
		Attempts:    cmp.Or(res.Attempts, r.d.Attempts(p)),
		Data:        p.Data,
		Payload:     p,
	}
	if p.Command != "" {
		command := p.Command
		params.Bind = func(v any) error { return DecodeCommand(command, v) }
	}
	if p.MaxTries != nil {
		params.MaxTries = *p.MaxTries
	}
	if p.Timeout != nil {
		params.Timeout = time.Duration(*p.Timeout) * time.Second
	}
	if p.RetryUntil != nil && *p.RetryUntil != 0 { // PHP tests retryUntil for truth: 0 is none
		params.RetryUntil = time.Unix(*p.RetryUntil, 0)
	}
	job := queue.NewJob(params)
	switch {
	case p.Encrypted():
		return job, fmt.Errorf("job %s has an encrypted command (ShouldBeEncrypted) that only the app can decrypt: %w", p.Name(), queue.ErrPHPOnly)
	case p.Chained():
		return job, fmt.Errorf("job %s starts a chain that Laravel's CallQueuedHandler continues: %w", p.Name(), queue.ErrPHPOnly)
	case p.Batched():
		return job, fmt.Errorf("job %s belongs to a batch whose job_batches row Laravel's CallQueuedHandler keeps: %w", p.Name(), queue.ErrPHPOnly)
	}
	return job, nil
}

// payloadOf is the Payload NewJob put in j.
func payloadOf(j *queue.Job) (*Payload, error) {
	p, ok := j.Payload().(*Payload)
	if !ok || p == nil {
		return nil, fmt.Errorf("laravel: job %s was not read by laravel.Rules (payload %T)", j.Name(), j.Payload())
	}
	return p, nil
}

// CheckBeforeRun is Worker::markJobAsFailedIfAlreadyExceedsMaxAttempts (see Dialect.FailBeforeRun), after
// the attempts column's ceiling: the reason to fail j without running it, or nil to run it.
func (r Rules) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	p, err := payloadOf(j)
	if err != nil {
		return err
	}
	if err := jobstable.CheckCeiling(j.Name(), j.Reservation()); err != nil {
		return err
	}
	return r.d.FailBeforeRun(p, j.Attempts(), tries, now)
}

// FailAfterError is Worker::handleJobException, and for a run past its timeout the worker's timeout
// handler: nil releases j for another attempt; an error fails it, with err itself, or with
// MaxAttemptsExceededException when a run past its timeout used up the tries or the job fails on
// timeout. A count the ExceptionCounter cannot keep counts as none.
func (r Rules) FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	p, perr := payloadOf(j)
	if perr != nil {
		return perr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		if p.FailOnTimeout || r.d.FailAfterError(p, j.Attempts(), tries, 0, now) {
			return r.d.MaxAttemptsExceeded(p)
		}
		return nil
	}
	exceptions := 0
	if key, ok := r.d.MaxExceptionsKey(p); ok && r.exceptions != nil {
		key = r.d.CacheKey(r.cachePrefix, key)
		if n, cerr := r.exceptions.Increment(ctx, key, exceptionsTTL); cerr == nil {
			exceptions = n
			if n >= *p.MaxExceptions {
				// PHP forgets the count once it fails the job by it; a count left behind expires.
				_ = r.exceptions.Forget(ctx, key)
			}
		}
	}
	if r.d.FailAfterError(p, j.Attempts(), tries, exceptions, now) {
		return err
	}
	return nil
}

// RetryDelay is Worker::calculateBackoff after an exception (see Dialect.Backoff), with backoff as the
// worker's --backoff. A run past its timeout is not released by Laravel: its worker dies and the job
// comes back when its reservation lapses, so it waits until then.
func (r Rules) RetryDelay(j *queue.Job, err error, backoff []time.Duration, now time.Time) time.Duration {
	if errors.Is(err, context.DeadlineExceeded) {
		return max(j.Reservation().Expires.Sub(now), 0)
	}
	seconds := make([]int, len(backoff))
	for i, d := range backoff {
		seconds[i] = int(d / time.Second)
	}
	p, perr := payloadOf(j)
	if perr != nil {
		p = &Payload{}
	}
	return r.d.Backoff(p, j.Attempts(), seconds)
}

// ReleasedCopy is what a release writes back (see Dialect.ReleasedCopy): the reserved member on Redis,
// the payload as it is on a database queue.
func (r Rules) ReleasedCopy(res queue.Reservation) ([]byte, error) {
	if res.Attempts > 0 {
		return r.d.ReleasedCopy(res.Raw, nil)
	}
	return r.d.ReleasedCopy(res.Raw, res.Member)
}

// ExceptionText is PHP's (string)$e, which Laravel writes into failed_jobs.exception: the text PHP gave
// an exception thrown in PHP (an error with a PHPText method, as the PHP executor's are), else the Go
// error rendered the same way (ExceptionFromError).
func (r Rules) ExceptionText(err error) string {
	var thrown interface{ PHPText() string }
	if errors.As(err, &thrown) && thrown.PHPText() != "" {
		return thrown.PHPText()
	}
	return ExceptionFromError(err).String()
}
