-- laravel_push.lua: append a job to a Laravel queue and wake one blocked worker.
--
-- Laravel's LuaScripts::push (8.83.26, 11.56.0 and 12.67.0 alike), called by RedisQueue::pushRaw. The body
-- is Laravel's: the notify token is the integer 1, which Redis stores as "1".
--
-- KEYS[1] list    <prefix>queues:<q>
-- KEYS[2] notify  <prefix>queues:<q>:notify
-- ARGV[1] the payload
-- Returns: nothing (a nil reply), as Laravel's script.

-- Push the job onto the queue...
redis.call('rpush', KEYS[1], ARGV[1])
-- Push a notification onto the "notify" queue...
redis.call('rpush', KEYS[2], 1)
