import { GROUP_LUA, MAX_BUFFERED } from './group-lua'

// The consumer-group scripts: ARGV[1..3] as GROUP_LUA says, then each script's own. Those that
// change leases answer JSON with `d` (deliveries found dead: [id, stream, attempt, deadline, reason]),
// `n` (next due time or false) and `t` (Redis time); `{"x":"missing"}` when the group does not exist.

/**
 * Claim: expire due leases, check a push consumer's held list, hand out released deliveries (oldest
 * first), then the proposed new events if the cursor is still the one the node read from.
 * ARGV[4] consumer, [5] max, [6] config version, [7] cursor, [8] end, [9] gap after, [10] gap first id (0: none),
 * [11] held "id:attempt,…", [12…] id, stream pairs. Answers {o: handed, c: cursor, m: moved, g: gone ids, r: how many
 * deliveries wait in ready}, or x = stale.
 */
export const CLAIM = `${GROUP_LUA}
if not load() then return cjson.encode({x = 'missing'}) end
if meta.v ~= ARGV[6] then return cjson.encode({x = 'stale'}) end
local consumer, max = ARGV[4], tonumber(ARGV[5])
redis.call('HSET', K .. ':seen', consumer, num(now))
expire()
local gone, kept = {}, 0
for id, attempt in string.gmatch(ARGV[11], '(%d+):(%d+)') do
  local r = get(id)
  if r and r.consumer == consumer and r.attempt == tonumber(attempt) then kept = kept + 1 else table.insert(gone, tonumber(id)) end
end
local n = max - kept
local handed = {}
if n > 0 and meta.ordered then
  -- Only a stream's oldest unsettled delivery may go, and only when it is ready (so none of its stream is held).
  local streams = {}
  for _, id in ipairs(redis.call('ZRANGE', K .. ':ready', 0, ${MAX_BUFFERED * 2})) do
    if #handed >= n then break end
    local r = get(id)
    if not r then
      redis.call('ZREM', K .. ':ready', id)
    elseif not streams[r.stream] then
      streams[r.stream] = true
      if redis.call('ZRANGE', K .. ':s:' .. r.stream, 0, 0)[1] == id then table.insert(handed, hand(r, consumer, false)) end
    end
  end
elseif n > 0 then
  while #handed < n do
    local ids = redis.call('ZRANGE', K .. ':ready', 0, n - #handed - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      local r = get(id)
      if r and not r.dead and r.consumer == '' then table.insert(handed, hand(r, consumer, false)) else redis.call('ZREM', K .. ':ready', id) end
    end
  end
end
local cursor = tonumber(redis.call('HGET', K, 'cursor'))
local isMoved = cursor ~= tonumber(ARGV[7])
if not isMoved then
  local first = tonumber(ARGV[10])
  if first > 0 and first ~= tonumber(redis.call('HGET', K, 'gapFirst') or '0') then
    redis.call('HINCRBY', K, 'gaps', 1)
    redis.call('HSET', K, 'gapAfter', ARGV[9], 'gapFirst', ARGV[10], 'gapMs', num(now))
  end
  local isAll = true
  for i = 12, #ARGV, 2 do
    if #handed >= n or (meta.ordered and redis.call('HLEN', K .. ':d') >= ${MAX_BUFFERED}) then
      isAll = false
      break
    end
    local r, isBlocked = add(ARGV[i], ARGV[i + 1])
    cursor = tonumber(ARGV[i])
    if meta.ordered and isBlocked then wait(r) else table.insert(handed, hand(r, consumer, true)) end
  end
  if isAll and tonumber(ARGV[8]) > cursor then cursor = tonumber(ARGV[8]) end
  redis.call('HSET', K, 'cursor', num(cursor))
end
return upkeep({o = handed, c = cursor, m = isMoved, g = gone, r = redis.call('ZCARD', K .. ':ready')})
`

/**
 * ack / nack / extend / term of held ids. ARGV[4] op, [5] consumer ('' takes ids held by anyone),
 * [6] nack delay ms or term reason, [7…] ids. Answers {ok, h: not held, dl: an extend's deadline}.
 */
export const SETTLE = `${GROUP_LUA}
if not load() then return cjson.encode({x = 'missing'}) end
local op, consumer = ARGV[4], ARGV[5]
if consumer ~= '' then redis.call('HSET', K .. ':seen', consumer, num(now)) end
local ok, notHeld, seen = {}, {}, {}
for i = 7, #ARGV do
  local id = ARGV[i]
  if not seen[id] then
    seen[id] = true
    local r = get(id)
    if r and r.consumer ~= '' and (consumer == '' or r.consumer == consumer) then
      table.insert(ok, tonumber(id))
      if op == 'ack' then
        remove(r)
      elseif op == 'nack' then
        release(r, now + tonumber(ARGV[6]), 'nacked')
      elseif op == 'extend' then
        r.deadline = now + meta.ackMs
        save(r)
        redis.call('ZADD', K .. ':due', num(r.deadline), id)
      else
        unhold(r)
        r.reason = ARGV[6]
        kill(r)
      end
    else
      table.insert(notHeld, tonumber(id))
    end
  end
end
if op == 'ack' and #ok > 0 then
  redis.call('HINCRBY', K, 'acks', #ok)
  local bucket = K .. ':a:' .. num(math.floor(now / 1000))
  redis.call('INCRBY', bucket, #ok)
  redis.call('PEXPIRE', bucket, 11000)
  -- Under ordering "stream" an ack lets the next event of its stream go, perhaps to another node.
  if meta.ordered then released = true end
end
return upkeep({ok = ok, h = notHeld, dl = now + meta.ackMs})
`

/** A push consumer is gone: ARGV[4] consumer, [5] "id:attempt,…" it held; those still its own come back now. */
export const RELEASE = `${GROUP_LUA}
if not load() then return cjson.encode({x = 'missing'}) end
for id, attempt in string.gmatch(ARGV[5], '(%d+):(%d+)') do
  local r = get(id)
  if r and r.consumer == ARGV[4] and r.attempt == tonumber(attempt) then release(r, now, 'consumer disconnected') end
end
return upkeep({})
`

/** Upkeep: expires due leases, and takes over dead deliveries whose burial no node finished in time. */
export const TICK = `${GROUP_LUA}
if not load() then return cjson.encode({x = 'missing'}) end
expire()
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K .. ':dead', '-inf', num(now), 'LIMIT', 0, 100)) do
  local r = get(id)
  if r and r.dead then
    redis.call('ZADD', K .. ':dead', num(now + BURY_MS), id)
    table.insert(dead, out(r))
  else
    redis.call('ZREM', K .. ':dead', id)
  end
end
return upkeep({})
`

/**
 * Settles deliveries without an ack. ARGV[4] the group's createdMs (another incarnation settles nothing), [5] why:
 * `buried` (their dead letters are in dlq.G; only dead ones go) or `lost` (their events are gone: one gap), [6…] ids in id order.
 */
export const DROP = `${GROUP_LUA}
if not load() or meta.createdMs ~= ARGV[4] then return 0 end
local isBuried = ARGV[5] == 'buried'
local n = 0
for i = 6, #ARGV do
  local r = get(ARGV[i])
  if r and (r.dead or not isBuried) then
    remove(r)
    n = n + 1
  end
end
flush()
if n > 0 then
  if isBuried then
    redis.call('HINCRBY', K, 'deadLetters', n)
  else
    redis.call('HINCRBY', K, 'gaps', 1)
    redis.call('HSET', K, 'gapAfter', num(tonumber(ARGV[6]) - 1), 'gapFirst', num(tonumber(ARGV[#ARGV]) + 1), 'gapMs', num(now))
  end
  if meta.ordered then signal('g:' .. G) end
end
return n
`
