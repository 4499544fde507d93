package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/worker"
)

// lastErrorRules keeps the error of a job's last run beside the queue, so that a think-queue job failed
// before it runs — 1.x fails it on the pop past --tries, after it was released — is recorded with the
// error that used up its tries, not only "attempted too many times". The payload PHP sees is unchanged.
type lastErrorRules struct {
	worker.Rules
	errs lastErrors
}

// lastErrors remembers a job's last error by key: in the app's Redis cache where there is one (so a
// bridge failing the job finds what another bridge saw), else in this process.
type lastErrors interface {
	remember(ctx context.Context, key, text string)
	recall(ctx context.Context, key string) string
	forget(ctx context.Context, key string)
}

// lastErrorTTL bounds how long a released job's last error is kept.
const lastErrorTTL = 7 * 24 * time.Hour

// lastErrorTimeout bounds the cache calls made where the worker gives no context.
const lastErrorTimeout = 2 * time.Second

// jobKey names a job across its releases: the payload's id, which think-queue keeps on Redis; on a
// database queue (whose row id changes on release, while the payload bytes do not) the payload's hash.
func jobKey(j *queue.Job) string {
	if res := j.Reservation(); res.Attempts > 0 || j.ID() == "" {
		sum := sha256.Sum256(res.Raw)
		return res.Queue + ":" + hex.EncodeToString(sum[:12])
	}
	return j.Queue() + ":" + j.ID()
}

func (r lastErrorRules) FailAfterError(ctx context.Context, j *queue.Job, err error, tries int, now time.Time) error {
	reason := r.Rules.FailAfterError(ctx, j, err, tries, now)
	if reason == nil {
		r.errs.remember(ctx, jobKey(j), err.Error())
	} else {
		r.errs.forget(ctx, jobKey(j))
	}
	return reason
}

func (r lastErrorRules) CheckBeforeRun(j *queue.Job, tries int, now time.Time) error {
	reason := r.Rules.CheckBeforeRun(j, tries, now)
	if reason == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), lastErrorTimeout)
	defer cancel()
	key := jobKey(j)
	last := r.errs.recall(ctx, key)
	if last == "" {
		return reason
	}
	r.errs.forget(ctx, key)
	return &withLastError{reason: reason, last: last}
}

// withLastError is a reason to fail a job that says what its last run ended with.
type withLastError struct {
	reason error
	last   string
}

func (e *withLastError) Error() string { return fmt.Sprintf("%v; last error: %s", e.reason, e.last) }
func (e *withLastError) Unwrap() error { return e.reason }

// redisLastErrors keeps last errors in the app's cache, under the bridge's own prefix.
type redisLastErrors struct {
	cache  goredis.UniversalClient
	prefix string
}

func (s redisLastErrors) key(k string) string { return s.prefix + ":last_error:" + k }

func (s redisLastErrors) remember(ctx context.Context, key, text string) {
	s.cache.Set(ctx, s.key(key), text, lastErrorTTL) // best effort: the job's fate does not depend on it
}

func (s redisLastErrors) recall(ctx context.Context, key string) string {
	v, err := s.cache.Get(ctx, s.key(key)).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return ""
	}
	return v
}

func (s redisLastErrors) forget(ctx context.Context, key string) { s.cache.Del(ctx, s.key(key)) }

// memoryLastErrors keeps last errors in this process, at most memoryLastErrorsMax of them.
type memoryLastErrors struct {
	mu sync.Mutex
	m  map[string]string
}

const memoryLastErrorsMax = 10000

func (s *memoryLastErrors) remember(_ context.Context, key, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	if len(s.m) >= memoryLastErrorsMax {
		clear(s.m) // crude, but bounded: losing old texts only loses detail
	}
	s.m[key] = text
}

func (s *memoryLastErrors) recall(_ context.Context, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

func (s *memoryLastErrors) forget(_ context.Context, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
