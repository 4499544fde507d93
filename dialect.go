package bridge

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/compat/thinkqueue"
	redisstore "github.com/queuebridge/bridge/storage/redis"
	"github.com/queuebridge/bridge/worker"
)

// pushParams are the per-push values a payload may carry.
type pushParams struct {
	id    string
	now   time.Time
	delay time.Duration
	db    bool // a database queue: id and attempts live in columns, not in the payload
}

func (p pushParams) laravel() laravel.PayloadParams {
	return laravel.PayloadParams{ID: p.id, Now: p.now, Redis: !p.db, Later: p.delay > 0, Delay: p.delay}
}

// format is one PHP library's job format, as a connection uses it: the keys, the bytes a push writes and a
// retry pushes back, the worker's rules, and where the restart signal lives.
type format interface {
	name() string
	keys() redisstore.QueueKeyer
	rules(cache goredis.UniversalClient, cachePrefix string) worker.Rules
	payload(job string, data any, p pushParams) ([]byte, error)
	retryCopy(raw []byte) ([]byte, error)
	restartKey(cachePrefix string) string
	newID() string
	// failedTable is the failed_jobs table the library writes.
	failedTable() jobstable.Failed
	// jobsTable is the jobs table of the library's database queue.
	jobsTable() jobstable.Jobs
	// pauseKey returns the cache key of a queue's pause flag, or nil when the library cannot pause queues.
	pauseKey(cachePrefix string) func(connection, queue string) string
	// payloadID is a Redis payload's id, or "" (see jobs.go, with describe and withData).
	payloadID(raw []byte) string
	describe(raw []byte) (described, error)
	withData(raw []byte, data json.RawMessage) ([]byte, error)
}

// parseFormat picks the format a dialect name belongs to; prefix is the Redis connection prefix of the
// formats that have one (Laravel's database.redis.options.prefix).
func parseFormat(dialect, prefix string) (format, error) {
	if strings.HasPrefix(dialect, "laravel-") {
		d, err := laravel.ParseDialect(dialect)
		if err != nil {
			return nil, err
		}
		if prefix != "" {
			d.Prefix = prefix
		}
		return laravelFormat{d}, nil
	}
	d, err := thinkqueue.ParseDialect(dialect)
	if err != nil {
		return nil, fmt.Errorf("%w; or laravel-8 … laravel-12", err)
	}
	if prefix != "" {
		return nil, fmt.Errorf("dialect %s: think-queue has no key prefix (got %q)", dialect, prefix)
	}
	return thinkqueueFormat{d}, nil
}

type thinkqueueFormat struct{ d thinkqueue.Dialect }

func (f thinkqueueFormat) name() string                       { return f.d.Name() }
func (f thinkqueueFormat) keys() redisstore.QueueKeyer        { return f.d }
func (f thinkqueueFormat) newID() string                      { return thinkqueue.NewID() }
func (f thinkqueueFormat) retryCopy(b []byte) ([]byte, error) { return f.d.RetryCopy(b) }
func (f thinkqueueFormat) rules(goredis.UniversalClient, string) worker.Rules {
	return thinkqueue.NewRules(f.d)
}

func (f thinkqueueFormat) failedTable() jobstable.Failed { return thinkqueue.FailedTable() }
func (f thinkqueueFormat) jobsTable() jobstable.Jobs     { return f.d.Version.JobsTable() }

func (f thinkqueueFormat) pauseKey(string) func(string, string) string { return nil }

func (f thinkqueueFormat) payload(job string, data any, p pushParams) ([]byte, error) {
	if p.db {
		return f.d.NewDBPayload(job, data)
	}
	return f.d.NewPayload(job, data, p.id)
}

func (f thinkqueueFormat) restartKey(cachePrefix string) string {
	return cachePrefix + thinkqueue.RestartCacheKey
}

type laravelFormat struct{ d laravel.Dialect }

func (f laravelFormat) name() string                { return f.d.Name() }
func (f laravelFormat) keys() redisstore.QueueKeyer { return f.d }
func (f laravelFormat) newID() string               { return laravel.NewID() }

// rules keeps maxExceptions' count where Laravel does, in the app's Redis cache store; without one, there
// is no count, as in PHP without a cache store.
func (f laravelFormat) rules(cache goredis.UniversalClient, cachePrefix string) worker.Rules {
	var counter laravel.ExceptionCounter
	if cache != nil {
		counter = redisstore.NewExceptionCounter(cache)
	}
	return laravel.NewRules(f.d, counter, f.cachePrefix(cachePrefix))
}

func (f laravelFormat) failedTable() jobstable.Failed { return laravel.FailedTable() }
func (f laravelFormat) jobsTable() jobstable.Jobs     { return laravel.JobsTable() }

func (f laravelFormat) pauseKey(cachePrefix string) func(string, string) string {
	prefix := f.cachePrefix(cachePrefix)
	if _, ok := f.d.PauseCacheKey(prefix, "", ""); !ok {
		return nil
	}
	return func(connection, queue string) string {
		key, _ := f.d.PauseCacheKey(prefix, connection, queue)
		return key
	}
}

// payload writes a string job ("Class@method" + data) as RedisQueue / DatabaseQueue push and later do.
func (f laravelFormat) payload(job string, data any, p pushParams) ([]byte, error) {
	return f.d.NewStringPayload(job, data, p.laravel())
}

// retryCopy is queue:retry's resetAttempts: attempts back to 0 where the key exists, re-encoded with
// json_encode's default flags.
func (f laravelFormat) retryCopy(raw []byte) ([]byte, error) {
	v, err := phpjson.Decode(raw)
	if err != nil {
		return nil, err
	}
	v = phpjson.Assoc(v)
	if m, ok := v.(*phpjson.Map); ok {
		if _, has := m.Get("attempts"); has {
			m.Set("attempts", int64(0))
		}
	}
	return phpjson.Encode(v)
}

func (f laravelFormat) restartKey(cachePrefix string) string {
	return f.d.RestartCacheKey(f.cachePrefix(cachePrefix))
}

// cachePrefix is the app's cache.prefix, or the framework's default for the version when none is given.
func (f laravelFormat) cachePrefix(given string) string {
	switch {
	case given != "":
		return given
	case f.d.Version >= laravel.V11:
		return "laravel_cache_"
	}
	return "laravel_cache"
}
