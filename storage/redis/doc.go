// Package redis is the QueueBridge broker on Redis: it pushes, reserves, acknowledges, releases and fails
// jobs in the same keys, with the same members and scores, as the PHP queue library it shares them with,
// so PHP and Go workers can drain one queue together.
//
// The broker knows no payload format. A [Dialect] (compat/thinkqueue's, for think-queue v1/v2/v3) tells it
// the key names and which bytes to hold while a job runs; the broker decides only how to move them
// atomically.
//
// # Keys
//
// Per queue, exactly the PHP library's keys, as the dialect names them:
//
//	queues:<q>            / {queues:<q>}             list   ready payloads, RPUSH in, LPOP out
//	queues:<q>:delayed    / {queues:<q>}:delayed     zset   payload -> available-at (Unix seconds)
//	queues:<q>:reserved   / {queues:<q>}:reserved    zset   member  -> reserved-until (Unix seconds)
//
// The bridge's own failed store, which PHP never reads (think-queue v1 keeps no failed jobs; v3 keeps them in
// a database table):
//
//	{<prefix>:failed}         hash   id -> record JSON {"id","connection","queue","payload"
//	                                 (or "payload_base64" when not UTF-8),"exception","failed_at" (RFC 3339)}
//	{<prefix>:failed}:index   zset   id -> failed-at (Unix milliseconds), for oldest-first listing
//
// <prefix> is [Config].FailedKeyPrefix ("queuebridge"). The braces keep both keys in one Cluster hash slot.
//
// # Reserving
//
// [Broker.Reserve] runs one Lua script (lua/reserve.lua) that does what think-queue's pop does in four
// round trips, atomically and for a whole batch: move due delayed jobs to the list (in score order, at most
// 1000 per call), move expired reservations back (v3: unchanged), LPOP up to n jobs and ZADD each to the
// reserved set with score now+Expire. Where the dialect holds a different copy while the job runs (v3:
// attempts+1), a second script swaps every copy of the batch in, only for jobs still reserved as raw, so a
// job is in the reserved set at every instant. Where expired jobs must be rewritten (v1: attempts+1), the
// broker reads up to 100 expired members at most once per second per queue, re-encodes them in Go and moves
// each one only if it is still reserved and still expired.
//
// Acknowledging a batch is one ZREM ([Broker.Delete]). [Broker.Release], [Broker.HandBack] and
// [Broker.Extend] act only when the member is still reserved, and report false otherwise: the job was
// recovered by another worker, and acting anyway would run it twice.
//
// # Working beside PHP workers
//
// PHP's migrations use WATCH/MULTI on the same keys; every change here is a single command or a script,
// which Redis runs atomically, so a WATCH sees it as one write and the two never move one member twice.
// Scores are integer Unix seconds, as PHP writes them, and every "now" comes from [Config].NowFunc and
// reaches the scripts as an argument (never Redis TIME), so tests can pin the clock.
//
// Config.Expire must equal the PHP workers' expire / retry_after. A reservation's score is its deadline, so
// each side honours the other's leases; but think-queue v1 with `expire => null` scores reservations "now",
// and any worker with recovery on (PHP or Go) takes those back at once and runs them again: pair it with
// Expire -1. Dialects that rewrite expired jobs (v1) move them to the list before due delayed jobs; PHP
// moves delayed jobs first. Only the order at the list's tail differs.
//
// Members are whole payloads, so two byte-identical payloads in one queue share one reserved entry, as they
// do in PHP; think-queue's random ids keep that from happening to jobs it pushed.
//
// # Clients
//
// The broker takes a go-redis [goredis.UniversalClient]: standalone, Sentinel or Cluster, Redis 6.2 or
// later (LPOP with a count). It never closes it. On Cluster every script needs all of a queue's keys in one hash slot, which only the hash-tag key
// scheme (think-queue >= 3.0.5) gives; [New] rejects a Cluster client with any other scheme.
package redis
