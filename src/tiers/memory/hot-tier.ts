import type { PolicyName } from '../../policies/index.js'
import { MemoryTier, type TierExits } from './memory-tier.js'
import { estimateSize } from './estimate-size.js'

export interface HotTierOptions {
  maxEntries: number
  maxBytes: number
  policy: PolicyName
}

/**
 * Live objects on the V8 heap: a read is a Map lookup and a policy touch.
 * Values are measured (`estimateSize`, a walk of the value) only when
 * `maxBytes` bounds the tier, so `bytes` is 0 without it: measured on every
 * set, a set with eviction took about three times as long.
 */
export type HotTier = MemoryTier<unknown>

export const createHotTier = (options: HotTierOptions, exits: TierExits<unknown>): HotTier =>
  new MemoryTier<unknown>('hot', { ...options, sizeOf: (value) => estimateSize(value) }, exits)
