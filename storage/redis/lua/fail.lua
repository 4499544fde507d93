-- fail.lua: keep a failed job's record in the bridge's failed store.
--
-- No Redis counterpart in think-queue (v1 keeps nothing; v3 writes failed_jobs through its database failer).
-- The record and its index entry are written together so neither exists without the other.
--
-- KEYS[1] failed     {<prefix>:failed}        hash  id -> record JSON
-- KEYS[2] index      {<prefix>:failed}:index  zset  id -> failed-at, Unix milliseconds
-- ARGV[1] id
-- ARGV[2] failed-at, Unix milliseconds
-- ARGV[3] record JSON
-- Returns: 1 when the id is new, 0 when an existing record was replaced.

local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return added
