import type { CacheError } from '../errors.js'

/** The tiers in lookup order: memory's (hot, warm), the disk (cold), a Redis shared by instances (remote). */
export type TierName = 'hot' | 'warm' | 'cold' | 'remote'

/**
 * The coherence bus's connection: `connected`; `disconnected` (invalidations
 * may be missed: local copies are served for at most `maxStaleness` ms);
 * `resynced` after a disconnect, with the invalidations it `replayed` and the
 * local copies it `dropped` because some were lost for good.
 */
export type BusState = 'connected' | 'disconnected' | 'resynced'

/** Why an entry left the cache for good. */
export type EvictionReason =
  /** The last tier it was in needed the room. */
  | 'capacity'
  /** It is larger than any tier that could take it. */
  | 'too-large'
  /** The disk tier could not take it: its writes are failing, or too much waits to be written. */
  | 'io'

/**
 * What happened in the cache, discriminated by `type`. `at` is the
 * scheduler's time. Moves between tiers are `promote` and `demote`; an entry
 * leaving the cache for room is `evict`, for age `expire`.
 */
export type CacheEvent =
  | { type: 'hit'; key: string; tier: TierName; at: number }
  | { type: 'miss'; key: string; at: number }
  | { type: 'set'; key: string; at: number }
  | { type: 'delete'; key: string; at: number }
  | { type: 'expire'; key: string; at: number }
  | { type: 'evict'; key: string; tier: TierName; reason: EvictionReason; at: number }
  | { type: 'promote'; key: string; from: TierName; to: TierName; at: number }
  | { type: 'demote'; key: string; from: TierName; to: TierName; at: number }
  | { type: 'load'; key: string; ms: number; at: number }
  | { type: 'prefetch'; key: string; at: number }
  | { type: 'clear'; at: number }
  | { type: 'error'; key?: string; error: CacheError; at: number }
  /** A write-back batch reached the source: `count` ops, in `ms` (the successful try). */
  | { type: 'flush'; count: number; ms: number; at: number }
  /** A write-back batch failed every try: its keys stay dirty and are tried again after `flushInterval`. */
  | { type: 'write-error'; keys: string[]; error: CacheError; at: number }
  /** A lower tier stopped working (it could not open, or its I/O fails): memory serves without it, and it is retried with backoff. */
  | { type: 'degraded'; tier: TierName; error: CacheError; at: number }
  /** A degraded tier works again (for one that failed its first open: it has opened). */
  | { type: 'recovered'; tier: TierName; at: number }
  /** The coherence bus's connection changed; after `resynced`, `replayed` invalidations were applied and `dropped` local copies dropped. */
  | { type: 'bus'; state: BusState; replayed?: number; dropped?: number; at: number }

export type CacheEventType = CacheEvent['type']
