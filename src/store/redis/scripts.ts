// Lua run inside Redis, so each append and each snapshot is atomic for every node sharing the server.
// Keys (one Redis primary holds them all; not for Redis Cluster):
//   rc:seq          the last id issued (the cluster's one sequence)
//   rc:epoch        a random name for this Redis's data: a new one means it was lost
//   rc:streams      hash: stream name -> record JSON
//   rc:gen:{s}      bumped when a stream is deleted, so its old dedup keys stop counting
//   rc:k:{gen}:{s}:{key}  "id:timeMs" of the event first stored under an idempotency key (expires with the window)
//   rc:s:{s}        the stream's history, entries "<id>-0" (none for ephemeral streams)
//   rc:log          every change in order, entries "<id>-0" for events, "<last id>-<n>" for the rest
//                   (k=g entries are consumer groups' signals, written by group-scripts.ts)
//   rc:gh:{s}       consumer groups' lowest unsettled id in stream s (see group-lua.ts): retention keeps it

/** How far ids jump when Redis is found to have lost acknowledged writes: more than it can lose. */
export const LOSS_GAP = 1_000_000

/** Ids and times go through '%.0f': Lua's tostring writes large numbers as 1e+15. */
const HELPERS = `
local function num(n) return string.format('%.0f', n) end
local function split(v) local i = string.find(v, ':', 1, true); return tonumber(string.sub(v, 1, i - 1)), tonumber(string.sub(v, i + 1)) end
-- The sequence is behind an id a node saw: Redis lost acknowledged writes (a failover, or a restart
-- from an AOF missing its last second). Under a new epoch the sequence jumps well past anything
-- issued before, so no id is given twice, and an "l" entry tells every node to reload.
local function lost(floor, epoch)
  if tonumber(redis.call('GET', 'rc:seq') or '0') >= floor then return false end
  local to = num(floor + ${LOSS_GAP})
  redis.call('SET', 'rc:epoch', epoch)
  redis.call('SET', 'rc:seq', to)
  redis.call('XADD', 'rc:log', to .. '-*', 'k', 'l')
  return true
end
`

/**
 * ARGV: writes (JSON), time ms, dedup bound ms (keys older do not count), rc:log length to keep, the
 * epoch the node follows (a different one: Redis lost its data, and nothing is written until the node reloads),
 * the highest id the node saw, and a new epoch to name the data with if Redis lost some of it.
 * Returns JSON {o: outcomes, c: changes, p: last rc:log entry id written}; a change is
 * ["e", id, write index, item index] or ["r", record JSON] or ["x", stream].
 */
export const APPEND = `${HELPERS}
if redis.call('GET', 'rc:epoch') ~= ARGV[5] or lost(tonumber(ARGV[6]), ARGV[7]) then return cjson.encode({lost = true}) end
local writes = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
local since = tonumber(ARGV[3])
local keep = ARGV[4]
local window = math.max(now - since, 1)
local seq = tonumber(redis.call('GET', 'rc:seq') or '0')
local outcomes, changes, records = {}, {}, {}
local position = ''
local function log(id, fields)
  position = redis.call('XADD', 'rc:log', 'MAXLEN', '~', keep, id, unpack(fields))
end
local function record(name)
  if records[name] == nil then
    local raw = redis.call('HGET', 'rc:streams', name)
    records[name] = raw and cjson.decode(raw) or false
  end
  return records[name]
end
local function save(rec)
  local json = cjson.encode(rec)
  redis.call('HSET', 'rc:streams', rec.name, json)
  records[rec.name] = rec
  log(num(seq) .. '-*', {'k', 'r', 'v', json})
  table.insert(changes, {'r', json})
end
for wi, w in ipairs(writes) do
  if w.kind == 'delete' then
    redis.call('DEL', 'rc:s:' .. w.stream)
    redis.call('HDEL', 'rc:streams', w.stream)
    redis.call('INCR', 'rc:gen:' .. w.stream)
    records[w.stream] = false
    log(num(seq) .. '-*', {'k', 'x', 'v', w.stream})
    table.insert(changes, {'x', w.stream})
    outcomes[wi] = {k = 'done'}
  else
    local known = record(w.stream)
    local rec = known or w.create
    if not rec then
      outcomes[wi] = {k = 'missing'}
    elseif w.kind == 'configure' then
      for field, value in pairs(w.patch) do rec[field] = value end
      save(rec)
      outcomes[wi] = {k = 'done'}
    elseif rec.closed then
      outcomes[wi] = {k = (w.kind == 'close') and 'done' or 'closed'}
    elseif w.kind == 'close' then
      rec.closed = true
      save(rec)
      outcomes[wi] = {k = 'done'}
    else
      if not known then save(rec) end
      local gen = redis.call('GET', 'rc:gen:' .. w.stream) or '0'
      local items = {}
      for ii, it in ipairs(w.items) do
        local original = nil
        local keyName = nil
        if it.key then
          keyName = 'rc:k:' .. gen .. ':' .. w.stream .. ':' .. it.key
          local v = redis.call('GET', keyName)
          if v then
            local id, t = split(v)
            if t >= since then original = id end
          end
        end
        if original then
          items[ii] = {original, 1}
        else
          seq = seq + 1
          local id = num(seq) .. '-0'
          if keyName then redis.call('SET', keyName, num(seq) .. ':' .. num(now), 'PX', num(window)) end
          local fields = {'t', it.type, 'd', it.data, 'ms', num(now)}
          if it.key then table.insert(fields, 'key'); table.insert(fields, it.key) end
          if it.correlationId then table.insert(fields, 'c'); table.insert(fields, it.correlationId) end
          if not rec.ephemeral then redis.call('XADD', 'rc:s:' .. w.stream, id, unpack(fields)) end
          table.insert(fields, 'k'); table.insert(fields, 'e')
          table.insert(fields, 's'); table.insert(fields, w.stream)
          log(id, fields)
          table.insert(changes, {'e', seq, wi, ii})
          items[ii] = {seq, 0}
          if it.terminal then
            rec.closed = true
            save(rec)
            break
          end
        end
      end
      outcomes[wi] = {k = 'pub', items = items}
    end
  end
end
redis.call('SET', 'rc:seq', num(seq))
return cjson.encode({o = outcomes, c = changes, p = position})
`

/**
 * Everything a node starts from, read atomically: last id, epoch, last rc:log entry id, and every
 * stream's record with its history's count, first id and first time, last id. JSON.
 * ARGV: an epoch to name the data with if it has none (new, or lost); the highest id the node
 * has seen, which the sequence never goes below (ids are never reused, even when Redis lost them).
 */
export const SNAPSHOT = `${HELPERS}
local epoch = redis.call('GET', 'rc:epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', 'rc:epoch', epoch)
end
if lost(tonumber(ARGV[2]), ARGV[1]) then epoch = ARGV[1] end
local last = redis.call('XREVRANGE', 'rc:log', '+', '-', 'COUNT', 1)
local streams = {}
local all = redis.call('HGETALL', 'rc:streams')
for i = 1, #all, 2 do
  local key = 'rc:s:' .. all[i]
  local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  local firstMs = nil
  if first then
    for f = 1, #first[2], 2 do if first[2][f] == 'ms' then firstMs = first[2][f + 1] end end
  end
  table.insert(streams, {all[i + 1], redis.call('XLEN', key), first and first[1] or false, newest and newest[1] or false, firstMs or false})
end
return cjson.encode({seq = redis.call('GET', 'rc:seq') or '0', epoch = epoch, position = last[1] and last[1][1] or '0-0', streams = streams})
`

/**
 * Retention for one stream: ARGV stream, keep, before ms, batch, below id, rc:log length to keep.
 * Deletes the oldest entries past `keep` or older than `before` (never id >= below, nor at or after
 * an id a consumer group holds: read here, so no node's claim slips between check and delete), records it in
 * rc:log and in the stream's record, and returns JSON {removed, through, events, first, firstMs, last} or nil.
 */
export const PRUNE = `${HELPERS}
local stream, keep, before, batch, below, logKeep = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local key = 'rc:s:' .. stream
local held = redis.call('ZRANGE', 'rc:gh:' .. stream, 0, 0, 'WITHSCORES')[2]
if held and tonumber(held) < below then below = tonumber(held) end
local len = redis.call('XLEN', key)
local entries = redis.call('XRANGE', key, '-', '+', 'COUNT', batch)
local through, removed = 0, 0
for i, e in ipairs(entries) do
  local id = tonumber(string.sub(e[1], 1, string.find(e[1], '-', 1, true) - 1))
  if id >= below then break end
  local ms = nil
  for f = 1, #e[2], 2 do if e[2][f] == 'ms' then ms = tonumber(e[2][f + 1]) end end
  if len - removed <= keep and (ms == nil or ms >= before) then break end
  through, removed = id, removed + 1
end
if removed == 0 then return nil end
redis.call('XTRIM', key, 'MINID', num(through + 1) .. '-0')
local raw = redis.call('HGET', 'rc:streams', stream)
local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
local firstMs = false
if first then for f = 1, #first[2], 2 do if first[2][f] == 'ms' then firstMs = first[2][f + 1] end end end
local result = cjson.encode({removed = removed, through = through, events = len - removed, first = first and first[1] or false, firstMs = firstMs, last = newest and newest[1] or false})
if raw then
  local rec = cjson.decode(raw)
  if (rec.prunedThrough or 0) < through then rec.prunedThrough = through end
  redis.call('HSET', 'rc:streams', stream, cjson.encode(rec))
end
local seq = redis.call('GET', 'rc:seq') or '0'
redis.call('XADD', 'rc:log', 'MAXLEN', '~', logKeep, seq .. '-*', 'k', 'p', 's', stream, 'v', result)
return result
`

/** Takes or renews the pruning lease for node ARGV[1] for ARGV[2] ms; 1 when this node holds it. */
export const LEASE_PRUNER = `
local holder = redis.call('GET', 'rc:pruner')
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', 'rc:pruner', ARGV[1], 'PX', ARGV[2])
return 1
`
