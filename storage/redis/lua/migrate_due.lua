-- migrate_due: not a script of its own but the start of the think-queue reserve scripts (scripts.go puts it
-- before them), as PHP's pop starts: due delayed members, and when expired is true the reserved members whose
-- reservation lapsed, go back to the tail of the list unchanged, at most limit of each per call, so a huge
-- backlog cannot stall the server.
local function migrate(from, to, now, limit)
  local due = redis.call('ZRANGEBYSCORE', from, '-inf', now, 'LIMIT', 0, limit)
  if #due > 0 then
    -- ZRANGEBYSCORE from -inf returns ranks 0..#due-1, so this removes exactly the members read above.
    redis.call('ZREMRANGEBYRANK', from, 0, #due - 1)
    redis.call('RPUSH', to, unpack(due))
  end
end

local function migrate_due(list, delayed, reserved, now, limit, expired)
  migrate(delayed, list, now, limit)
  if expired then
    migrate(reserved, list, now, limit)
  end
end

