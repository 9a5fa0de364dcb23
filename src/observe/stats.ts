export interface TierStats {
  entries: number
  /**
   * Hot: estimated heap bytes, measured only when `hot.maxBytes` is set and
   * 0 otherwise (the estimate walks the value on every set: measured always,
   * it made a set with eviction about three times slower). Warm and cold:
   * encoded bytes.
   */
  bytes: number
  hits: number
}

export interface CacheStats {
  /** `get`, `getMany` and `getOrSet` calls, one per key, that found a value (in a tier, or loaded ahead). */
  hits: number
  /**
   * Those that found none, whatever the loader or factory then supplied:
   * callers that share one load each count their miss.
   */
  misses: number
  /** hits / (hits + misses); 0 before the first read. */
  hitRatio: number
  sets: number
  deletes: number
  /** Entries that left the cache for room. */
  evictions: number
  expirations: number
  promotions: number
  demotions: number
  /**
   * Calls of the `loader` option for a `get` that missed every tier, and of
   * `getOrSet` factories: one per call, shared by the callers it served,
   * whether it found a value, found none or failed.
   */
  loads: number
  /** Loads started ahead of use by the prefetcher. */
  prefetches: number
  /** Reads that found an entry loaded ahead for them. */
  prefetchHits: number
  /** prefetchHits / prefetches; 0 before the first prefetch. */
  prefetchAccuracy: number
  tiers: { hot: TierStats; warm: TierStats; cold: ColdTierStats; remote: RemoteTierStats }
  /** Keys whose last op (write-back) has not reached the source yet. */
  dirty: number
  /** Ops the writer's `write` took (write-through and write-back). */
  written: number
  /** Write-back ops replaced by a later op of their key before they were written. */
  coalesced: number
  /** Write-back batches tried again after a failure. */
  writeRetries: number
  /** Write-back batches that failed every try, and write-through calls that failed. */
  writeErrors: number
}

export interface ColdTierStats extends TierStats {
  /** Bytes of segment files on disk, live and dead. */
  diskBytes: number
  /** `'opening'` until its first open ends; `'degraded'` while it fails and memory serves without it (see the `degraded` event). */
  state: LowerTierState
}

/** The remote tier (Redis): zeros and `'ok'` without one. */
export interface RemoteTierStats {
  /** Reads that missed memory and the disk and found the key in Redis. */
  hits: number
  /** `'opening'` until Redis first answers; `'degraded'` while it fails and the local tiers serve without it (see the `degraded` event). */
  state: LowerTierState
}

/** Whether a tier below memory is usable: see `ColdTierStats.state`. */
export type LowerTierState = 'opening' | 'ok' | 'degraded'

/** The counters behind `stats()`: plain fields, bumped in place on the hot path. */
export class StatsCounters {
  hits = 0
  misses = 0
  sets = 0
  deletes = 0
  evictions = 0
  expirations = 0
  promotions = 0
  demotions = 0
  loads = 0
  prefetches = 0
  prefetchHits = 0
  dirty = 0
  written = 0
  coalesced = 0
  writeRetries = 0
  writeErrors = 0
}

export function snapshot(counters: StatsCounters, tiers: CacheStats['tiers']): CacheStats {
  const reads = counters.hits + counters.misses
  return {
    hits: counters.hits,
    misses: counters.misses,
    hitRatio: reads === 0 ? 0 : counters.hits / reads,
    sets: counters.sets,
    deletes: counters.deletes,
    evictions: counters.evictions,
    expirations: counters.expirations,
    promotions: counters.promotions,
    demotions: counters.demotions,
    loads: counters.loads,
    prefetches: counters.prefetches,
    prefetchHits: counters.prefetchHits,
    prefetchAccuracy: counters.prefetches === 0 ? 0 : counters.prefetchHits / counters.prefetches,
    tiers,
    dirty: counters.dirty,
    written: counters.written,
    coalesced: counters.coalesced,
    writeRetries: counters.writeRetries,
    writeErrors: counters.writeErrors,
  }
}
