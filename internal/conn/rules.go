package conn

import (
	"context"
	"time"

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
		ID:          p.ID,
		Attempts:    r.d.Attempts(p),
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

func (r thinkqueueRules) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	return r.d.FailBeforeRun(j.Payload().(*thinkqueue.Payload), j.Attempts(), tries, now)
}

func (r thinkqueueRules) FailsAfterError(_ context.Context, j *queue.Job, _ error, tries int, now time.Time) bool {
	return r.d.FailAfterError(j.Payload().(*thinkqueue.Payload), j.Attempts(), tries, now)
}

// RetryDelay is think-queue's --delay: the same for every attempt.
func (r thinkqueueRules) RetryDelay(j *queue.Job, backoff []time.Duration) time.Duration {
	return backoffFor(j.Attempts(), backoff)
}

// backoffFor picks the delay of an attempt from a per-attempt list whose last entry repeats.
func backoffFor(attempts int, backoff []time.Duration) time.Duration {
	if len(backoff) == 0 {
		return 0
	}
	return backoff[min(max(attempts-1, 0), len(backoff)-1)]
}

func (r thinkqueueRules) ReleasedCopy(res queue.Reservation) ([]byte, error) {
	return r.d.ReleasedCopy(res.Raw, res.Member)
}
