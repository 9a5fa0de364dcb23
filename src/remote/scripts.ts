import { STREAM_FIELDS as F } from '../coherence/invalidation.js'
import { LuaScript } from './lua-script.js'

/*
 * The remote tier's scripts. Each write runs in one script: its version
 * (INCR), its value or tombstone, and its invalidation on the stream happen
 * together or not at all, so a reader never sees a version without its
 * message, nor a message without its value.
 *
 * Layout under the prefix `P` (besides `version`, `epoch` and `bus`, see
 * coherence/invalidation.ts):
 * - `P gen`: the generation, the version of the last `clear` ('0' before any):
 *   values live under `P g:<gen>:`, so a clear hides them all in O(1);
 * - `P g:<gen>:r:<key>`: a key's record, a hash: `v` version, `d` bytes and
 *   `t` tags (JSON) in a value, `v` alone in a tombstone, `x` expiry in Redis
 *   ms (absent: none). A value outlives its expiry by the tombstone time, as
 *   its own tombstone;
 * - `P g:<gen>:t:<tag>`: the keys set with a tag.
 *
 * ARGV[1] is always the prefix; the scripts declare no KEYS (see LuaScript).
 *
 * Each script is built from only the pieces it uses: Redis evaluates a
 * script's whole body on every call, helper definitions included, and a
 * `redis.call` costs about as much as a small command. So the server's
 * clock is read at most once, and only by a script that needs it; a value's
 * bytes never pass through Lua when the script only needs to know it is
 * there (every value has `t`, no tombstone has).
 */

/** `head`: where the current generation's keys start. */
const GENERATION = `
local prefix = ARGV[1]
local gen = redis.call('GET', prefix .. 'gen') or '0'
local head = prefix .. 'g:' .. gen .. ':'
`

/** `clock()`: the server's time in ms, read on first use. */
const CLOCK = `
local now
local function clock()
  if not now then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  return now
end
`

/**
 * `version`, this write's; `publish(field, value)` appends its message
 * (ARGV[2] origin, ARGV[3] retention) and trims what is older than the
 * retention by entry time: by the clock if the script read it already, else
 * by the new entry's id (its time), which saves reading the clock.
 */
const WRITE = `
local version = redis.call('INCR', prefix .. 'version')
local function publish(field, value)
  local bus = prefix .. 'bus'
  local retention = tonumber(ARGV[3])
  local v = string.format('%d', version)
  if now then
    redis.call('XADD', bus, 'MINID', '~', string.format('%d', math.max(0, now - retention)), '*', '${F.origin}', ARGV[2], '${F.version}', v, field, value)
  else
    local id = redis.call('XADD', bus, '*', '${F.origin}', ARGV[2], '${F.version}', v, field, value)
    redis.call('XTRIM', bus, 'MINID', '~', string.format('%d', math.max(0, tonumber(string.match(id, '^%d+')) - retention)))
  end
end
`

/** `untag(key, tags)`, `existed(old)` of a record's `HMGET t x v`, and `remove(key, tombstone ttl)`: whether it had a live value. */
const REMOVE = `
local function untag(key, tags)
  if tags and tags ~= '[]' then
    for _, tag in ipairs(cjson.decode(tags)) do redis.call('SREM', head .. 't:' .. tag, key) end
  end
end
local function existed(old)
  return old[1] ~= false and (old[2] == false or tonumber(old[2]) > clock())
end
local function remove(key, tombstone_ttl)
  local r = head .. 'r:' .. key
  local old = redis.call('HMGET', r, 't', 'x')
  untag(key, old[1])
  redis.call('DEL', r)
  if tombstone_ttl > 0 then
    redis.call('HSET', r, 'v', version)
    redis.call('PEXPIRE', r, tombstone_ttl)
  end
  return existed(old)
end
`

/** `store(key, bytes, ttl, tags, tombstone ttl, old)`: the value over the record, whose `HMGET t x v` is `old`. */
const STORE = `
local function store(key, bytes, ttl, tags, tombstone_ttl, old)
  local r = head .. 'r:' .. key
  untag(key, old[1])
  local keep = ttl + tombstone_ttl
  if ttl > 0 then
    redis.call('HSET', r, 'd', bytes, 'v', version, 't', tags, 'x', string.format('%d', clock() + ttl))
    redis.call('PEXPIRE', r, keep)
  else
    redis.call('HSET', r, 'd', bytes, 'v', version, 't', tags)
    -- over a value with an expiry, or a tombstone (which expires): no expiry now
    if old[2] then redis.call('HDEL', r, 'x') end
    if old[2] or (old[1] == false and old[3]) then redis.call('PERSIST', r) end
  end
  if tags == '[]' then return end
  for _, tag in ipairs(cjson.decode(tags)) do
    local s = head .. 't:' .. tag
    local fresh = redis.call('EXISTS', s) == 0
    redis.call('SADD', s, key)
    -- a tag's set lasts as long as its longest-lived key's record
    if ttl == 0 then
      redis.call('PERSIST', s)
    else
      local left = redis.call('PTTL', s)
      if fresh or (left >= 0 and left < keep) then redis.call('PEXPIRE', s, keep) end
    end
  end
end
`

/** ARGV: prefix, key...; the generation, then per key `{bytes, version, ms left (0: none), tags JSON}` or nil. */
export const GET = new LuaScript(`${GENERATION}${CLOCK}
local out = { tonumber(gen) }
for i = 2, #ARGV do
  local f = redis.call('HMGET', head .. 'r:' .. ARGV[i], 'd', 'v', 'x', 't')
  if f[1] == false then
    out[i] = false
  elseif f[3] == false then
    out[i] = { f[1], tonumber(f[2]), 0, f[4] }
  else
    local left = tonumber(f[3]) - clock()
    out[i] = left > 0 and { f[1], tonumber(f[2]), left, f[4] } or false
  end
end
return out
`)

/** ARGV: prefix, origin, retention, tombstone ttl, keys JSON, then (key, bytes, ttl, tags JSON)...; `{version, generation}`. */
export const SET = new LuaScript(`${GENERATION}${CLOCK}${WRITE}${REMOVE}${STORE}
local tombstone_ttl = tonumber(ARGV[4])
for i = 6, #ARGV, 4 do
  local key = ARGV[i]
  store(key, ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tombstone_ttl, redis.call('HMGET', head .. 'r:' .. key, 't', 'x', 'v'))
end
publish('${F.keys}', ARGV[5])
return { version, tonumber(gen) }
`)

/**
 * ARGV: prefix, origin, retention, tombstone ttl, keys JSON, since, key, bytes, ttl, tags JSON;
 * `{version, generation}`, or nil when the key has a value or a write (a clear too) newer than `since`.
 */
export const FILL = new LuaScript(`${GENERATION}${CLOCK}
local since = tonumber(ARGV[6])
local key = ARGV[7]
if tonumber(gen) > since then return false end
local old = redis.call('HMGET', head .. 'r:' .. key, 't', 'x', 'v')
if old[3] and tonumber(old[3]) > since then return false end
if old[1] and (old[2] == false or tonumber(old[2]) > clock()) then return false end
${WRITE}${REMOVE}${STORE}
store(key, ARGV[8], tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[4]), old)
publish('${F.keys}', ARGV[5])
return { version, tonumber(gen) }
`)

/** ARGV: prefix, origin, retention, tombstone ttl, keys JSON, key...; `{existed count, version, generation}`. */
export const DELETE = new LuaScript(`${GENERATION}${CLOCK}${WRITE}${REMOVE}
local tombstone_ttl = tonumber(ARGV[4])
local existed = 0
for i = 6, #ARGV do
  if remove(ARGV[i], tombstone_ttl) then existed = existed + 1 end
end
publish('${F.keys}', ARGV[5])
return { existed, version, tonumber(gen) }
`)

/** ARGV: prefix, origin, retention, tombstone ttl, tag; `{version, generation, key...}`: the keys that had a value. */
export const DELETE_TAG = new LuaScript(`${GENERATION}${CLOCK}${WRITE}${REMOVE}
local tombstone_ttl = tonumber(ARGV[4])
local s = head .. 't:' .. ARGV[5]
local deleted = {}
for _, key in ipairs(redis.call('SMEMBERS', s)) do
  if remove(key, tombstone_ttl) then deleted[#deleted + 1] = key end
end
redis.call('DEL', s)
publish('${F.keys}', #deleted == 0 and '[]' or cjson.encode(deleted))
table.insert(deleted, 1, tonumber(gen))
table.insert(deleted, 1, version)
return deleted
`)

/** ARGV: prefix, origin, retention; the version, which is the new generation. */
export const CLEAR = new LuaScript(`
local prefix = ARGV[1]
${CLOCK}${WRITE}
redis.call('SET', prefix .. 'gen', version)
publish('${F.all}', '1')
return version
`)

/** ARGV: prefix, a new id; the epoch, set to the new id when there was none (a new or emptied Redis). */
export const EPOCH = new LuaScript(`
local key = ARGV[1] .. 'epoch'
redis.call('SET', key, ARGV[2], 'NX')
return redis.call('GET', key)
`)

/** ARGV: prefix, key, token, lock ttl; the fence (a number that grows with every lock taken), or nil when held. */
export const ACQUIRE = new LuaScript(`
local prefix = ARGV[1]
if not redis.call('SET', prefix .. 'lock:' .. ARGV[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return false end
return redis.call('INCR', prefix .. 'fence')
`)

/** ARGV: prefix, key, token; 1 when the lock was still ours: then it is gone and its waiters are told. */
export const RELEASE = new LuaScript(`
local prefix = ARGV[1]
local lock = prefix .. 'lock:' .. ARGV[2]
if redis.call('GET', lock) ~= ARGV[3] then return 0 end
redis.call('DEL', lock)
redis.call('PUBLISH', prefix .. 'flight', ARGV[2])
return 1
`)

export const ALL_SCRIPTS = [GET, SET, FILL, DELETE, DELETE_TAG, CLEAR, EPOCH, ACQUIRE, RELEASE]
