import type { CacheError } from '../errors.js'
import type { Notifier } from '../observe/notifier.js'
import { NO_SLOT } from '../policies/index.js'
import type { LowerEntry, LowerTier, MemoryImage } from '../tiers/lower-tier.js'
import type { HotTier } from '../tiers/memory/hot-tier.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'

/**
 * What memory holds, as the stack hands it down to a lower tier for a
 * checkpoint or a close: warm's bytes as they are, hot's values encoded as
 * they are reached, so that a checkpoint never holds all of memory encoded.
 */
export class MemoryEntries implements MemoryImage {
  /** While a checkpoint runs: keys moved from hot to warm behind its back, to write at its end. */
  #moved: Set<string> | undefined
  readonly #hot: HotTier
  readonly #warm: WarmTier | undefined
  readonly #now: () => number
  readonly #encode: (value: unknown) => Uint8Array
  readonly #notifier: Notifier<unknown>

  constructor(hot: HotTier, warm: WarmTier | undefined, now: () => number, encode: (value: unknown) => Uint8Array, notifier: Notifier<unknown>) {
    this.#hot = hot
    this.#warm = warm
    this.#now = now
    this.#encode = encode
    this.#notifier = notifier
  }

  /**
   * Hands memory's entries to each tier in turn (for its `checkpoint` or
   * `close`), with moves from hot to warm noted meanwhile, so that none is missed.
   */
  async handDown(tiers: readonly LowerTier[], take: (tier: LowerTier, memory: MemoryImage) => Promise<void>): Promise<void> {
    this.#moved = new Set()
    try {
      for (const tier of tiers) await take(tier, this)
    } finally {
      this.#moved = undefined
    }
  }

  /** The key moved from hot to warm. */
  moved(key: string): void {
    this.#moved?.add(key)
  }

  /**
   * Every entry in memory as bytes, warm first, then hot, then what moved from
   * hot to warm while the walk was under way (the Map walks see entries added
   * behind them, so promotions into hot are not missed).
   */
  *entries(): Generator<LowerEntry> {
    const now = this.#now()
    const warm = this.#warm
    if (warm !== undefined) {
      for (const key of warm.keys(now)) {
        const entry = warmEntry(warm, key, now)
        if (entry !== undefined) yield entry
      }
    }
    for (const key of this.#hot.keys(now)) {
      const entry = this.#hotEntry(key, now)
      if (entry !== undefined) yield entry
    }
    if (warm === undefined) return
    for (const key of this.#moved ?? []) {
      const entry = warmEntry(warm, key, now)
      if (entry !== undefined) yield entry
    }
  }

  *keys(): Generator<string> {
    const now = this.#now()
    yield* this.#hot.keys(now)
    if (this.#warm !== undefined) yield* this.#warm.keys(now)
  }

  #hotEntry(key: string, now: number): LowerEntry | undefined {
    const slot = this.#hot.findLive(key, now)
    if (slot === NO_SLOT) return undefined
    try {
      return { key, stored: this.#encode(this.#hot.valueAt(slot)), expiresAt: this.#hot.expiryAt(slot) }
    } catch (error) {
      this.#notifier.error(error as CacheError, key)
      return undefined
    }
  }
}

// Lasting bytes: the lower tier writes them later, after compaction may have moved warm's.
const warmEntry = (warm: WarmTier, key: string, now: number): LowerEntry | undefined => {
  const slot = warm.findLive(key, now)
  return slot === NO_SLOT ? undefined : { key, stored: warm.values.lasting(slot), expiresAt: warm.expiryAt(slot) }
}
