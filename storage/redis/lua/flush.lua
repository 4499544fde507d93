-- flush.lua: delete every failed record (think-queue v3 queue:flush, FailedJobProvider::flush).
--
-- KEYS[1] failed  {<prefix>:failed}
-- KEYS[2] index   {<prefix>:failed}:index
-- Returns: how many records were deleted.

local n = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return n
