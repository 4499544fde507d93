-- clear_waiting.lua: drop a queue's waiting jobs, ready and delayed, and leave its reserved ones.
--
-- Laravel's clear (clear.lua) drops the reserved set too, under the workers running those jobs; this one
-- lets them finish. The notify list goes with the list: its tokens stand for the ready jobs dropped.
--
-- KEYS[1] list, KEYS[2] delayed, KEYS[3] notify (optional: Laravel only)
-- Returns: how many jobs were dropped.

local size = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
redis.call('DEL', unpack(KEYS))
return size
