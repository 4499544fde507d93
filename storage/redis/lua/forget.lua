-- forget.lua: delete one failed record (think-queue v3 queue:forget, FailedJobProvider::forget).
--
-- KEYS[1] failed  {<prefix>:failed}
-- KEYS[2] index   {<prefix>:failed}:index
-- ARGV[1] id
-- Returns: 1 when the record existed, else 0.

redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
