import type { PolicyName } from '../../policies/index.js'
import { ByteArena } from './byte-arena.js'
import { MemoryTier, type TierExits } from './memory-tier.js'
import { WARM_ENTRY_OVERHEAD } from './entry-overhead.js'

export interface WarmTierOptions {
  maxBytes: number
  policy: PolicyName
}

/**
 * Encoded values, copied into the slabs of a `ByteArena` outside the V8
 * heap: the heap holds only the key and its slot. `valueAt` gives a view
 * into a slab (valid until the next compaction slice); `values.lasting`
 * gives bytes to keep, `values.stampAt` what names the value a slot holds.
 */
export type WarmTier = MemoryTier<Uint8Array, ByteArena>

// V8 keeps a string with a character past Latin-1 at two bytes per character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at U+0000 on purpose: every Latin-1 character is narrow.
const WIDE_CHAR = /[^\u0000-\u00ff]/

/**
 * What an entry costs the tier: its encoded bytes, its key's characters and
 * the fixed cost of holding one more entry, so that `maxBytes` bounds the
 * memory the tier really holds even when the values are small.
 */
export const warmEntryCharge = (bytes: Uint8Array, key: string): number =>
  bytes.byteLength + (WIDE_CHAR.test(key) ? 2 * key.length : key.length) + WARM_ENTRY_OVERHEAD

/** `wantsCompaction`: told when freed bytes pile up in the arena's slabs, for its owner to run `values.compactSlice` on the scheduler. */
export const createWarmTier = (options: WarmTierOptions, exits: TierExits<Uint8Array>, wantsCompaction?: () => void): WarmTier =>
  new MemoryTier<Uint8Array, ByteArena>(
    'warm',
    {
      ...options,
      maxEntries: Infinity,
      sizeOf: warmEntryCharge,
      values: (capacity) => new ByteArena(capacity, options.maxBytes, wantsCompaction),
    },
    exits,
  )
