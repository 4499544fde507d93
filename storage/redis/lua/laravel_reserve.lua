-- laravel_reserve.lua: make due jobs ready, then reserve up to n jobs exactly as Laravel's pop script does.
--
-- Mirrors Illuminate\Queue\RedisQueue::pop (8.83.26, 11.56.0, 12.67.0): LuaScripts::migrateExpiredJobs from
-- :delayed to the list, then (unless retry_after is null) from :reserved to the list, then LuaScripts::pop,
-- here once per job for up to n jobs in this one script. PHP sends three scripts per job; the migrations'
-- effects are the same either way, and every pop is Laravel's per-job logic unchanged:
--
--   reserved = cjson.decode(job); reserved['attempts'] = reserved['attempts'] + 1
--   reserved = cjson.encode(reserved); ZADD :reserved <now+retry_after> reserved; LPOP :notify
--
-- so the reserved copy is Redis's own cjson output, byte for byte what a PHP worker's pop writes. Two
-- differences, both deliberate:
--   * A migration moves at most ARGV[5] members per call (Laravel 9.23+'s migration_batch_size; PHP's
--     default -1 moves all), so a backlog of millions drains over many calls instead of stalling Redis.
--   * Laravel's pop raises a script error after its LPOP when cjson cannot decode the job or the job has no
--     numeric attempts, and the job is lost. Here the re-encode runs under pcall, and such a job is held in
--     :reserved as its raw bytes (score now+retry_after), so the worker can move it to the failed store.
--
-- KEYS[1] list      <prefix>queues:<q>
-- KEYS[2] delayed   <prefix>queues:<q>:delayed
-- KEYS[3] reserved  <prefix>queues:<q>:reserved
-- KEYS[4] notify    <prefix>queues:<q>:notify
-- ARGV[1] now, Unix seconds: delayed and reserved members scored <= now are due
-- ARGV[2] score for the popped jobs in :reserved: now + retry_after, or now when retry_after is null
-- ARGV[3] n, how many jobs to pop (>= 1)
-- ARGV[4] "1": move expired reserved members back to the list; "0": leave them (retry_after null)
-- ARGV[5] the most members one migration moves per call
-- Returns: job1, reserved1, job2, reserved2, ... in list order (an empty array when the list is empty);
--          reservedI is byte-equal to jobI exactly when cjson could not re-encode jobI.

-- LuaScripts::migrateExpiredJobs: ZRANGEBYSCORE, ZREMRANGEBYRANK, RPUSH in chunks of 100 and one notify
-- token per migrated job. Laravel pushes the tokens one RPUSH at a time; the list ends the same.
local function migrate(from, to, notify, now, limit)
  local val = redis.call('zrangebyscore', from, '-inf', now, 'limit', 0, limit)
  if next(val) ~= nil then
    -- ZRANGEBYSCORE from -inf returns ranks 0..#val-1, so this removes exactly the members read above.
    redis.call('zremrangebyrank', from, 0, #val - 1)
    for i = 1, #val, 100 do
      local last = math.min(i + 99, #val)
      redis.call('rpush', to, unpack(val, i, last))
      local tokens = {}
      for j = i, last do
        tokens[#tokens + 1] = 1
      end
      redis.call('rpush', notify, unpack(tokens))
    end
  end
end

-- LuaScripts::pop's re-encode, verbatim. Errors are caught by pcall below.
local function reservedCopy(job)
  local reserved = cjson.decode(job)
  reserved['attempts'] = reserved['attempts'] + 1
  return cjson.encode(reserved)
end

local now, limit = ARGV[1], tonumber(ARGV[5])
migrate(KEYS[2], KEYS[1], KEYS[4], now, limit)
if ARGV[4] == '1' then
  migrate(KEYS[3], KEYS[1], KEYS[4], now, limit)
end

local jobs = redis.call('lpop', KEYS[1], ARGV[3])
if not jobs then
  return {}
end
local out, zadd = {}, {}
for i, job in ipairs(jobs) do
  local ok, reserved = pcall(reservedCopy, job)
  if not ok then
    reserved = job
  end
  zadd[2 * i - 1] = ARGV[2]
  zadd[2 * i] = reserved
  out[2 * i - 1] = job
  out[2 * i] = reserved
end
redis.call('zadd', KEYS[3], unpack(zadd))
-- One token per job reserved, as each pop does.
redis.call('lpop', KEYS[4], #jobs)
return out
