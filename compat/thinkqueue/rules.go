package thinkqueue

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/queue"
)

// Rules is the rulebook of think-queue's worker for one Dialect, as the bridge's worker applies it to
// every job: reading a reservation, failing before or after a run, the release delay and copy, and the
// failed record's exception text. Time comes in with each call; Rules reads no clock and does no I/O.
//
// On a database queue (a Reservation with Attempts > 0) the attempts column counts, the row id is the
// job's id, a release keeps the payload bytes, and a job whose column reached 255 fails rather than
// overflow it.
type Rules struct{ d Dialect }

// NewRules returns the rules for d.
func NewRules(d Dialect) Rules { return Rules{d: d} }

// NewJob reads a reservation into the job a handler sees; an error means the payload cannot be run.
func (r Rules) NewJob(res queue.Reservation) (*queue.Job, error) {
	p, err := r.d.Parse(res.Raw)
	if err != nil {
		return nil, err
	}
	params := queue.JobParams{
		Reservation: res,
		Name:        p.Job,
		ID:          cmp.Or(p.ID, jobstable.RowID(res)),
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

// payloadOf is the Payload NewJob put in j.
func payloadOf(j *queue.Job) (*Payload, error) {
	p, ok := j.Payload().(*Payload)
	if !ok || p == nil {
		return nil, fmt.Errorf("thinkqueue: job %s was not read by thinkqueue.Rules (payload %T)", j.Name(), j.Payload())
	}
	return p, nil
}

// CheckBeforeRun is Dialect.FailBeforeRun after the attempts column's ceiling: the reason to fail j
// without running it, or nil to run it.
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

// FailAfterError is Dialect.FailAfterError: err fails j now, nil releases it for another attempt.
func (r Rules) FailAfterError(_ context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	p, perr := payloadOf(j)
	if perr != nil {
		return perr
	}
	if r.d.FailAfterError(p, j.Attempts(), tries, now) {
		return err
	}
	return nil
}

// RetryDelay is think-queue's --delay, the same for every attempt; given one delay per attempt, the last
// repeating, it picks the attempt's.
func (r Rules) RetryDelay(j *queue.Job, _ error, backoff []time.Duration, _ time.Time) time.Duration {
	if len(backoff) == 0 {
		return 0
	}
	return backoff[min(max(j.Attempts()-1, 0), len(backoff)-1)]
}

// ReleasedCopy is what release() writes back (see Dialect.ReleasedCopy): a database queue keeps the
// payload bytes and counts in its attempts column.
func (r Rules) ReleasedCopy(res queue.Reservation) ([]byte, error) {
	if res.Attempts > 0 {
		return res.Raw, nil
	}
	return r.d.ReleasedCopy(res.Raw, res.Member)
}

// ExceptionText is the failed record's reason: the error's text.
func (r Rules) ExceptionText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
