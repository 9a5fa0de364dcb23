import type { PolicyName } from '../../policies/index.js'
import { MemoryTier, type TierExits } from '../memory-tier.js'

export interface WarmTierOptions {
  maxBytes: number
  policy: PolicyName
}

/**
 * Encoded values, one exact-size Buffer each, so their bytes live outside the
 * V8 heap: the heap holds only the key, a slot and the Buffer's handle.
 */
export type WarmTier = MemoryTier<Uint8Array>

const byteLength = (bytes: Uint8Array): number => bytes.byteLength

export const createWarmTier = (options: WarmTierOptions, exits: TierExits<Uint8Array>): WarmTier =>
  new MemoryTier<Uint8Array>('warm', { ...options, maxEntries: Infinity, sizeOf: byteLength }, exits)
