package thinkqueue

import "strings"

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

// QueuePattern returns the Redis SCAN MATCH pattern every key QueueKeys names matches: "queues:*", or
// "{queues:*" for hash-tag keys.
func (d Dialect) QueuePattern() string {
	if d.Keys == KeysHashTag {
		return "{queues:*"
	}
	return "queues:*"
}

// QueueOf returns the queue whose list, :delayed or :reserved key is key, and false for a key QueueKeys
// never names. With plain keys "queues:a:delayed" is both queue a's delayed set and queue "a:delayed"'s
// list, which PHP cannot tell apart either; it is read as the set.
func (d Dialect) QueueOf(key string) (string, bool) {
	for _, set := range []string{":delayed", ":reserved"} {
		if k, ok := strings.CutSuffix(key, set); ok {
			key = k
			break
		}
	}
	if d.Keys != KeysHashTag {
		name, ok := strings.CutPrefix(key, "queues:")
		return name, ok && name != ""
	}
	name, ok := strings.CutPrefix(key, "{queues:")
	if ok {
		name, ok = strings.CutSuffix(name, "}")
	}
	return name, ok && name != ""
}
