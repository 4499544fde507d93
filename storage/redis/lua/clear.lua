-- clear.lua: drop every job of a queue: ready, delayed and reserved.
--
-- think-queue has no clear; this mirrors Laravel's RedisQueue::clear (LuaScripts::clear), which counts the
-- jobs and deletes the keys, its notify list included, in one step.
--
-- KEYS[1] list, KEYS[2] delayed, KEYS[3] reserved, KEYS[4] notify (optional: Laravel only)
-- Returns: how many jobs were dropped.

local size = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
redis.call('DEL', unpack(KEYS))
return size
