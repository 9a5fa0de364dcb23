/**
 * The constants W-TinyLFU's decisions rest on (`WTinyLfuPolicy`, with the
 * hill climber's in `HillClimber`); the policy's reference model in the tests
 * copies them as part of its spec; and the policy's options.
 */

export const INITIAL_WINDOW_SHARE = 0.01
/**
 * Caffeine stops the window near 80 %; a working set that moves wholesale
 * (new keys, while main still holds the old ones at high counts until the
 * sketch halves them away) needs nearly all of the cache in recency order.
 */
export const MAX_WINDOW_SHARE = 0.95
export const PROTECTED_SHARE_OF_MAIN = 0.8
/** Caffeine's ADMIT_HASHDOS_THRESHOLD: a candidate this warm is sometimes admitted even when it loses. */
export const WARM_CANDIDATE = 6
/** 1 in 128 warm losers is admitted anyway. */
export const RANDOM_ADMIT_MASK = 127
/**
 * Slots moved between regions per call when a target shrank (climber,
 * fewer resident entries): bounded work per operation, and more than the one
 * slot a call can add, so overflow drains.
 */
export const REBALANCE_STEPS = 4
/** Hits plus misses per climber sample, per resident entry (Caffeine's sample is 10 × maximum). */
export const CLIMB_SAMPLE_FACTOR = 10
/** Ghosts kept per region (window, main), as a share of the resident entries: the margin a ghost hit speaks for. */
const GHOST_SHARE = 0.1
/** Entries the window gains on a hit on a window ghost, or gives up on a hit on a main ghost. */
export const GHOST_STEP = 2
/**
 * The sketch is sized for twice the entries: twice the counters (16 bytes
 * per entry), so fewer collisions, and twice the history between halvings
 * (20 × size additions), so that the counts of the many keys near the
 * admission threshold separate before they are halved away. On the
 * hit-ratio suite this closes about 2 points more of the LRU→OPT gap than a
 * sketch of the size (Caffeine's), mostly on Zipf and orm-night; a longer
 * period alone gets most of that, 40 × size is worse again.
 */
export const SKETCH_ENTRIES_PER_ENTRY = 2
export const DEFAULT_SEED = 0x2545f491
/**
 * A victim idle for more than this many epochs (one epoch: as many requests
 * as resident entries) per unit of its estimated frequency duels at half its
 * frequency; see `evict`.
 */
export const STALE_EPOCHS_TIMES_FREQUENCY = 30
/** A main entry unread for this many epochs or more gives way to a window that is to grow, whatever its frequency; see `evict`. */
export const GROW_IDLE_EPOCHS = 2

/** Ghosts kept per region for `entries` resident entries: `GHOST_SHARE` of them, at least one. */
export function ghostLimit(entries: number): number {
  return Math.max(1, Math.round(GHOST_SHARE * entries))
}

export interface WTinyLfuOptions {
  /**
   * Tune the window size online, from hits on recently evicted keys and by
   * hill climbing on the hit ratio; default true. False: the window keeps its
   * initial share.
   */
  climb?: boolean
  /** The window's initial share of the resident entries, 0 to 0.95; default 0.01 (at least one entry). */
  window?: number
  /** Seed of the xorshift generator behind the occasional admission of a warm candidate. */
  seed?: number
  /** Reserve columns and the sketch for a finite `maxEntries` at once (see `reservedSlots`); default true. */
  reserve?: boolean
}
