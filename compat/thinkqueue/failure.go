package thinkqueue

import "time"

// Attempts returns what PHP's Job::attempts() reports while the job is reserved: V1 the payload's
// attempts, V3 the payload's attempts + 1 (the reserved copy's value).
func (d Dialect) Attempts(p *Payload) int {
	if d.isV3() {
		return p.Attempts + 1
	}
	return p.Attempts
}

// MaxTries returns the tries limit the PHP worker applies to p: V3 the payload's maxTries when set,
// else the worker's --tries; V1 always --tries. 0 means unlimited.
func (d Dialect) MaxTries(p *Payload, workerTries int) int {
	if d.isV3() && p.MaxTries != nil {
		return *p.MaxTries
	}
	return workerTries
}

// Timeout returns the run-time limit the PHP worker arms for p: V3 the payload's timeout (seconds) when
// set, else the worker's --timeout; V1 (which has no --timeout) always workerTimeout. PHP treats a
// limit of 0 as none (pcntl_alarm(0)).
func (d Dialect) Timeout(p *Payload, workerTimeout time.Duration) time.Duration {
	if d.isV3() && p.Timeout != nil {
		return time.Duration(*p.Timeout) * time.Second
	}
	return workerTimeout
}

// MaxAttemptsExceededError is the failure of a job popped past its limits. Its message is PHP's
// MaxAttemptsExceededException text verbatim (no package prefix), because it ends up in failed_jobs
// and in the job's failed($data, $e) next to PHP-produced ones.
type MaxAttemptsExceededError struct {
	// Job is the payload's job name, which PHP's message starts with.
	Job string
}

// Error returns PHP's message for the job.
func (e *MaxAttemptsExceededError) Error() string {
	return e.Job + " has been attempted too many times or run too long. The job may have previously timed out."
}

// FailBeforeRun decides, right after a pop, whether the job must be failed without running it; nil
// means run it. attempts is Dialect.Attempts(p), workerTries the --tries option.
//
// V1: fail when workerTries > 0 and attempts > workerTries. V3 (Worker::
// markJobAsFailedIfAlreadyExceedsMaxAttempts): with a timeoutAt, fail once now is past it; without,
// fail unless maxTries is 0 or attempts <= maxTries (so, as in PHP, a negative maxTries fails every
// job).
func (d Dialect) FailBeforeRun(p *Payload, attempts, workerTries int, now time.Time) error {
	exceeded := func() error { return &MaxAttemptsExceededError{Job: p.Job} } // made only when it fails: it runs for every job
	if !d.isV3() {
		if workerTries > 0 && attempts > workerTries {
			return exceeded()
		}
		return nil
	}
	if at := timeoutAt(p); at != 0 {
		if now.Unix() <= at {
			return nil
		}
		return exceeded()
	}
	if maxTries := d.MaxTries(p, workerTries); maxTries == 0 || attempts <= maxTries {
		return nil
	}
	return exceeded()
}

// FailAfterError decides whether a run that ended in an error fails the job now (true) or releases it
// with --delay (false). V1: never; the next pop past --tries fails it. V3
// (markJobAsFailedIfWillExceedMaxAttempts): when timeoutAt has been reached, or maxTries > 0 and
// attempts >= maxTries.
func (d Dialect) FailAfterError(p *Payload, attempts, workerTries int, now time.Time) bool {
	if !d.isV3() {
		return false
	}
	if at := timeoutAt(p); at != 0 && at <= now.Unix() {
		return true
	}
	maxTries := d.MaxTries(p, workerTries)
	return maxTries > 0 && attempts >= maxTries
}

// timeoutAt returns the payload's timeoutAt, 0 meaning none: PHP tests it for truthiness, so 0 is unset.
func timeoutAt(p *Payload) int64 {
	if p.TimeoutAt == nil {
		return 0
	}
	return *p.TimeoutAt
}
