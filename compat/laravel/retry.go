package laravel

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxAttemptsExceededException is the PHP class of the failure FailBeforeRun reports.
const MaxAttemptsExceededException = `Illuminate\Queue\MaxAttemptsExceededException`

// Attempts returns what RedisJob::attempts() reports while the job is reserved: the popped payload's
// attempts + 1, since the pop script counts the attempt when it reserves (a missing attempts counts as 0).
// The database driver counts in its attempts column instead, which already holds the value after the
// reservation.
func (d Dialect) Attempts(p *Payload) int { return p.Attempts + 1 }

// MaxTries returns the tries limit the worker applies to p: the payload's maxTries when set, else the
// worker's --tries. 0 means unlimited.
func (d Dialect) MaxTries(p *Payload, workerTries int) int {
	if p.MaxTries != nil {
		return *p.MaxTries
	}
	return workerTries
}

// Timeout returns the run-time limit the worker arms for p: the payload's timeout (seconds) when set, else
// the worker's --timeout. 0 means none.
func (d Dialect) Timeout(p *Payload, workerTimeout time.Duration) time.Duration {
	if p.Timeout != nil {
		return time.Duration(*p.Timeout) * time.Second
	}
	return workerTimeout
}

// MaxAttemptsExceededError is the failure of a job reserved past its limits. Its message is PHP's
// MaxAttemptsExceededException text verbatim (no package prefix), because it ends up in failed_jobs and in
// the job's failed() hook next to PHP-produced ones.
type MaxAttemptsExceededError struct {
	// Name is JobName::resolve of the job (Payload.ResolveName), which the message starts with.
	Name string
	// Short selects the 10.10+ wording, without the timeout hint.
	Short bool
}

// Error returns PHP's message for the job.
func (e *MaxAttemptsExceededError) Error() string {
	if e.Short {
		return e.Name + " has been attempted too many times."
	}
	return e.Name + " has been attempted too many times or run too long. The job may have previously timed out."
}

// PHPClass returns MaxAttemptsExceededException, the class ExceptionFromError reports.
func (e *MaxAttemptsExceededError) PHPClass() string { return MaxAttemptsExceededException }

// FailBeforeRun is Worker::markJobAsFailedIfAlreadyExceedsMaxAttempts, run right after a reservation: nil
// means run the job, a *MaxAttemptsExceededError means fail it without running. attempts is
// Dialect.Attempts(p) (or the database attempts column), workerTries the --tries option.
//
// With a retryUntil, the job runs while now is not past it, whatever its attempts; without, it runs when
// maxTries is 0 or attempts <= maxTries (so, as in PHP, a negative maxTries fails every job). This is how
// jobs that timed out or crashed finally fail: on their next reservation.
func (d Dialect) FailBeforeRun(p *Payload, attempts, workerTries int, now time.Time) error {
	if until := retryUntil(p); until != 0 {
		if now.Unix() <= until {
			return nil
		}
	} else if maxTries := d.MaxTries(p, workerTries); maxTries == 0 || attempts <= maxTries {
		return nil
	}
	return d.MaxAttemptsExceeded(p)
}

// MaxAttemptsExceeded is the MaxAttemptsExceededException Laravel's worker fails p with when it was
// reserved past its limits or ran past its timeout (Worker::maxAttemptsExceededException).
func (d Dialect) MaxAttemptsExceeded(p *Payload) *MaxAttemptsExceededError {
	return &MaxAttemptsExceededError{Name: p.ResolveName(), Short: d.shortAttemptsMessage()}
}

// FailAfterError is Worker::handleJobException's decision for a run that threw: true fails the job now
// (with the job's own exception), false releases it with Backoff. It fails when
// markJobAsFailedIfWillExceedMaxAttempts does (retryUntil reached; or, without a retryUntil, maxTries > 0
// and attempts >= maxTries) or markJobAsFailedIfWillExceedMaxExceptions does (maxExceptions set, the
// payload has a uuid, and maxExceptions <= the counter).
//
// exceptionsSoFar is the job's job-exceptions:{uuid} counter after this exception's increment (see
// MaxExceptionsKey); 0 means the worker keeps no counter (PHP without a cache), which never fails by
// maxExceptions. PHP increments the counter even when the tries check has failed the job already.
func (d Dialect) FailAfterError(p *Payload, attempts, workerTries, exceptionsSoFar int, now time.Time) bool {
	if until := retryUntil(p); until != 0 {
		if until <= now.Unix() {
			return true
		}
	} else if maxTries := d.MaxTries(p, workerTries); maxTries > 0 && attempts >= maxTries {
		return true
	}
	return exceptionsSoFar > 0 && p.MaxExceptions != nil && p.UUID != "" && *p.MaxExceptions <= exceptionsSoFar
}

// MaxExceptionsKey returns the cache key the worker counts p's exceptions under, "job-exceptions:"+uuid,
// and whether it counts them at all (maxExceptions set and a uuid present). PHP puts 0 there with a
// one-day TTL when it is missing, increments it after every exception, and forgets it when the job fails
// by it. Dialect.CacheKey gives the Redis key of a Redis cache store.
func (d Dialect) MaxExceptionsKey(p *Payload) (key string, ok bool) {
	if p.MaxExceptions == nil || p.UUID == "" {
		return "", false
	}
	return "job-exceptions:" + p.UUID, true
}

// retryUntil is Job::retryUntil() as PHP tests it for truth: 0 means none.
func retryUntil(p *Payload) int64 {
	if p.RetryUntil == nil {
		return 0
	}
	return *p.RetryUntil
}

// Backoff is Worker::calculateBackoff: the release delay after the attempts-th run threw. The list is the
// payload's backoff (Payload.Backoff, e.g. "10,30"), else the worker's --backoff; entry attempts-1 is
// used, the last one when there are fewer, each cast to an integer as PHP's (int) does. An empty
// workerBackoff counts as --backoff=0.
func (d Dialect) Backoff(p *Payload, attempts int, workerBackoff []int) time.Duration {
	var list []string
	if p.Backoff != nil {
		list = strings.Split(*p.Backoff, ",")
	} else {
		list = make([]string, max(len(workerBackoff), 1))
		list[0] = "0"
		for i, b := range workerBackoff {
			list[i] = strconv.Itoa(b)
		}
	}
	entry := list[len(list)-1]
	if i := attempts - 1; i >= 0 && i < len(list) {
		entry = list[i]
	}
	return time.Duration(phpInt(entry)) * time.Second
}

// phpInt is PHP 8's (int) cast of a string: leading whitespace, then the longest numeric prefix; a float
// prefix ("1.5", "1e3") is truncated, one outside the int range gives 0, and no digits give 0.
func phpInt(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	end, isFloat := 0, false
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	intEnd := end
	if end < len(s) && s[end] == '.' {
		j := end + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > end+1 || intEnd > digits {
			end, isFloat = j, true
		}
	}
	if end > digits && end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		j := end + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			end, isFloat = k, true
		}
	}
	if !isFloat {
		if intEnd == digits {
			return 0
		}
		n, err := strconv.ParseInt(s[:intEnd], 10, 64)
		if err != nil { // out of range: strtol saturates
			if s[0] == '-' {
				return math.MinInt64
			}
			return math.MaxInt64
		}
		return n
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil && f == 0 {
		return 0
	}
	if f != f || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0
	}
	return int64(f)
}

// ReleasedCopy returns the bytes a release stores for a job popped as raw and reserved as reserved: on
// Redis the reserved member unchanged (the release script moves it to :delayed, attempts already bumped),
// so the next pop's raw payload is Redis's cjson form. The database driver, which has no reserved copy
// (reserved nil), re-inserts raw unchanged.
func (d Dialect) ReleasedCopy(raw, reserved []byte) ([]byte, error) {
	if reserved == nil {
		return raw, nil
	}
	return reserved, nil
}
