import { invalid } from './option-rules.js'
import { type BreakerOptions, DEFAULT_BREAKER_COOLDOWN, DEFAULT_BREAKER_FAILURES } from '../guards/circuit-breaker.js'

/** How long a load may take before a read stops waiting for it. */
export interface TimeoutOptions {
  /**
   * Ms after which a read that has a stale value (within `grace` or
   * `staleWhileRevalidate`) returns it; the load goes on and fills the cache.
   */
  soft?: number
  /** Ms after which the load's signal is aborted and the read rejects `E_TIMEOUT` (or gets a stale value within `grace`). */
  hard?: number
}

/**
 * How reads are served when the source (the `loader`, a `getOrSet` factory)
 * is slow or down. Given cache-wide, and per `getOrSet` call, where each one
 * given wins over the cache's. Every option is off when absent.
 */
export interface ServeOptions {
  /**
   * For this many ms after an entry expires, a read returns the expired
   * value at once and refreshes it in the background (one refresh per key).
   */
  staleWhileRevalidate?: number
  /**
   * For this many ms after an entry expires, its value is kept, and served
   * when the loader or factory fails, runs past `timeout.hard`, or its
   * breaker is open.
   */
  grace?: number
  timeout?: TimeoutOptions
  /**
   * A circuit breaker in front of the source: after `failures` consecutive
   * failures (timeouts included), calls fail fast with `E_LOADER` for
   * `cooldown` ms (its `cause` a `BreakerOpenError`), then one probe call
   * decides. The loader has one; `getOrSet` factories share one per setting.
   * `false` turns a cache-wide breaker off for one call.
   */
  breaker?: false | BreakerOptions
}

/** `ServeOptions` checked, with 0 (or false) for what is off. */
export interface ResolvedServeOptions {
  staleWhileRevalidate: number
  grace: number
  soft: number
  hard: number
  breaker: Required<BreakerOptions> | false
  /** Ms an entry is kept after its expiry: the longer of the two windows. */
  kept: number
}

export const SERVE_OPTION_NAMES: readonly string[] = ['staleWhileRevalidate', 'grace', 'timeout', 'breaker']

function window(option: string, value: unknown): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity) throw invalid(option, 'must be a finite number of milliseconds, 0 or more')
  return value
}

function duration(option: string, value: unknown): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !(value > 0) || value === Infinity) throw invalid(option, 'must be a positive, finite number of milliseconds')
  return value
}

function resolveBreaker(breaker: unknown, base: Required<BreakerOptions> | false): Required<BreakerOptions> | false {
  if (breaker === undefined) return base
  if (breaker === false) return false
  if (typeof breaker !== 'object' || breaker === null) throw invalid('breaker', 'must be false or an object')
  for (const name of Object.keys(breaker)) if (name !== 'failures' && name !== 'cooldown') throw invalid(`breaker.${name}`, 'is not a known option')
  const { failures, cooldown } = breaker as BreakerOptions
  if (failures !== undefined && !(typeof failures === 'number' && Number.isInteger(failures) && failures > 0)) {
    throw invalid('breaker.failures', 'must be a positive integer')
  }
  return {
    failures: failures ?? DEFAULT_BREAKER_FAILURES,
    cooldown: cooldown === undefined ? DEFAULT_BREAKER_COOLDOWN : duration('breaker.cooldown', cooldown),
  }
}

/** Nothing on: what a cache without these options serves by. */
export const SERVE_AS_STORED: ResolvedServeOptions = Object.freeze({ staleWhileRevalidate: 0, grace: 0, soft: 0, hard: 0, breaker: false, kept: 0 })

/**
 * Checks `options` and lays them over `base` (the cache's, for a call), one
 * option at a time (`timeout.soft` and `timeout.hard` each); throws
 * `E_INVALID_OPTIONS` naming the first bad one. `base` itself when nothing is given.
 */
export function resolveServeOptions(options: ServeOptions, base: ResolvedServeOptions = SERVE_AS_STORED): ResolvedServeOptions {
  const { staleWhileRevalidate, grace, timeout, breaker } = options
  if (staleWhileRevalidate === undefined && grace === undefined && timeout === undefined && breaker === undefined) return base
  if (timeout !== undefined && (typeof timeout !== 'object' || timeout === null)) throw invalid('timeout', 'must be an object { soft, hard }')
  for (const name of Object.keys(timeout ?? {})) if (name !== 'soft' && name !== 'hard') throw invalid(`timeout.${name}`, 'is not a known option')
  const swr = staleWhileRevalidate === undefined ? base.staleWhileRevalidate : window('staleWhileRevalidate', staleWhileRevalidate)
  const kept = grace === undefined ? base.grace : window('grace', grace)
  const soft = timeout?.soft === undefined ? base.soft : duration('timeout.soft', timeout.soft)
  const hard = timeout?.hard === undefined ? base.hard : duration('timeout.hard', timeout.hard)
  if (soft !== 0 && hard !== 0 && soft >= hard) throw invalid('timeout.soft', `must be shorter than timeout.hard (${hard} ms)`)
  return {
    staleWhileRevalidate: swr,
    grace: kept,
    soft,
    hard,
    breaker: resolveBreaker(breaker, base.breaker),
    kept: Math.max(swr, kept),
  }
}
