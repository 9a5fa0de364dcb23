import { randomUUID } from 'node:crypto'
import type { Transport } from '../coherence/invalidation.js'
import type { RedisClient } from '../remote/redis-client.js'
import type { ResolvedRemote } from '../remote/remote-settings.js'
import type { ResolvedBus } from '../coherence/bus-settings.js'
import { checkKeys, invalid, isPositive, resolveInteger } from './option-rules.js'

/** A Redis shared by every instance, below the local tiers: hot → warm → cold → remote → loader. */
export interface RemoteOptions {
  /** A URL (`redis://host:port`), or a connected node-redis client the application owns (the cache never closes it). */
  redis: string | RedisClient
  /** Prefix of every key the cache keeps in Redis. Default 'strata:'. */
  prefix?: string
  /** Time to live in Redis, in ms, of entries written without one. Default: none. */
  ttl?: number
  /** Longest wait for one Redis call, in ms; past it the call fails `E_REMOTE` and the tier degrades. Default 500. */
  commandTimeout?: number
  /** What a write does while the remote tier is degraded: 'reject' (default) with `E_REMOTE`, changing nothing; or 'local': it is stored in this instance's tiers only. */
  whenDown?: 'reject' | 'local'
  /** How long `getOrSet` or the loader waits for another instance loading the same key before loading itself, in ms. Default 5,000. */
  lockTimeout?: number
}

/** Invalidations through a Redis Stream, kept for `retention` so that an instance back from a disconnect replays what it missed. */
export interface RedisBusOptions {
  /** A URL or a node-redis client; with a remote tier on the same server, leave it out. */
  redis?: string | RedisClient
  /** Prefix of the bus's keys in Redis (its stream, version counter and epoch). Default: the remote tier's prefix, or 'strata:'. */
  channel?: string
  /** Ms invalidations are kept for instances that disconnect. Default 300,000 (5 minutes). */
  retention?: number
}

/** Same-machine processes (worker threads) and browser tabs, through a `BroadcastChannel` of this name. */
export interface BroadcastBusOptions {
  broadcastChannel: string
}

export type BusOptions = RedisBusOptions | BroadcastBusOptions | Transport

export interface DistributedOptions {
  /** A Redis tier shared by every instance. Off (false) by default. */
  remote?: false | RemoteOptions
  /**
   * How instances tell one another to drop their local copies. Default: on
   * the remote tier's Redis when there is one, otherwise off (false).
   */
  bus?: false | BusOptions
  /** This instance's name on the bus. Default: random. */
  instanceId?: string
  /**
   * Ms this instance serves its local copies while the bus is disconnected
   * (invalidations may be missed meanwhile). Default 0: from the moment it
   * disconnects, reads skip the local copies and go to the remote tier or
   * the loader.
   */
  maxStaleness?: number
}

export interface ResolvedDistributed {
  remote: ResolvedRemote | false
  bus: ResolvedBus | false
  instanceId: string
  maxStaleness: number
}

export const DISTRIBUTED_OPTION_NAMES = ['remote', 'bus', 'instanceId', 'maxStaleness']
const KNOWN_REMOTE = ['redis', 'prefix', 'ttl', 'commandTimeout', 'whenDown', 'lockTimeout']
const KNOWN_REDIS_BUS = ['redis', 'channel', 'retention']
const DEFAULT_PREFIX = 'strata:'

export function resolveDistributed(options: DistributedOptions): ResolvedDistributed {
  const remote = resolveRemote(options.remote)
  const instanceId = options.instanceId ?? randomUUID()
  if (typeof instanceId !== 'string' || instanceId.length === 0) throw invalid('instanceId', 'must be a non-empty string')
  const maxStaleness = options.maxStaleness ?? 0
  if (typeof maxStaleness !== 'number' || !(maxStaleness >= 0)) throw invalid('maxStaleness', 'must be a number of milliseconds, 0 or more')
  return { remote, bus: resolveBus(options.bus, remote), instanceId, maxStaleness }
}

function resolveRedis(option: string, redis: unknown): string | RedisClient {
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis)) throw invalid(option, 'must be a redis:// or rediss:// URL, or a node-redis client')
    return redis
  }
  const client = redis as RedisClient
  if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function' || typeof client.duplicate !== 'function') {
    throw invalid(option, 'must be a redis:// URL or a node-redis client (the `redis` package)')
  }
  return client
}

function resolvePrefix(option: string, prefix: unknown, fallback: string): string {
  if (prefix === undefined) return fallback
  if (typeof prefix !== 'string' || prefix.length === 0) throw invalid(option, 'must be a non-empty string')
  return prefix
}

function resolveRemote(remote: false | RemoteOptions | undefined): ResolvedRemote | false {
  if (remote === undefined || remote === false) return false
  if (typeof remote !== 'object' || remote === null) throw invalid('remote', 'must be false or an object')
  checkKeys(remote, KNOWN_REMOTE, 'remote.')
  if (remote.ttl !== undefined && !isPositive(remote.ttl)) throw invalid('remote.ttl', 'must be a positive number of milliseconds')
  const whenDown = remote.whenDown ?? 'reject'
  if (whenDown !== 'reject' && whenDown !== 'local') throw invalid('remote.whenDown', "must be 'reject' or 'local'")
  return {
    redis: resolveRedis('remote.redis', remote.redis),
    prefix: resolvePrefix('remote.prefix', remote.prefix, DEFAULT_PREFIX),
    ttl: remote.ttl === undefined || remote.ttl === Infinity ? 0 : remote.ttl,
    commandTimeout: resolveInteger('remote.commandTimeout', remote.commandTimeout, 500),
    whenDown,
    lockTimeout: resolveInteger('remote.lockTimeout', remote.lockTimeout, 5000),
    tombstoneTtl: 60_000,
  }
}

function resolveBus(bus: false | BusOptions | undefined, remote: ResolvedRemote | false): ResolvedBus | false {
  if (bus === false) return false
  if (bus === undefined) {
    if (remote === false) return false
    return { kind: 'redis', redis: remote.redis, prefix: remote.prefix, retention: 300_000, commandTimeout: remote.commandTimeout, sharesRemote: true }
  }
  if (typeof bus !== 'object' || bus === null) throw invalid('bus', 'must be false, { redis }, { broadcastChannel } or a Transport')
  if ('publish' in bus || 'messages$' in bus) {
    const transport = bus as Transport
    if (typeof transport.publish !== 'function' || typeof transport.messages$?.subscribe !== 'function' || typeof transport.state$?.subscribe !== 'function') {
      throw invalid('bus', 'a Transport must have publish(message), messages$ and state$')
    }
    return { kind: 'custom', transport }
  }
  if ('broadcastChannel' in bus) {
    checkKeys(bus, ['broadcastChannel'], 'bus.')
    if (typeof bus.broadcastChannel !== 'string' || bus.broadcastChannel.length === 0) throw invalid('bus.broadcastChannel', 'must be a non-empty string')
    return { kind: 'broadcast', channel: bus.broadcastChannel }
  }
  checkKeys(bus, KNOWN_REDIS_BUS, 'bus.')
  const given = bus as RedisBusOptions
  if (given.redis === undefined && remote === false) throw invalid('bus.redis', 'is needed without a remote tier')
  const redis = given.redis === undefined ? (remote as ResolvedRemote).redis : resolveRedis('bus.redis', given.redis)
  const prefix = resolvePrefix('bus.channel', given.channel, remote === false ? DEFAULT_PREFIX : remote.prefix)
  const retention = given.retention === undefined ? 300_000 : given.retention
  if (!isPositive(retention) || retention === Infinity) throw invalid('bus.retention', 'must be a positive, finite number of milliseconds')
  // The remote tier's scripts append each write's invalidation to the stream themselves, atomically with its version.
  const sharesRemote = remote !== false && redis === remote.redis && prefix === remote.prefix
  return { kind: 'redis', redis, prefix, retention, commandTimeout: remote === false ? 500 : remote.commandTimeout, sharesRemote }
}
