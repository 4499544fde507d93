package laravel

import "strings"

// DefaultQueue is the queue name of every queue connection in the Laravel skeletons; RedisQueue uses its
// connection's default when a job names no queue.
const DefaultQueue = "default"

// Cache keys the worker reads (Worker::getTimestampOfLastQueueRestart, Worker::getNextJob on 12.x).
const (
	restartKey     = "illuminate:queue:restart"
	pausedKeyStart = "illuminate:queue:paused:"
)

// QueueKeys returns the Redis keys of queue: the ready LIST d.Prefix+"queues:"+queue, the ":delayed" ZSET
// (score = available-at Unix seconds) and the ":reserved" ZSET (score = reservation expiry). An empty queue
// means DefaultQueue. Laravel 8–12 put no cluster hash tag in the names; name the queue "{x}" for that.
func (d Dialect) QueueKeys(queue string) (list, delayed, reserved string) {
	list = d.queueKey(queue)
	return list, list + ":delayed", list + ":reserved"
}

// NotifyKey returns the queue's ":notify" LIST: one "1" per job made ready (push and migration, never
// later), one taken per job reserved, for workers blocking with block_for.
func (d Dialect) NotifyKey(queue string) string { return d.queueKey(queue) + ":notify" }

func (d Dialect) queueKey(queue string) string {
	if queue == "" {
		queue = DefaultQueue
	}
	return d.Prefix + "queues:" + queue
}

// CacheKey returns the Redis key under which a Redis cache store keeps key: d.Prefix (the cache connection
// shares the prefix option with the queue connection in the skeletons), then cachePrefix (config
// cache.prefix: "laravel_cache" in 8.x, "laravel_cache_" in the 11.x and 12.x framework config,
// "laravel-cache-" in the 12.x skeleton), then key. Before 11.0 the store adds ":" after a non-empty
// cachePrefix. The cache connection normally uses Redis database 1, not the queue's 0.
func (d Dialect) CacheKey(cachePrefix, key string) string {
	if cachePrefix != "" && d.cacheColon() {
		cachePrefix += ":"
	}
	return d.Prefix + cachePrefix + key
}

// RestartCacheKey returns the Redis key `php artisan queue:restart` sets, with a Redis cache store: e.g.
// "laravel_database_laravel_cache:illuminate:queue:restart" (8.x) or
// "laravel_database_laravel_cache_illuminate:queue:restart" (11.x, 12.x). Its value is the Unix time as a
// plain decimal string with no TTL; workers compare it with the value they read at start (PHP's !=) after
// every job and exit on a change.
func (d Dialect) RestartCacheKey(cachePrefix string) string {
	return d.CacheKey(cachePrefix, restartKey)
}

// PauseCacheKey returns the Redis key `php artisan queue:pause connection:queue` sets, with a Redis cache
// store, and true; ok is false before 12.x, which cannot pause queues. The value is "b:1;" (serialize(true)),
// forever or with the pauseFor TTL; a worker skips the queue while the key holds a truthy value, and
// queue:resume deletes it.
func (d Dialect) PauseCacheKey(cachePrefix, connection, queue string) (key string, ok bool) {
	if !d.v12() {
		return "", false
	}
	return d.CacheKey(cachePrefix, pausedKeyStart+connection+":"+queue), true
}

// QueuePattern returns the Redis SCAN MATCH pattern every key QueueKeys and NotifyKey name matches:
// d.Prefix, glob characters escaped, then "queues:*".
func (d Dialect) QueuePattern() string {
	var b strings.Builder
	for _, r := range d.Prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "queues:*"
}

// QueueOf returns the queue whose list, :delayed or :reserved key is key, and false for any other key,
// the :notify list included. As in PHP, "…queues:a:delayed" is both queue a's delayed set and queue
// "a:delayed"'s list; it is read as the set.
func (d Dialect) QueueOf(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, d.Prefix+"queues:")
	if !ok || strings.HasSuffix(name, ":notify") {
		return "", false
	}
	for _, set := range []string{":delayed", ":reserved"} {
		if n, ok := strings.CutSuffix(name, set); ok {
			name = n
			break
		}
	}
	return name, name != ""
}
