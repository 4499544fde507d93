package conn

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/queue"
)

// thinkqueueRules lets the worker follow a think-queue dialect.
type thinkqueueRules struct{ d thinkqueue.Dialect }

func (r thinkqueueRules) NewJob(res queue.Reservation) (*queue.Job, error) {
	p, err := r.d.Parse(res.Raw)
	if err != nil {
		return nil, err
	}
	params := queue.JobParams{
		Reservation: res,
		Name:        p.Job,
		ID:          cmp.Or(p.ID, rowID(res)),
		Attempts:    cmp.Or(res.Attempts, r.d.Attempts(p)),
		Data:        p.Data,
		Payload:     p,
	}
	if p.MaxTries != nil {
		params.MaxTries = *p.MaxTries
	}
	if p.Timeout != nil {
		params.Timeout = time.Duration(*p.Timeout) * time.Second
	}
	if p.TimeoutAt != nil {
		params.RetryUntil = time.Unix(*p.TimeoutAt, 0)
	}
	return queue.NewJob(params), nil
}

// rowID is a database queue's job id, its row id (getJobId()); "" on Redis, where the payload has one.
func rowID(res queue.Reservation) string {
	if res.Attempts > 0 {
		return string(res.Member)
	}
	return ""
}

func (r thinkqueueRules) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	if err := columnCeiling(j); err != nil {
		return err
	}
	return r.d.FailBeforeRun(j.Payload().(*thinkqueue.Payload), j.Attempts(), tries, now)
}

// maxColumnAttempts is the ceiling of the jobs tables' attempts column (TINYINT UNSIGNED).
const maxColumnAttempts = 255

// columnCeiling fails a database job whose attempts column reached its ceiling: one more attempt would
// overflow it, which PHP turns into a failing UPDATE that wedges the queue (think-queue #97).
func columnCeiling(j *queue.Job) error {
	if res := j.Reservation(); res.Attempts >= maxColumnAttempts {
		return fmt.Errorf("job %s: its attempts column reached %d, the most a TINYINT UNSIGNED holds; failed rather than overflowed", j.Name(), maxColumnAttempts)
	}
	return nil
}

func (r thinkqueueRules) FailAfterError(_ context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	if r.d.FailAfterError(j.Payload().(*thinkqueue.Payload), j.Attempts(), tries, now) {
		return err
	}
	return nil
}

// RetryDelay is think-queue's --delay: the same for every attempt.
func (r thinkqueueRules) RetryDelay(j *queue.Job, _ error, backoff []time.Duration, _ time.Time) time.Duration {
	return backoffFor(j.Attempts(), backoff)
}

// backoffFor picks the delay of an attempt from a per-attempt list whose last entry repeats.
func backoffFor(attempts int, backoff []time.Duration) time.Duration {
	if len(backoff) == 0 {
		return 0
	}
	return backoff[min(max(attempts-1, 0), len(backoff)-1)]
}

func (r thinkqueueRules) ExceptionText(err error) string { return err.Error() }

// ReleasedCopy is what release() writes back: a database queue keeps the payload bytes and counts in its
// attempts column.
func (r thinkqueueRules) ReleasedCopy(res queue.Reservation) ([]byte, error) {
	if res.Attempts > 0 {
		return res.Raw, nil
	}
	return r.d.ReleasedCopy(res.Raw, res.Member)
}

// laravelRules lets the worker follow Laravel's Worker. It keeps maxExceptions' counter where Laravel does,
// in the app's Redis cache store, so PHP workers and the bridge count one job's exceptions together.
type laravelRules struct {
	d           laravel.Dialect
	cache       goredis.UniversalClient
	cachePrefix string
}

// maxExceptionsTTL is how long Laravel keeps a job's exception counter.
const maxExceptionsTTL = 24 * time.Hour

func (r laravelRules) NewJob(res queue.Reservation) (*queue.Job, error) {
	p, err := r.d.Parse(res.Raw)
	if err != nil {
		return nil, err
	}
	if res.Attempts == 0 && bytes.Equal(res.Raw, res.Member) {
		// The pop script keeps the raw bytes only when Redis's cjson could not re-encode them.
		return nil, errors.New("Redis's cjson could not decode the payload (Laravel's own pop would have lost it)")
	}
	params := queue.JobParams{
		Reservation: res,
		Name:        p.Name(),
		ID:          cmp.Or(p.ID, rowID(res)),
		UUID:        p.UUID,
		Attempts:    cmp.Or(res.Attempts, r.d.Attempts(p)),
		Data:        p.Data,
		Payload:     p,
	}
	if p.Command != "" {
		command := p.Command
		params.Bind = func(v any) error { return laravel.DecodeCommand(command, v) }
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

func (r laravelRules) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	if err := columnCeiling(j); err != nil {
		return err
	}
	return r.d.FailBeforeRun(j.Payload().(*laravel.Payload), j.Attempts(), tries, now)
}

// FailAfterError is Worker::handleJobException, and for a run past its timeout the worker's timeout
// handler: fail with MaxAttemptsExceededException when the tries are used up or the job fails on timeout.
func (r laravelRules) FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	p := j.Payload().(*laravel.Payload)
	if errors.Is(err, context.DeadlineExceeded) {
		if p.FailOnTimeout || r.d.FailAfterError(p, j.Attempts(), tries, 0, now) {
			return r.d.MaxAttemptsExceeded(p)
		}
		return nil
	}
	exceptions := 0
	key, counted := r.d.MaxExceptionsKey(p)
	counted = counted && r.cache != nil // PHP without a cache store keeps no counter either
	if counted {
		key = r.d.CacheKey(r.cachePrefix, key)
		var incr *goredis.IntCmd
		_, perr := r.cache.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
			pipe.SetNX(ctx, key, 0, maxExceptionsTTL)
			incr = pipe.Incr(ctx, key)
			return nil
		})
		if perr == nil {
			exceptions = int(incr.Val())
		}
	}
	if counted && exceptions >= *p.MaxExceptions {
		r.cache.Del(ctx, key) // PHP forgets the counter only when the job fails by maxExceptions
	}
	if r.d.FailAfterError(p, j.Attempts(), tries, exceptions, now) {
		return err
	}
	return nil
}

// RetryDelay is Worker::calculateBackoff after an exception. A run past its timeout is not released by
// Laravel: its worker dies and the job comes back when its reservation lapses, so it waits until then.
func (r laravelRules) RetryDelay(j *queue.Job, err error, backoff []time.Duration, now time.Time) time.Duration {
	if errors.Is(err, context.DeadlineExceeded) {
		return max(j.Reservation().Expires.Sub(now), 0)
	}
	seconds := make([]int, len(backoff))
	for i, d := range backoff {
		seconds[i] = int(d / time.Second)
	}
	return r.d.Backoff(j.Payload().(*laravel.Payload), j.Attempts(), seconds)
}

// ExceptionText is PHP's (string)$e, which Laravel writes into failed_jobs.exception: the PHP executor's own
// text for an exception thrown in PHP, else the Go error rendered the same way.
func (r laravelRules) ExceptionText(err error) string {
	var thrown interface{ PHPText() string }
	if errors.As(err, &thrown) && thrown.PHPText() != "" {
		return thrown.PHPText()
	}
	return laravel.ExceptionFromError(err).String()
}

func (r laravelRules) ReleasedCopy(res queue.Reservation) ([]byte, error) {
	if res.Attempts > 0 { // a database queue: the payload goes back as it is
		return r.d.ReleasedCopy(res.Raw, nil)
	}
	return r.d.ReleasedCopy(res.Raw, res.Member)
}
