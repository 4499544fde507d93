// Package laravel holds the wire-format knowledge of Laravel's queue (Illuminate\Queue, Laravel 8 to 12), so
// that Go workers and producers can share Redis and database queues with PHP ones byte for byte.
//
// It covers the payload codec (NewStringPayload, NewObjectPayload, Parse), PHP serialize() for the command
// of class-based jobs (SerializeCommand, Unserialize, DecodeCommand), Redis and cache key names (QueueKeys,
// NotifyKey, RestartCacheKey, PauseCacheKey, CacheKey), the retry policy of Illuminate\Queue\Worker
// (Attempts, MaxTries, FailBeforeRun, FailAfterError, Backoff), the released copy, failed_jobs rows and job
// ids, and Rules, which applies all of it to the bridge's worker. It performs no I/O: the storage and worker
// packages do. Rules takes the time with each call and keeps the maxExceptions count behind an
// ExceptionCounter.
//
// # Versions
//
// A Dialect names a Laravel major version and the Redis connection prefix. Each Version stands for the newest
// release of its line, which is what the golden fixtures (shared/fixtures/laravel: 8.83.26, 11.56.0,
// 12.67.0) were captured from; where those and the written spec disagree, this package follows the fixtures.
// The wire changed inside lines too, so older point releases can differ from their Version:
//
//   - 8 (8.83): the envelope as in the spec; Job::retryUntil() falls back to a legacy "timeoutAt" key.
//   - 9 (9.52): SerializesModels leaves out properties still equal to their declared default (since 9.4)
//     and ModelIdentifier gains collectionClass (since 9.26); no timeoutAt fallback.
//   - 10 (10.48): MaxAttemptsExceededException says "has been attempted too many times." (since 10.10).
//   - 11 (11.56): the Queueable properties are declared in a new order (since 11.2) and the cache store no
//     longer adds ":" after the cache prefix.
//   - 12 (12.67): payloads gain "createdAt" (12.11), a trailing "delay" (12.11) and data.batchId (12.51);
//     Queueable gains messageGroup (12.27) and deduplicator (12.32); queues can be paused (12.40).
//
// The 9 and 10 rules are read from the framework's source; no fixtures pin them.
//
// # PHP serialize()
//
// The design card names github.com/elliotchance/phpserialize for data.command. The package has its own
// reader and writer instead, because that library decodes objects into Go maps: it loses the order of
// their properties and the class names of nested objects, and without both a command cannot be written
// back byte for byte (a released or retried job, a Go producer's payload). Unserialize keeps every
// object's class and property order, visibility included (Object, Prop), and reading is hardened for
// payloads from anywhere: lengths, counts, nesting and what references expand to are bounded by the
// input, so no input makes it panic or run away.
//
// # JSON
//
// Laravel writes payloads with json_encode($payload, JSON_UNESCAPED_UNICODE): "/" escaped, non-ASCII raw
// except U+2028 and U+2029, NUL as \u0000 (see phpjson.EncodeUnescapedUnicode). The Redis pop script
// re-encodes the reserved copy with Redis's cjson; those bytes are never rebuilt here, only kept.
package laravel
