import { ArcPolicy } from './arc.js'
import { LearnedPolicy } from './learned.js'
import { LfuPolicy } from './lfu.js'
import { LruPolicy } from './lru.js'
import { reservedSlots } from './reserve.js'
import { SievePolicy } from './sieve.js'
import { WTinyLfuPolicy } from './w-tinylfu.js'
import type { EvictionPolicy, PolicyName } from './policy.js'

export type { EvictionPolicy, PolicyName } from './policy.js'
export { POLICY_NAMES, NO_SLOT } from './policy.js'
export { MAX_RESERVED_SLOTS, reservedSlots } from './reserve.js'

/** A policy for a tier of `capacity` slots now, holding at most `maxEntries` (Infinity: bounded by bytes); `reserve`: see `reservedSlots`. */
export function createPolicy(name: PolicyName, capacity: number, maxEntries: number, reserve = true): EvictionPolicy {
  // Where capacity only sizes columns, they are reserved at a finite maximum: the tier's doublings then copy nothing.
  const reserved = reserve ? reservedSlots(capacity, maxEntries) : capacity
  switch (name) {
    case 'lru':
      return new LruPolicy(reserved)
    case 'lfu':
      return new LfuPolicy(capacity, aging(maxEntries))
    case 'w-tinylfu':
      return new WTinyLfuPolicy(capacity, maxEntries, { reserve })
    case 'arc':
      return new ArcPolicy(capacity, maxEntries)
    case 'sieve':
      return new SievePolicy(reserved, maxEntries)
    case 'learned':
      return new LearnedPolicy(capacity, maxEntries, aging(maxEntries))
  }
}

/**
 * LFU counts age by the tier's size, not by its slot table, which grows while
 * the tier fills; a tier bounded by bytes has no size to go by, and ages by
 * its slot table.
 */
function aging(maxEntries: number): { agingPeriod?: number } {
  return Number.isFinite(maxEntries) ? { agingPeriod: Math.max(1024, 10 * maxEntries) } : {}
}
