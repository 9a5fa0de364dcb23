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
 * - `P g:<gen>:r:<key>`: a key's record, a hash: `v` version, `d` bytes (absent
 *   in a tombstone), `x` expiry in Redis ms (absent: none), `t` tags (JSON).
 *   A value outlives its expiry by the tombstone time, as its own tombstone;
 * - `P g:<gen>:t:<tag>`: the keys set with a tag.
 *
 * ARGV[1] is always the prefix; the scripts declare no KEYS (see LuaScript).
 */
const COMMON = `
local prefix = ARGV[1]
local gen = redis.call('GET', prefix .. 'gen') or '0'
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function record(key) return prefix .. 'g:' .. gen .. ':r:' .. key end
local function tagset(tag) return prefix .. 'g:' .. gen .. ':t:' .. tag end
local function live(d, x) return d ~= false and (x == false or tonumber(x) > now) end
local function next_version() return redis.call('INCR', prefix .. 'version') end
local function publish(origin, retention, version, field, value)
  redis.call('XADD', prefix .. 'bus', 'MINID', '~', string.format('%d', math.max(0, now - retention)), '*',
    '${F.origin}', origin, '${F.version}', string.format('%d', version), field, value)
end
local function untag(key, tags)
  if tags then
    for _, tag in ipairs(cjson.decode(tags)) do redis.call('SREM', tagset(tag), key) end
  end
end
local function store(key, bytes, ttl, tags, version, tombstone_ttl)
  local r = record(key)
  untag(key, redis.call('HGET', r, 't'))
  redis.call('DEL', r)
  redis.call('HSET', r, 'd', bytes, 'v', version, 't', tags)
  local keep = ttl + tombstone_ttl
  if ttl > 0 then
    redis.call('HSET', r, 'x', string.format('%d', now + ttl))
    redis.call('PEXPIRE', r, keep)
  end
  for _, tag in ipairs(cjson.decode(tags)) do
    local s = tagset(tag)
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
local function remove(key, version, tombstone_ttl)
  local r = record(key)
  local old = redis.call('HMGET', r, 'd', 'x', 't')
  untag(key, old[3])
  redis.call('DEL', r)
  if tombstone_ttl > 0 then
    redis.call('HSET', r, 'v', version)
    redis.call('PEXPIRE', r, tombstone_ttl)
  end
  return live(old[1], old[2])
end
`

/** ARGV: prefix, key...; per key `{bytes, version, ms left (0: none), tags JSON}` or nil. */
export const GET = new LuaScript(`${COMMON}
local out = {}
for i = 2, #ARGV do
  local f = redis.call('HMGET', record(ARGV[i]), 'd', 'v', 'x', 't')
  if live(f[1], f[3]) then
    out[i - 1] = { f[1], tonumber(f[2]), f[3] and (tonumber(f[3]) - now) or 0, f[4] }
  else
    out[i - 1] = false
  end
end
return out
`)

/** ARGV: prefix, origin, retention, tombstone ttl, keys JSON, then (key, bytes, ttl, tags JSON)...; the version. */
export const SET = new LuaScript(`${COMMON}
local version = next_version()
local tombstone_ttl = tonumber(ARGV[4])
for i = 6, #ARGV, 4 do
  store(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], version, tombstone_ttl)
end
publish(ARGV[2], tonumber(ARGV[3]), version, '${F.keys}', ARGV[5])
return version
`)

/**
 * ARGV: prefix, origin, retention, tombstone ttl, keys JSON, since, key, bytes, ttl, tags JSON;
 * the version, or nil when the key has a value or a write (a clear too) newer than `since`.
 */
export const FILL = new LuaScript(`${COMMON}
local since = tonumber(ARGV[6])
local key = ARGV[7]
if tonumber(gen) > since then return false end
local f = redis.call('HMGET', record(key), 'd', 'v', 'x')
if live(f[1], f[3]) or (f[2] and tonumber(f[2]) > since) then return false end
local version = next_version()
store(key, ARGV[8], tonumber(ARGV[9]), ARGV[10], version, tonumber(ARGV[4]))
publish(ARGV[2], tonumber(ARGV[3]), version, '${F.keys}', ARGV[5])
return version
`)

/** ARGV: prefix, origin, retention, tombstone ttl, keys JSON, key...; `{existed count, version}`. */
export const DELETE = new LuaScript(`${COMMON}
local version = next_version()
local tombstone_ttl = tonumber(ARGV[4])
local existed = 0
for i = 6, #ARGV do
  if remove(ARGV[i], version, tombstone_ttl) then existed = existed + 1 end
end
publish(ARGV[2], tonumber(ARGV[3]), version, '${F.keys}', ARGV[5])
return { existed, version }
`)

/** ARGV: prefix, origin, retention, tombstone ttl, tag; `{version, key...}`: the keys that had a value. */
export const DELETE_TAG = new LuaScript(`${COMMON}
local version = next_version()
local tombstone_ttl = tonumber(ARGV[4])
local s = tagset(ARGV[5])
local deleted = {}
for _, key in ipairs(redis.call('SMEMBERS', s)) do
  if remove(key, version, tombstone_ttl) then deleted[#deleted + 1] = key end
end
redis.call('DEL', s)
publish(ARGV[2], tonumber(ARGV[3]), version, '${F.keys}', #deleted == 0 and '[]' or cjson.encode(deleted))
table.insert(deleted, 1, version)
return deleted
`)

/** ARGV: prefix, origin, retention; the version, which is the new generation. */
export const CLEAR = new LuaScript(`${COMMON}
local version = next_version()
redis.call('SET', prefix .. 'gen', version)
publish(ARGV[2], tonumber(ARGV[3]), version, '${F.all}', '1')
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
