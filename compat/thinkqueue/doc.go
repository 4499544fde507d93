// Package thinkqueue holds the wire-format knowledge of topthink/think-queue, so that Go workers and
// producers can share Redis queues with PHP ones byte for byte.
//
// It covers the payload codec (NewPayload, Parse), Redis key names (Dialect.QueueKeys), the bytes each
// Redis step stores (ReservedCopy, ReleasedCopy, ExpiredCopy, RetryCopy), the attempts arithmetic and
// failure rules of the PHP worker (Attempts, MaxTries, FailBeforeRun, FailAfterError), job-name parsing,
// job ids, the queue:restart cache key and the File cache file it is written to (FileCachePath,
// FileCacheContent, CacheForm), and Rules, which applies them to the bridge's worker (taking the
// time with each call). It performs no I/O: the storage and worker packages do.
//
// Two wire dialects exist. V1 is think-queue 1.x (ThinkPHP 5.0) and 2.x (ThinkPHP 5.1), which write the
// same bytes. V3 is think-queue 3.x (ThinkPHP 6/8). V3 renamed the Redis keys to use a cluster hash tag in
// 3.0.5, so a V3 dialect also carries its KeyScheme. The behaviour is pinned by golden fixtures captured
// from the real library (shared/fixtures/thinkqueue); where those and the written spec disagree, this
// package follows the fixtures.
package thinkqueue
