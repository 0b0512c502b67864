// Lua shared by the consumer-group scripts (group-scripts.ts). Each script is one atomic step for
// every node. Keys of group G (one Redis primary holds them all, as for the event log):
//   rc:groups        hash: group name -> {"c": config, "v": version} (JSON); rc:gv the version counter
//   rc:g:G           hash: cursor, counters (acks, redeliveries, deadLetters, gaps, gap*), held and
//                    fresh counts, events read so far, and what the scripts read of the config (ackMs, maxDeliveries, ordered, v, createdMs)
//   rc:g:G:d         hash: id -> the unsettled delivery (see `get`)
//   rc:g:G:due       zset: held leases by deadline, and releases delayed by a nack, by when they are ready
//   rc:g:G:ready     zset: deliveries nobody holds that may go now, by id (oldest first)
//   rc:g:G:dead      zset: deliveries found dead, by when another node may take over their burial
//   rc:g:G:s:{s}     zset: the group's unsettled ids of stream s (its first is what ordering "stream" hands)
//   rc:g:G:streams   set: the streams that have such a zset
//   rc:g:G:c / :seen hash: consumer -> held count / last seen (ms)
//   rc:g:G:a:{sec}   acks in that second (expires after 11 s)
//   rc:gh:{s}        zset: group -> its lowest unsettled id of stream s (PRUNE keeps it and what follows)
// Changes other nodes must hear of go to rc:log as signals: `g:G` work may be ready, `gc:G` config or existence changed.

/** Ordering "stream" keeps at most this many unsettled deliveries per group (events read past busy streams wait). */
export const MAX_BUFFERED = 2000

/**
 * ARGV[1] group, [2] ms a node has to bury what it found dead before another may, [3] rc:log length to keep.
 * Times are Redis's clock (TIME), one clock for every node.
 */
export const GROUP_LUA = `
local G = ARGV[1]
local K = 'rc:g:' .. G
local BURY_MS = tonumber(ARGV[2])
local LOG_KEEP = ARGV[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local meta = nil
local dead, released = {}, false
local function num(n) return string.format('%.0f', n) end

local function load()
  local m = redis.call('HMGET', K, 'ackMs', 'maxDeliveries', 'ordered', 'v', 'createdMs')
  if not m[1] then return false end
  meta = {ackMs = tonumber(m[1]), maxDeliveries = tonumber(m[2]), ordered = m[3] == '1', v = m[4], createdMs = m[5]}
  return true
end

local function signal(name)
  redis.call('XADD', 'rc:log', 'MAXLEN', '~', LOG_KEEP, (redis.call('GET', 'rc:seq') or '0') .. '-*', 'k', 'g', 'v', name)
end

-- A delivery is "attempt\\tdeadline\\tdead\\tstream\\tconsumer\\treason"; consumer is '' while nobody holds it.
local function get(id)
  local raw = redis.call('HGET', K .. ':d', id)
  if not raw then return nil end
  local f, at = {}, 1
  for i = 1, 5 do
    local tab = string.find(raw, '\\t', at, true)
    f[i] = string.sub(raw, at, tab - 1)
    at = tab + 1
  end
  return {id = id, attempt = tonumber(f[1]), deadline = tonumber(f[2]), dead = f[3] == '1', stream = f[4], consumer = f[5], reason = string.sub(raw, at)}
end

local function save(r)
  redis.call('HSET', K .. ':d', r.id, r.attempt .. '\\t' .. num(r.deadline) .. '\\t' .. (r.dead and '1' or '0') .. '\\t' .. r.stream .. '\\t' .. r.consumer .. '\\t' .. r.reason)
end

local function out(r) return {tonumber(r.id), r.stream, r.attempt, r.deadline, r.reason} end

-- Counts and retention floors change once per script, not once per delivery (see flush).
local held, fresh, reads, holders, touched = 0, 0, 0, {}, {}

local function hold(consumer, n)
  holders[consumer] = (holders[consumer] or 0) + n
  held = held + n
end

local function unhold(r)
  if r.consumer == '' then return end
  hold(r.consumer, -1)
  r.consumer = ''
end

-- A new delivery comes straight from the proposals (isNew), else from the ready ones.
local function hand(r, consumer, isNew)
  if not isNew then
    redis.call('ZREM', K .. ':ready', r.id)
    if r.attempt == 0 then fresh = fresh - 1 end
  end
  r.attempt = r.attempt + 1
  if r.attempt > 1 then redis.call('HINCRBY', K, 'redeliveries', 1) end
  r.consumer = consumer
  r.deadline = now + meta.ackMs
  save(r)
  redis.call('ZADD', K .. ':due', num(r.deadline), r.id)
  hold(consumer, 1)
  return out(r)
end

-- Dead (from a held lease): the finding node publishes the letter, then DROP settles it; past BURY_MS another node may.
local function kill(r)
  r.dead = true
  save(r)
  redis.call('ZREM', K .. ':due', r.id)
  redis.call('ZADD', K .. ':dead', num(now + BURY_MS), r.id)
  table.insert(dead, out(r))
end

local function release(r, at, reason)
  unhold(r)
  r.reason = reason
  if r.attempt >= meta.maxDeliveries then return kill(r) end
  r.deadline = at
  save(r)
  if at <= now then
    redis.call('ZREM', K .. ':due', r.id)
    redis.call('ZADD', K .. ':ready', r.id, r.id)
  else
    redis.call('ZADD', K .. ':due', num(at), r.id)
  end
  released = true
end

-- Settled (acked, buried or lost): the delivery goes, and retention may move on in its stream.
local function remove(r)
  if r.consumer ~= '' then
    unhold(r)
    redis.call('ZREM', K .. ':due', r.id)
  elseif r.dead then
    redis.call('ZREM', K .. ':dead', r.id)
  else
    redis.call('ZREM', K .. ':due', r.id)
    redis.call('ZREM', K .. ':ready', r.id)
    if r.attempt == 0 then fresh = fresh - 1 end
  end
  redis.call('HDEL', K .. ':d', r.id)
  redis.call('ZREM', K .. ':s:' .. r.stream, r.id)
  touched[r.stream] = true
end

-- A new event read by the group (not stored yet); blocked under ordering "stream" when its stream has unsettled ones.
local function add(id, stream)
  local sk = K .. ':s:' .. stream
  local isBlocked = redis.call('EXISTS', sk) == 1
  if not isBlocked then
    redis.call('SADD', K .. ':streams', stream)
    redis.call('ZADD', 'rc:gh:' .. stream, id, G)
  end
  redis.call('ZADD', sk, id, id)
  reads = reads + 1
  return {id = id, attempt = 0, deadline = now, dead = false, stream = stream, consumer = '', reason = ''}, isBlocked
end

-- A new event that waits (behind its stream): stored, ready when its turn comes.
local function wait(r)
  save(r)
  fresh = fresh + 1
  redis.call('ZADD', K .. ':ready', r.id, r.id)
end

local function flush()
  if held ~= 0 then redis.call('HINCRBY', K, 'held', held) end
  if fresh ~= 0 then redis.call('HINCRBY', K, 'fresh', fresh) end
  if reads ~= 0 then redis.call('HINCRBY', K, 'read', reads) end
  for consumer, n in pairs(holders) do
    if n ~= 0 and redis.call('HINCRBY', K .. ':c', consumer, n) <= 0 then redis.call('HDEL', K .. ':c', consumer) end
  end
  for stream in pairs(touched) do
    local head = redis.call('ZRANGE', K .. ':s:' .. stream, 0, 0)[1]
    if head then
      redis.call('ZADD', 'rc:gh:' .. stream, head, G)
    else
      redis.call('ZREM', 'rc:gh:' .. stream, G)
      redis.call('SREM', K .. ':streams', stream)
    end
  end
end

-- Leases past their deadline come back (attempt counted); delayed releases whose time came are ready.
local function expire()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K .. ':due', '-inf', num(now), 'LIMIT', 0, 1000)) do
    local r = get(id)
    if r and not r.dead and r.consumer ~= '' then
      release(r, now, 'ack deadline passed')
    else
      redis.call('ZREM', K .. ':due', id)
      if r and not r.dead then
        redis.call('ZADD', K .. ':ready', id, id)
        released = true
      end
    end
  end
end

local function nextDue()
  local a = redis.call('ZRANGE', K .. ':due', 0, 0, 'WITHSCORES')[2]
  local b = redis.call('ZRANGE', K .. ':dead', 0, 0, 'WITHSCORES')[2]
  if a and b then return math.min(tonumber(a), tonumber(b)) end
  return tonumber(a or b) or false
end

-- The answer of every script that changes leases: what it found dead, when to look next, the time.
local function upkeep(result)
  flush()
  result.d = dead
  result.n = nextDue()
  result.t = now
  if released then signal('g:' .. G) end
  return cjson.encode(result)
end
`
