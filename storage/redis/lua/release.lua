-- release.lua: end a reservation and schedule the job again.
--
-- Mirrors think-queue's job\Redis::release (v1.1.6: ZREM reserved raw, ZADD delayed now+delay setMeta(attempts+1);
-- v3.0.9: ZREM reserved reserved, ZADD delayed now+delay reserved), made atomic and conditional: PHP adds the
-- delayed copy even when the ZREM found nothing, which duplicates a job another worker already recovered.
--
-- KEYS[1] reserved  queues:<q>:reserved or {queues:<q>}:reserved
-- KEYS[2] delayed   queues:<q>:delayed  or {queues:<q>}:delayed
-- ARGV[1] the reserved member
-- ARGV[2] available-at, Unix seconds
-- ARGV[3] the payload to schedule
-- Returns: 1 when released; 0 when the member was no longer reserved (nothing added).

if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
