-- reserve_copies.lua: make due jobs visible, then take up to n jobs off the list and hold each in the reserved
-- set as the copy the caller made of it; return the head of the list behind them, for the next call's copies.
--
-- Mirrors think-queue v3.0.9 connector\Redis::pop (src/queue/connector/Redis.php): migrateExpiredJobs
-- (delayed -> list, then reserved -> list unchanged), LPOP, `ZADD reserved <now+retry_after>
-- <json_encode(payload with attempts+1)>`. The copy is PHP's json_encode, which Redis's cjson cannot make, so
-- Go makes it from a look at the head (the previous call's return) and sends it here. A job whose copy was
-- not sent (the head changed: a PHP worker popped, a job was pushed back) is not popped: the call stops
-- there and returns the new head, and Go makes its copy for the next call. PHP sends these steps as separate
-- round trips, so a crash between LPOP and ZADD loses the job; here each job is in the list or in the
-- reserved set at every instant.
--
-- KEYS[1] list      {queues:<q>}
-- KEYS[2] delayed   {queues:<q>}:delayed
-- KEYS[3] reserved  {queues:<q>}:reserved
-- ARGV[1] now, Unix seconds: delayed and reserved members scored <= now are due
-- ARGV[2] score for the popped jobs in the reserved set: now + expire, or now when recovery is off
-- ARGV[3] n, how many jobs to pop at most
-- ARGV[4] "1": move expired reserved members back to the list unchanged; "0": leave them
-- ARGV[5] the most members one migration moves per call, so a huge backlog cannot stall the server
-- ARGV[6] how many jobs of the head to return
-- ARGV[7..] pairs: raw1, copy1, raw2, copy2, ... (any order; raw bytes as in the list)
-- Returns: {popped, head}: popped lists, in list order, the pair number (1-based) of each job popped; head
--          is the list's first ARGV[6] jobs after the pop.

-- migrate_due (migrate_due.lua, loaded before this script) makes due delayed jobs, and with ARGV[4], expired
-- reservations, ready.
migrate_due(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[5]), ARGV[4] == '1')

local pair = {}
for i = 7, #ARGV, 2 do
  pair[ARGV[i]] = i
end
local popped, zadd = {}, {}
for _, job in ipairs(redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)) do
  local i = pair[job]
  if not i then
    break
  end
  popped[#popped + 1] = (i - 5) / 2
  zadd[#zadd + 1] = ARGV[2]
  zadd[#zadd + 1] = ARGV[i + 1]
end
if #popped > 0 then
  redis.call('LTRIM', KEYS[1], #popped, -1)
  redis.call('ZADD', KEYS[3], unpack(zadd))
end
return {popped, redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[6]) - 1)}
