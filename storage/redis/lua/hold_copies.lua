-- hold_copies.lua: replace freshly reserved raw payloads by the copies the dialect holds while a job runs.
--
-- Mirrors the second half of think-queue v3.0.9 connector\Redis::pop (src/queue/connector/Redis.php):
-- `ZADD reserved <now+retry_after> <json_encode(payload with attempts+1)>`. reserve.lua has already put the raw
-- bytes there, so the job is in the reserved set at every instant: first as raw, then as its copy.
--
-- KEYS[1] reserved  {queues:<q>}:reserved
-- ARGV    pairs: raw1, copy1, raw2, copy2, ...
-- Returns: one integer per pair: 1 when raw was still reserved and now is its copy (same score); 0 when raw
--          was no longer reserved (another worker recovered it), in which case nothing is added.

local held = {}
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('ZADD', KEYS[1], score, ARGV[i + 1])
    held[#held + 1] = 1
  else
    held[#held + 1] = 0
  end
end
return held
