import { GROUP_LUA } from './group-lua'

// Creating, changing, deleting and reading a group (ARGV[1..3] as GROUP_LUA says).

/**
 * Creates or updates a group. ARGV[4] the fields to change (JSON), [5] the whole config for a new group (JSON, or
 * '' when it may not be created). The cursor of a new group: 0 (earliest), the last id issued (latest) or the id
 * given (refused past the last id). Answers {c: config, v: version, new} or x = missing / start (with last).
 */
export const PUT = `${GROUP_LUA}
local raw = redis.call('HGET', 'rc:groups', G)
local cfg, isNew
if raw then
  cfg = cjson.decode(raw).c
  for field, value in pairs(cjson.decode(ARGV[4])) do cfg[field] = value end
  isNew = false
else
  if ARGV[5] == '' then return cjson.encode({x = 'missing'}) end
  cfg = cjson.decode(ARGV[5])
  local last = tonumber(redis.call('GET', 'rc:seq') or '0')
  local cursor = 0
  if cfg.start == 'latest' then
    cursor = last
  elseif type(cfg.start) == 'number' then
    if cfg.start > last then return cjson.encode({x = 'start', last = last}) end
    cursor = cfg.start
  end
  cfg.createdMs = now
  redis.call('HSET', K, 'cursor', num(cursor), 'acks', 0, 'redeliveries', 0, 'deadLetters', 0, 'gaps', 0, 'held', 0, 'fresh', 0, 'read', 0, 'createdMs', num(now))
  isNew = true
end
local v = num(redis.call('INCR', 'rc:gv'))
redis.call('HSET', 'rc:groups', G, cjson.encode({c = cfg, v = v}))
redis.call('HSET', K, 'ackMs', num(cfg.ackTimeoutSec * 1000), 'maxDeliveries', num(cfg.maxDeliveries), 'ordered', cfg.ordering == 'stream' and '1' or '0', 'v', v)
signal('gc:' .. G)
return cjson.encode({c = cfg, v = v, new = isNew})
`

/** Forgets a group: config, cursor, deliveries, and its hold on retention. Answers 1, or 0 when there was none. */
export const DELETE = `${GROUP_LUA}
if redis.call('HDEL', 'rc:groups', G) == 0 then return 0 end
for _, s in ipairs(redis.call('SMEMBERS', K .. ':streams')) do
  redis.call('DEL', K .. ':s:' .. s)
  redis.call('ZREM', 'rc:gh:' .. s, G)
end
redis.call('DEL', K, K .. ':d', K .. ':due', K .. ':ready', K .. ':dead', K .. ':c', K .. ':seen', K .. ':streams')
local second = math.floor(now / 1000)
for i = 0, 10 do redis.call('DEL', K .. ':a:' .. num(second - i)) end
signal('gc:' .. G)
return 1
`

/**
 * A group's config, counters and leases at one instant. ARGV[4] ms after which a consumer that holds nothing is
 * forgotten. Answers {g: stored config, m: [cursor, acks, redeliveries, deadLetters, gaps, gapAfter, gapFirst,
 * gapMs, held, fresh, read], u: unsettled, c: holders, s: seen, a: acks in the last 10 s, t}, or nil.
 */
export const STATS = `${GROUP_LUA}
local raw = redis.call('HGET', 'rc:groups', G)
if not raw then return nil end
local m = redis.call('HMGET', K, 'cursor', 'acks', 'redeliveries', 'deadLetters', 'gaps', 'gapAfter', 'gapFirst', 'gapMs', 'held', 'fresh', 'read')
local second = math.floor(now / 1000)
local buckets = {}
for i = 0, 9 do buckets[i + 1] = K .. ':a:' .. num(second - i) end
local acks = 0
for _, n in ipairs(redis.call('MGET', unpack(buckets))) do acks = acks + (tonumber(n) or 0) end
local holders = redis.call('HGETALL', K .. ':c')
local held = {}
for i = 1, #holders, 2 do held[holders[i]] = tonumber(holders[i + 1]) end
local seen = {}
local seenList = redis.call('HGETALL', K .. ':seen')
for i = 1, #seenList, 2 do
  local consumer, at = seenList[i], tonumber(seenList[i + 1])
  if not held[consumer] and now - at > tonumber(ARGV[4]) then redis.call('HDEL', K .. ':seen', consumer) else seen[consumer] = at end
end
return cjson.encode({g = raw, m = m, u = redis.call('HLEN', K .. ':d'), c = held, s = seen, a = acks, t = now})
`
