-- list_ready.lua: read one page of a queue's ready jobs, in the order Reserve takes them, moving nothing.
--
-- No PHP counterpart (neither library lists jobs). A job is ready when the next reserve may take it: the
-- list (LPOP order), then what that reserve first moves to the list's tail, each set by score: due delayed
-- members and lapsed reservations, in the order reserve.lua / laravel_reserve.lua migrate them (delayed
-- first), or the reverse where Go rewrites lapsed members before reserve.lua runs (think-queue v1).
--
-- KEYS[1] list
-- KEYS[2] delayed
-- KEYS[3] reserved
-- ARGV[1] now, Unix seconds: members scored <= now are due or lapsed
-- ARGV[2] offset into the ready jobs (>= 0)
-- ARGV[3] limit (>= 1)
-- ARGV[4] "delayed": due delayed members before lapsed reservations; "reserved": after them; "none":
--         reservations never lapse (Expire -1), only due delayed members follow the list
-- Returns: the page's members, oldest first.

local now, offset, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}

local function take(items)
  for _, m in ipairs(items) do
    out[#out + 1] = m
  end
end

local n = redis.call('LLEN', KEYS[1])
if offset < n then
  take(redis.call('LRANGE', KEYS[1], offset, offset + limit - 1))
  offset = 0
else
  offset = offset - n
end

local sets = {KEYS[2], KEYS[3]}
if ARGV[4] == 'reserved' then
  sets = {KEYS[3], KEYS[2]}
elseif ARGV[4] == 'none' then
  sets = {KEYS[2]}
end
for _, key in ipairs(sets) do
  if #out >= limit then
    break
  end
  local due = redis.call('ZCOUNT', key, '-inf', now)
  if offset < due then
    take(redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', offset, limit - #out))
    offset = 0
  else
    offset = offset - due
  end
end
return out
