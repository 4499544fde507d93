-- move.lua: replace one waiting job by its new bytes, in its queue or another, in one step.
--
-- No PHP counterpart. The member is looked for by its exact bytes in the source list, then in the source
-- delayed set; one that is in neither was reserved (or removed) meanwhile and nothing changes. Where the
-- new payload goes:
--   keep   the same state: a ready job keeps its place in the list (LSET) or goes to the tail of the
--          other queue's; a delayed job keeps its time
--   front  the head of the destination list: the next job Reserve takes
--   at     the destination delayed set, scored ARGV[4]; a time already past makes it ready at the next
--          Reserve's migration (which adds Laravel's notify token then)
-- Laravel's notify lists stay one token per ready job: one taken from the source for a job that leaves its
-- list, one added to the destination for a job that enters one.
--
-- KEYS[1] source list      KEYS[2] source delayed
-- KEYS[3] destination list KEYS[4] destination delayed
-- KEYS[5] source notify, KEYS[6] destination notify (optional: Laravel only)
-- ARGV[1] the member, ARGV[2] the new payload, ARGV[3] keep | front | at, ARGV[4] the time for at, Unix seconds
-- Returns: 1 when the job was ready (in the list), 2 when it was delayed, 0 when it was in neither.

local member, payload, where, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local notify = #KEYS == 6

local pos = redis.call('LPOS', KEYS[1], member)
if pos then
  if where == 'keep' and KEYS[1] == KEYS[3] then
    redis.call('LSET', KEYS[1], pos, payload)
    return 1
  end
  redis.call('LREM', KEYS[1], 1, member)
  if notify then
    redis.call('LPOP', KEYS[5])
  end
  if where == 'at' then
    redis.call('ZADD', KEYS[4], at, payload)
    return 1
  end
  if where == 'front' then
    redis.call('LPUSH', KEYS[3], payload)
  else
    redis.call('RPUSH', KEYS[3], payload)
  end
  if notify then
    redis.call('RPUSH', KEYS[6], 1)
  end
  return 1
end

local score = redis.call('ZSCORE', KEYS[2], member)
if not score then
  return 0
end
redis.call('ZREM', KEYS[2], member)
if where == 'front' then
  redis.call('LPUSH', KEYS[3], payload)
  if notify then
    redis.call('RPUSH', KEYS[6], 1)
  end
  return 2
end
if where == 'keep' then
  at = score
end
redis.call('ZADD', KEYS[4], at, payload)
return 2
