-- hand_back.lua: end a reservation and return the job to the list exactly as it was pushed.
--
-- No PHP counterpart: think-queue can only release (which, in v1, bumps attempts), and Laravel's release
-- stores the reserved copy (attempts+1). Used for jobs the bridge cannot run and for jobs still running at
-- shutdown, so they come back untouched. With a notify list (Laravel) it adds a token, as a push does.
--
-- KEYS[1] reserved  queues:<q>:reserved or {queues:<q>}:reserved or <prefix>queues:<q>:reserved
-- KEYS[2] list      queues:<q>          or {queues:<q>}          or <prefix>queues:<q>
-- KEYS[3] notify    optional: <prefix>queues:<q>:notify (Laravel)
-- ARGV[1] the reserved member
-- ARGV[2] the raw payload as popped
-- Returns: 1 when handed back; 0 when the member was no longer reserved (nothing pushed).

if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
if KEYS[3] then
  redis.call('RPUSH', KEYS[3], 1)
end
return 1
