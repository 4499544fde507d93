-- cancel.lua: withdraw one waiting job by its exact bytes, from the list or the delayed set.
--
-- No PHP counterpart (neither library withdraws a job). A member that is in neither any more was reserved
-- (or cancelled) meanwhile: nothing changes and the caller says so. A job taken from the list takes one
-- notify token with it (Laravel keeps one per ready job); a delayed job has none yet.
--
-- KEYS[1] list
-- KEYS[2] delayed
-- KEYS[3] notify (optional: Laravel only)
-- ARGV[1] the member
-- Returns: 1 when removed from the list, 2 when removed from the delayed set, 0 when in neither.

if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then
  if KEYS[3] then
    redis.call('LPOP', KEYS[3])
  end
  return 1
end
if redis.call('ZREM', KEYS[2], ARGV[1]) > 0 then
  return 2
end
return 0
