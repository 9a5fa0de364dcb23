import type { CacheError } from '../../errors.js'
import type { ColdLeaveReason } from './cold-index.js'
import type { ColdStoreOptions } from './options.js'
import type { ColdEntry } from './types.js'

// What the cold tier takes and gives back: its options, the callbacks it is given, its answers.

/** What a batch write did with its entries besides writing them. */
export interface WriteOutcome {
  /** Values that fit a segment but not together with their tags: no longer staged. */
  tooLarge: ColdEntry[]
  /** Values a failed write dropped from staging, the key's current value each. */
  dropped: ColdEntry[]
  /** Why the write failed, if it did. */
  error?: CacheError
}

// Declared with the cache's stats, which report it as it is.
export type { ColdTierStats } from '../../observe/stats.js'

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

/**
 * The key's current value left the disk other than by a write or delete of
 * it (see `ColdLeaveReason`), and is neither staged nor masked nor on disk
 * anew: told for every value evicted for room, and for a value that expired
 * or was found corrupt only when its record carried tags. Whether memory
 * holds a copy is the caller's to judge.
 */
export type ColdLeft = (key: string, reason: ColdLeaveReason, tagged: boolean) => void

export interface ColdTierOptions extends ColdStoreOptions {
  segmentBytes: number
  /** Demotions staged but not yet written may hold at most this many bytes; past it, demotions are refused. */
  maxStagedBytes: number
  /** Without it, nothing is tagged on disk. */
  tags?: ColdTags
  /** Told of values that left the disk; see `ColdLeft`. */
  left?: ColdLeft
}

