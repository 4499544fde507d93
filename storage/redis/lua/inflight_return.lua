-- inflight_return.lua: announce this bridge in a think-queue list's bridge registry and put back, at the head
-- of the list in their order, the jobs a blocking wait parked in this bridge's in-flight list.
--
-- A bridge waits for a think-queue job with BLMOVE <list> <inflight> LEFT RIGHT, so the job it wakes on is
-- always in Redis, never only in the bridge's memory; it moves the job straight back with this script, and the
-- normal reserve takes it (a PHP worker's LPOP may take it instead). This script runs again after a failed
-- move and every few seconds while the bridge waits, so a job whose move back was lost returns then.
--
-- KEYS[1] inflight  {<list>}:inflight:<bridge id>
-- KEYS[2] list      the queue's list
-- KEYS[3] bridges   {<list>}:bridges, a sorted set: bridge id scored by the Unix second it last announced itself
-- ARGV[1] now, Unix seconds
-- ARGV[2] this bridge's id
-- Returns: how many jobs went back to the list.

redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
local n = 0
-- RIGHT to LEFT: the newest parked job goes back first, so the oldest ends at the head, as it left.
while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do
  n = n + 1
end
return n
