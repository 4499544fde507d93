-- migrate_expired.lua: return expired reservations to the list as rewritten copies.
--
-- Mirrors think-queue v1.1.6 connector\Redis::migrateExpiredJobs($reserved, $queue, attempt=true)
-- (src/queue/connector/Redis.php), which re-encodes each member with attempts+1. PHP does it under
-- WATCH/MULTI; here each member moves only if this script removes it, so a PHP worker's migration and ours
-- never both move one member, and a member whose lease was extended meanwhile stays put.
--
-- KEYS[1] list      queues:<q>
-- KEYS[2] reserved  queues:<q>:reserved
-- ARGV[1] now, Unix seconds: only members still scored <= now move
-- ARGV[2..] pairs: old1, new1, old2, new2, ... (old = reserved member, new = what goes to the list tail)
-- Returns: how many members moved.

local now = tonumber(ARGV[1])
local moved = 0
for i = 2, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if score and tonumber(score) <= now then
    redis.call('ZREM', KEYS[2], ARGV[i])
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    moved = moved + 1
  end
end
return moved
