// Package redis is the QueueBridge broker on Redis: it pushes, reserves, acknowledges, releases and fails
// jobs in the same keys, with the same members and scores, as the PHP queue library it shares them with,
// so PHP and Go workers can drain one queue together.
//
// The broker knows no payload format. A dialect tells it the key names and which family of scripts to run;
// the broker decides only how to move bytes atomically. There is one [Broker] for every library; [New]
// looks at the dialect's methods:
//
//   - a [LaravelDialect] (QueueKeys and NotifyKey; compat/laravel's, for Laravel 8–12) gets Laravel's
//     scripts: pushes and migrations add notify tokens, and Redis's own cjson makes the reserved copy
//     (see "Laravel" below);
//   - a [Dialect] (QueueKeys, ReservedCopy, ExpiredCopy, RewritesExpired; compat/thinkqueue's, for
//     think-queue v1/v2/v3) gets think-queue's, where Go makes the copies PHP's json_encode would.
//
// Both share [QueueKeyer]. Delete, Release, Extend, Fail, Sizes, List, Queues and the failed store are the
// same commands and scripts for both families; Push, Reserve, HandBack and Clear differ only where Laravel
// has a notify list, which the scripts receive as one more key.
//
// # Keys
//
// Per queue, exactly the PHP library's keys, as the dialect names them (think-queue here; Laravel's, with
// their notify list, under "Laravel" below):
//
//	queues:<q>            / {queues:<q>}             list   ready payloads, RPUSH in, LPOP out
//	queues:<q>:delayed    / {queues:<q>}:delayed     zset   payload -> available-at (Unix seconds)
//	queues:<q>:reserved   / {queues:<q>}:reserved    zset   member  -> reserved-until (Unix seconds)
//
// The bridge's own failed store, which PHP never reads (think-queue v1 keeps no failed jobs; think-queue v3
// and Laravel keep them in a database table):
//
//	{<prefix>:failed}         hash   id -> record JSON {"id","connection","queue","payload"
//	                                 (or "payload_base64" when not UTF-8),"exception","failed_at" (RFC 3339)}
//	{<prefix>:failed}:index   zset   id -> failed-at (Unix milliseconds), for oldest-first listing
//
// <prefix> is [Config].FailedKeyPrefix ("queuebridge"). The braces keep both keys in one Cluster hash slot.
//
// # Reserving
//
// For think-queue, [Broker.Reserve] runs one Lua script (lua/reserve.lua) that does what think-queue's pop
// does in four round trips, atomically and for a whole batch: move due delayed jobs to the list (in score
// order, at most 1000 per call), move expired reservations back (v3: unchanged), LPOP up to n jobs and ZADD
// each to the reserved set with score now+Expire. Where the dialect holds a different copy while the job runs (v3:
// attempts+1, PHP's json_encode, which Redis's cjson cannot make), lua/reserve_copies.lua does the same
// with copies Go made from the head the previous call returned, pops only the head jobs it has copies for,
// and returns the next head: still one script per batch, and a job is in the list or the reserved set at
// every instant. Where expired jobs must be rewritten (v1: attempts+1), the
// broker reads up to 100 expired members at most once per second per queue, re-encodes them in Go and moves
// each one only if it is still reserved and still expired.
//
// Acknowledging a batch is one ZREM ([Broker.Delete]). [Broker.Release], [Broker.HandBack] and
// [Broker.Extend] act only when the member is still reserved, and report false otherwise: the job was
// recovered by another worker, and acting anyway would run it twice.
//
// # Looking into queues
//
// [Broker.Sizes], [Broker.List] and [Broker.Queues] read without moving anything. A job is ready when the
// next Reserve may take it: in the list, or due in the delayed set, or (unless Expire is -1) lapsed in
// the reserved set; List gives ready jobs in the order Reserve takes them (lua/list_ready.lua), delayed
// jobs by due time, reservations by expiry. Queues scans (on Cluster, every master) with the dialect's
// QueuePattern, never KEYS, and keeps the queues whose keys QueueOf names and whose types fit.
//
// # Working beside PHP workers
//
// think-queue's migrations use WATCH/MULTI on the same keys, Laravel's are scripts; every change here is a
// single command or a script, which Redis runs atomically, so a WATCH sees it as one write and the two never
// move one member twice.
// Scores are integer Unix seconds, as PHP writes them, and every "now" comes from [Config].NowFunc and
// reaches the scripts as an argument (never Redis TIME), so tests can pin the clock.
//
// Config.Expire must equal the PHP workers' expire / retry_after (Laravel: the connection's retry_after,
// 90 in the app skeletons, 60 when absent). A reservation's score is its deadline, so
// each side honours the other's leases; but think-queue v1 with `expire => null` scores reservations "now",
// and any worker with recovery on (PHP or Go) takes those back at once and runs them again: pair it with
// Expire -1. Dialects that rewrite expired jobs (v1) move them to the list before due delayed jobs; PHP
// moves delayed jobs first. Only the order at the list's tail differs.
//
// Members are whole payloads, so two byte-identical payloads in one queue share one reserved entry, as they
// do in PHP; think-queue's and Laravel's random ids keep that from happening to jobs they pushed.
//
// # Laravel
//
// Keys, with the connection prefix (default "laravel_database_"; "laravel-database-" in 2025+ 12.x app
// skeletons) that compat/laravel puts in front:
//
//	<prefix>queues:<q>            list   ready payloads, RPUSH in, LPOP out
//	<prefix>queues:<q>:delayed    zset   payload -> available-at (Unix seconds)
//	<prefix>queues:<q>:reserved   zset   reserved copy -> reserved-until (Unix seconds)
//	<prefix>queues:<q>:notify     list   one "1" per job made ready, one taken per job reserved
//
// [Broker.Push] runs Laravel's push script (lua/laravel_push.lua: RPUSH the payload, RPUSH "1" to :notify);
// [Broker.Later] is ZADD :delayed with no token, as Laravel's later. [Broker.Reserve] runs
// lua/laravel_reserve.lua, which does in one EVALSHA what RedisQueue::pop does in three scripts per job:
// migrate due delayed jobs, then (retry_after not null) expired reservations, to the list's tail with one
// notify token each (ZRANGEBYSCORE, ZREMRANGEBYRANK, RPUSH in chunks of 100, at most 1000 per set per call),
// then for each of up to n jobs Laravel's pop: LPOP, cjson.decode, attempts+1, cjson.encode, ZADD :reserved
// now+Expire, LPOP :notify. The reserved copy is therefore Redis's cjson output, byte for byte what a PHP
// worker's pop writes (keys reordered, [] -> {}, %.14g numbers), which Go could not reproduce itself. A
// [queue.Reservation]'s Raw is the popped payload (getRawBody) and its Member the cjson copy
// (getReservedJob); Delete, Release and Fail remove exactly Member, and Release schedules Member unchanged,
// as Laravel's release does, so the next run's raw body is the cjson form with attempts already counted.
//
// One deliberate difference: Laravel's pop raises a script error after its LPOP when cjson cannot decode a
// job or the job has no numeric attempts, and the job is lost. Here the re-encode runs under pcall and such a
// job is held in :reserved as it came, Member equal to Raw, for the worker to move to the failed store.
// Member equals Raw for no other job (attempts always changes), so a Laravel dialect can tell poison by it.
//
// [Broker.HandBack] (a job no handler here can run) puts Raw back on the list with a notify token, attempts
// unchanged. [Broker.Clear] deletes :notify too, as Laravel's clear. Laravel's block_for (BLPOP on :notify)
// is not used; the tokens are kept exact so PHP workers that block on them wake as they would among PHP
// workers. Laravel 8.83, 11.x and 12.x write the same keys with the same scripts (pop, release, push and the
// notify tokens of migrateExpiredJobs are unchanged; 9.23 added the migration batch limit, 12.45 moved later
// into a one-line script with the same effect), so one script family serves them all.
//
// Redis Cluster: Laravel 8–12 do not hash-tag queue keys, so a queue's keys share a slot only when its name
// carries a tag, e.g. "{default}" (the usual workaround; Laravel 13.5 tags names itself). Every key reaches the
// scripts through KEYS, and on a Cluster client every operation on a queue whose keys lie in different
// slots fails with an error that says so before anything is sent, so CROSSSLOT never happens.
//
// # Clients
//
// The broker takes a go-redis [goredis.UniversalClient]: standalone, Sentinel or Cluster, Redis 6.2 or
// later (LPOP with a count). It never closes it. On Cluster every script needs all of a queue's keys in one
// hash slot: with think-queue only the hash-tag key scheme (think-queue >= 3.0.5) gives that, and [New]
// rejects a Cluster client with any other scheme; with Laravel the queue name must carry a hash tag.
package redis
