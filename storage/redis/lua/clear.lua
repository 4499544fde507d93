-- clear.lua: drop every job of a queue: ready, delayed and reserved.
--
-- think-queue has no clear; this mirrors Laravel's RedisQueue::clear (LuaScripts::clear), which counts the
-- jobs and deletes the keys in one step.
--
-- KEYS[1] list, KEYS[2] delayed, KEYS[3] reserved
-- Returns: how many jobs were dropped.

local size = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return size
