/**
 * Replays a trace through one cache of one size and counts the hits: through
 * strata-cache's hot tier with a given policy (the tier alone, no events or
 * promises: what the policy decides, at the tier's own speed), or through
 * lru-cache as its users run it (`get`, then `set` on a miss).
 */
import { LRUCache } from 'lru-cache'
import { NO_SLOT, type PolicyName } from '../../src/policies/index.js'
import { createHotTier } from '../../src/tiers/memory/hot-tier.js'
import type { TraceKeys } from './traces.js'

export interface Replay {
  hits: number
  /** Wall time of the replay alone (cache construction included, trace loading not). */
  ms: number
}

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6

const ignoreExits = { evicted(): void {}, expired(): void {} }

/** The hot tier of `maxEntries` with `policy`: on a hit `hit`, on a miss `missed` then `set`. */
export function replayHotTier(trace: TraceKeys, maxEntries: number, policy: PolicyName): Replay {
  const { ids, keys } = trace
  const start = process.hrtime.bigint()
  const tier = createHotTier({ maxEntries, maxBytes: Infinity, policy }, ignoreExits)
  let hits = 0
  for (let i = 0; i < ids.length; i++) {
    const key = keys[ids[i]]
    const slot = tier.findOrExpire(key, 0)
    if (slot !== NO_SLOT) {
      tier.hit(slot)
      hits++
    } else {
      tier.missed(key)
      tier.set(key, 1, 0)
    }
  }
  return { hits, ms: elapsedMs(start) }
}

/** `new LRUCache({ max })`, `get` and on a miss `set`. */
export function replayLruCache(trace: TraceKeys, max: number): Replay {
  const { ids, keys } = trace
  const start = process.hrtime.bigint()
  const cache = new LRUCache<string, number>({ max })
  let hits = 0
  for (let i = 0; i < ids.length; i++) {
    const key = keys[ids[i]]
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, 1)
  }
  return { hits, ms: elapsedMs(start) }
}
