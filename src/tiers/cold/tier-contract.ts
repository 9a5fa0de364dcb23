import type { CacheError } from '../../errors.js'
import type { LowerEntry } from '../lower-tier.js'

// What the cold tier's parts hand each other: the tags it is given, what a batch write did.

/** What a batch write did with its entries besides writing them. */
export interface WriteOutcome {
  /** Values that fit a segment but not together with their tags: no longer staged. */
  tooLarge: LowerEntry[]
  /** Values a failed write dropped from staging, the key's current value each. */
  dropped: LowerEntry[]
  /** Why the write failed, if it did. */
  error?: CacheError
}

/**
 * Where the tags of the cache's keys live (the cache's tag index). The disk
 * stores a key's tags in its record; this is how they get there and back.
 */
export interface ColdTags {
  /** The key's current tags, written with its value. */
  of(key: string): readonly string[] | undefined
  /** Tags of a key whose disk record is its current value, found when the store opened. */
  restore(key: string, tags: readonly string[]): void
}
