package thinkqueue

// DefaultQueue is the queue name PHP uses when none is given (the v1 connector's `default` option and
// the queue every v3 connection config ships with).
const DefaultQueue = "default"

// RestartCacheKey is the cache key `php think queue:restart` sets, prefixed by the app cache store's
// prefix. Its value is the Unix time as a plain decimal string with no TTL; a daemon restarts when the
// value differs from the one it read at start.
const RestartCacheKey = "think:queue:restart"

// QueueKeys returns the Redis keys of queue: the ready LIST and the :delayed and :reserved ZSETs.
// An empty queue means DefaultQueue. No version of think-queue has a key prefix option.
func (d Dialect) QueueKeys(queue string) (list, delayed, reserved string) {
	if queue == "" {
		queue = DefaultQueue
	}
	list = "queues:" + queue
	if d.Keys == KeysHashTag {
		list = "{" + list + "}"
	}
	return list, list + ":delayed", list + ":reserved"
}
