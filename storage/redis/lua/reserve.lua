-- reserve.lua: make due jobs visible, then take up to n jobs off the list and hold each in the reserved set.
--
-- Mirrors think-queue's connector\Redis::pop (v1.1.6 and v3.0.9, src/queue/connector/Redis.php):
-- migrateExpiredJobs(delayed -> list), migrateExpiredJobs(reserved -> list) (v3 only here: v1 rewrites
-- expired members, which Go does with migrate_expired.lua), LPOP, ZADD reserved. PHP sends these as separate
-- round trips, so a crash between LPOP and ZADD loses the job; here they are one atomic step.
--
-- KEYS[1] list      queues:<q>          or {queues:<q>}
-- KEYS[2] delayed   queues:<q>:delayed  or {queues:<q>}:delayed
-- KEYS[3] reserved  queues:<q>:reserved or {queues:<q>}:reserved
-- ARGV[1] now, Unix seconds: delayed and reserved members scored <= now are due
-- ARGV[2] score for the popped jobs in the reserved set: now + expire, or now when recovery is off
-- ARGV[3] n, how many jobs to pop (>= 1)
-- ARGV[4] "1": move expired reserved members back to the list unchanged; "0": leave them
-- ARGV[5] the most members one migration moves per call, so a huge backlog cannot stall the server
-- Returns: the popped payloads in list order; an empty array when the list is empty.

-- migrate_due (migrate_due.lua, loaded before this script) makes due delayed jobs, and with ARGV[4], expired
-- reservations, ready.
migrate_due(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[5]), ARGV[4] == '1')

local jobs = redis.call('LPOP', KEYS[1], ARGV[3])
if not jobs then
  return {}
end
local args = {}
for i, job in ipairs(jobs) do
  args[2 * i - 1] = ARGV[2]
  args[2 * i] = job
end
redis.call('ZADD', KEYS[3], unpack(args))
return jobs
