-- inflight_recover.lua: put back a dead bridge's parked jobs at the head of the list, and forget the bridge.
--
-- A bridge killed between its BLMOVE and inflight_return.lua leaves the job in its in-flight list. A bridge
-- that has not announced itself since ARGV[1] is dead (a live one announces itself every few seconds while it
-- waits, and parks nothing while it does not). The score is read again here, atomically with the move, so a
-- bridge that announced itself since it was found stale keeps its list.
--
-- KEYS[1] inflight  {<list>}:inflight:<dead bridge id>
-- KEYS[2] list      the queue's list
-- KEYS[3] bridges   {<list>}:bridges
-- ARGV[1] deadline, Unix seconds: a bridge last seen at or before it is dead
-- ARGV[2] the dead bridge's id
-- Returns: how many jobs went back, or -1 when the bridge is alive after all.

local seen = redis.call('ZSCORE', KEYS[3], ARGV[2])
if seen and tonumber(seen) > tonumber(ARGV[1]) then
  return -1
end
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do
  n = n + 1
end
redis.call('ZREM', KEYS[3], ARGV[2])
return n
