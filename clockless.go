package bridge

import (
	"context"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// clockless serves worker.Dialect, whose RetryDelay takes no clock, with compat's rules, whose
// RetryDelay takes now. It goes once the worker's Rules interface (RetryDelay with now) lands: rules()
// then returns the compat rules as they are.
type clockless struct{ r rulesWithNow }

// rulesWithNow is what compat/thinkqueue.Rules and compat/laravel.Rules provide (worker.Rules).
type rulesWithNow interface {
	NewJob(r queue.Reservation) (*queue.Job, error)
	CheckBeforeRun(j *queue.Job, tries int, now time.Time) error
	FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error
	RetryDelay(j *queue.Job, err error, backoff []time.Duration, now time.Time) time.Duration
	ReleasedCopy(r queue.Reservation) ([]byte, error)
	ExceptionText(err error) string
}

func (c clockless) NewJob(r queue.Reservation) (*queue.Job, error) { return c.r.NewJob(r) }
func (c clockless) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	return c.r.CheckBeforeRun(j, tries, now)
}
func (c clockless) FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	return c.r.FailAfterError(ctx, j, err, tries, now)
}
func (c clockless) RetryDelay(j *queue.Job, err error, backoff []time.Duration) time.Duration {
	return c.r.RetryDelay(j, err, backoff, time.Now())
}
func (c clockless) ReleasedCopy(r queue.Reservation) ([]byte, error) { return c.r.ReleasedCopy(r) }
func (c clockless) ExceptionText(err error) string                   { return c.r.ExceptionText(err) }
