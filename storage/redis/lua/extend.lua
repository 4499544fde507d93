-- extend.lua: move a reservation's expiry so a long job is not recovered while it runs.
--
-- No PHP counterpart (think-queue has no lease renewal; #96, #111, #138, #178).
--
-- KEYS[1] reserved  queues:<q>:reserved or {queues:<q>}:reserved
-- ARGV[1] the new reserved-until score, Unix seconds
-- ARGV[2] the reserved member
-- Returns: 1 when the member was reserved and now has the new score; 0 when it was no longer reserved.

if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
return 1
