import type { SchedulerLike } from 'rxjs'
import { NO_SLOT } from '../policies/index.js'
import type { HotTier } from '../tiers/memory/hot-tier.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'
import type { WarmValues } from './warm-values.js'

/**
 * Memory's entries found by key, hot first, for every question but `get`'s
 * own walk (inline in the stack: a hot hit is a Map lookup and little
 * more): peeks, stale values and expiries, which touch neither recency nor
 * counters; whether memory holds a key; what a miss or a due expiry does.
 */
export class MemoryLookups<V> {
  readonly #hot: HotTier
  readonly #warm: WarmTier | undefined
  /** With warm: its bytes as values. */
  readonly #warmValues: WarmValues<V> | undefined
  readonly #scheduler: SchedulerLike

  constructor(hot: HotTier, warm: WarmTier | undefined, warmValues: WarmValues<V> | undefined, scheduler: SchedulerLike) {
    this.#hot = hot
    this.#warm = warm
    this.#warmValues = warmValues
    this.#scheduler = scheduler
  }

  /** Whether hot or warm holds a live entry for the key, touching nothing. */
  holds(key: string): boolean {
    if (this.#hot.findLive(key, this.#nowFor(this.#hot)) !== NO_SLOT) return true
    return this.#warm !== undefined && this.#warm.findLive(key, this.#nowFor(this.#warm)) !== NO_SLOT
  }

  /** The value in memory now, touching neither recency nor counters. */
  peek(key: string): V | undefined {
    const slot = this.#hot.findLive(key, this.#nowFor(this.#hot))
    if (slot !== NO_SLOT) return this.#hot.valueAt(slot) as V
    const warm = this.#warm
    if (warm === undefined) return undefined
    const warmSlot = warm.findLive(key, this.#nowFor(warm))
    return warmSlot === NO_SLOT ? undefined : (this.#warmValues as WarmValues<V>).snapshot(key, warmSlot)
  }

  /** The value memory holds, live or kept past its expiry as a stale value, with its expiry; touching nothing. */
  findStale(key: string): { value: V; expiresAt: number } | undefined {
    const now = this.#scheduler.now()
    const slot = this.#hot.findStale(key, now)
    if (slot !== NO_SLOT) return { value: this.#hot.valueAt(slot) as V, expiresAt: this.#hot.expiryAt(slot) }
    const warm = this.#warm
    if (warm === undefined) return undefined
    const warmSlot = warm.findStale(key, now)
    if (warmSlot === NO_SLOT) return undefined
    const expiresAt = warm.expiryAt(warmSlot)
    const value = (this.#warmValues as WarmValues<V>).decode(key, warmSlot)
    return value === undefined ? undefined : { value, expiresAt }
  }

  /** The key's absolute expiry if memory holds it, 0 for none or absent. */
  expiryOf(key: string): number {
    const now = this.#scheduler.now()
    let slot = this.#hot.findLive(key, now)
    if (slot !== NO_SLOT) return this.#hot.expiryAt(slot)
    if (this.#warm === undefined) return 0
    slot = this.#warm.findLive(key, now)
    return slot === NO_SLOT ? 0 : this.#warm.expiryAt(slot)
  }

  /** What `get` does in memory for a key memory does not hold: drops an expired entry, tells the policies of the miss. */
  missed(key: string): void {
    this.#hot.findOrExpire(key, this.#nowFor(this.#hot))
    this.#hot.missed(key)
    const warm = this.#warm
    if (warm === undefined) return
    warm.findOrExpire(key, this.#nowFor(warm))
    warm.missed(key)
  }

  /** Drops the key if it has expired. */
  expireIfDue(key: string): void {
    const now = this.#scheduler.now()
    this.#hot.findOrExpire(key, now)
    this.#warm?.findOrExpire(key, now)
  }

  /** The clock, read only when the tier holds an entry that can expire: reading it is most of a hit's cost. */
  #nowFor(tier: HotTier | WarmTier): number {
    return tier.expiring === 0 ? 0 : this.#scheduler.now()
  }
}
