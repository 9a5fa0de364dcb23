import { Subject, type SchedulerLike, type Subscription } from 'rxjs'
import { demote } from '../streams/demote.js'
import { promote } from '../streams/promote.js'
import type { Codec } from './codec/codec.js'
import { CacheError } from './errors.js'
import { EventBus } from './event-bus.js'
import type { EvictionReason, TierName } from './events.js'
import type { ResolvedOptions } from './options.js'
import { NO_SLOT } from './policies/index.js'
import { StatsCounters } from './stats.js'
import { TagIndex } from './tag-index.js'
import { createHotTier, type HotTier } from './tiers/hot/hot-tier.js'
import { createWarmTier, type WarmTier } from './tiers/warm/warm-tier.js'
import type { Watchers } from './watchers.js'

/** An entry on its way between tiers. */
export interface Moving<S> {
  key: string
  stored: S
  expiresAt: number
}

// Expired entries dropped per slice: about a millisecond of work.
const SWEEP_SLICE = 1024

/**
 * The tiers in order, and the rules that move entries between them. Every
 * read and write of the cache comes through here, already validated:
 *
 * - get: hot, then warm; a warm hit is decoded and offered to `promote`.
 * - set: the value goes to the top; the key's copy in a lower tier is dropped.
 * - a hot eviction goes through `demote` into warm, encoded; a warm eviction
 *   leaves the cache.
 */
export class TierStack<V> {
  readonly counters = new StatsCounters()
  readonly tags = new TagIndex()
  readonly bus = new EventBus()
  readonly hot: HotTier
  readonly warm: WarmTier | undefined
  watchers: Watchers<V> | undefined
  readonly #scheduler: SchedulerLike
  readonly #codec: Codec
  readonly #hotEvictions = new Subject<Moving<unknown>>()
  readonly #warmHits = new Subject<Moving<V>>()
  readonly #flows: Subscription[] = []
  #sweepTier: 0 | 1 = 0
  #sweepCursor = 0

  constructor(options: ResolvedOptions) {
    this.#scheduler = options.scheduler
    this.#codec = options.codec
    this.hot = createHotTier(options.hot, {
      evicted: (key, value, expiresAt) => {
        if (this.warm === undefined) this.#left(key, 'hot', 'capacity')
        else this.#hotEvictions.next({ key, stored: value, expiresAt })
      },
      expired: (key) => this.#expired(key),
    })
    if (options.warm === false) return
    this.warm = createWarmTier(options.warm, {
      evicted: (key) => this.#left(key, 'warm', 'capacity'),
      expired: (key) => this.#expired(key),
    })
    this.#flows.push(
      this.#hotEvictions
        .pipe(demote({ expired: (entry) => this.#expired(entry.key) }, this.#scheduler))
        .subscribe((batch) => {
          for (const entry of batch) this.#demote(entry)
        }),
      this.#warmHits.pipe(promote({ after: 1 }, this.#scheduler)).subscribe((hit) => this.#promote(hit)),
    )
  }

  now(): number {
    return this.#scheduler.now()
  }

  get(key: string): V | undefined {
    const hot = this.hot
    let slot = hot.find(key, this.#nowFor(hot))
    if (slot !== NO_SLOT) {
      hot.hit(slot)
      this.counters.hits++
      if (this.bus.listening) this.bus.emit({ type: 'hit', key, tier: 'hot', at: this.now() })
      return hot.valueAt(slot) as V
    }
    const warm = this.warm
    if (warm !== undefined) {
      slot = warm.find(key, this.#nowFor(warm))
      if (slot !== NO_SLOT) {
        const value = this.#decode(key, slot)
        if (value !== undefined) {
          warm.hit(slot)
          this.counters.hits++
          if (this.bus.listening) this.bus.emit({ type: 'hit', key, tier: 'warm', at: this.now() })
          this.#warmHits.next({ key, stored: value, expiresAt: warm.expiryAt(slot) })
          return value
        }
      }
    }
    this.counters.misses++
    if (this.bus.listening) this.bus.emit({ type: 'miss', key, at: this.now() })
    return undefined
  }

  /** The value in memory now, touching neither recency nor counters. */
  peek(key: string): V | undefined {
    const slot = this.hot.findQuietly(key, this.#nowFor(this.hot))
    if (slot !== NO_SLOT) return this.hot.valueAt(slot) as V
    const warm = this.warm
    if (warm === undefined) return undefined
    const warmSlot = warm.findQuietly(key, this.#nowFor(warm))
    return warmSlot === NO_SLOT ? undefined : this.#decode(key, warmSlot)
  }

  has(key: string): boolean {
    if (this.hot.findQuietly(key, this.#nowFor(this.hot)) !== NO_SLOT) return true
    const warm = this.warm
    return warm !== undefined && warm.findQuietly(key, this.#nowFor(warm)) !== NO_SLOT
  }

  /** The key's absolute expiry wherever it is, 0 for none or absent. */
  expiryOf(key: string): number {
    const now = this.#scheduler.now()
    let slot = this.hot.findQuietly(key, now)
    if (slot !== NO_SLOT) return this.hot.expiryAt(slot)
    if (this.warm === undefined) return 0
    slot = this.warm.findQuietly(key, now)
    return slot === NO_SLOT ? 0 : this.warm.expiryAt(slot)
  }

  /** Stores a validated value; `ttl` 0 means none, Infinity means never. */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): void {
    const expiresAt = ttl === 0 || ttl === Infinity ? 0 : this.#scheduler.now() + ttl
    this.warm?.delete(key)
    if (!this.hot.set(key, value, expiresAt)) {
      this.hot.delete(key)
      if (!this.#setWarm(key, value, expiresAt)) {
        this.#left(key, this.warm === undefined ? 'hot' : 'warm', 'too-large')
        return this.#written(key)
      }
    }
    if (tags !== undefined || this.tags.size !== 0) this.tags.set(key, tags)
    this.#written(key)
    this.watchers?.changed(key, value, expiresAt)
  }

  delete(key: string): boolean {
    const now = this.#scheduler.now()
    let existed = false
    let slot = this.hot.find(key, now)
    if (slot !== NO_SLOT) {
      this.hot.removeAt(slot)
      existed = true
    }
    if (this.warm !== undefined) {
      slot = this.warm.find(key, now)
      if (slot !== NO_SLOT) {
        this.warm.removeAt(slot)
        existed = true
      }
    }
    if (!existed) return false
    this.counters.deletes++
    this.tags.remove(key)
    if (this.bus.listening) this.bus.emit({ type: 'delete', key, at: now })
    this.watchers?.changed(key, undefined, 0)
    return true
  }

  clear(): void {
    this.hot.reset()
    this.warm?.reset()
    this.tags.clear()
    this.#sweepCursor = 0
    this.#sweepTier = 0
    if (this.bus.listening) this.bus.emit({ type: 'clear', at: this.now() })
    this.watchers?.cleared()
  }

  /** Drops `key` if it has expired; for a watched key's expiry timer. */
  expireIfDue(key: string): void {
    const now = this.#scheduler.now()
    this.hot.find(key, now)
    this.warm?.find(key, now)
  }

  /** Whether any entry carries an expiry. */
  get expiring(): boolean {
    return this.hot.expiring !== 0 || (this.warm !== undefined && this.warm.expiring !== 0)
  }

  /** One bounded slice of the expiry sweep over every tier; true while the sweep has more to do. */
  sweepSlice(): boolean {
    const tier = this.#sweepTier === 0 ? this.hot : this.warm
    if (tier !== undefined && tier.expiring !== 0) {
      this.#sweepCursor = tier.sweep(this.#sweepCursor, SWEEP_SLICE, this.#scheduler.now())
      if (this.#sweepCursor !== -1) return true
    }
    this.#sweepCursor = 0
    if (this.#sweepTier === 0 && this.warm !== undefined) {
      this.#sweepTier = 1
      return true
    }
    this.#sweepTier = 0
    return false
  }

  close(): void {
    for (const flow of this.#flows) flow.unsubscribe()
    this.#hotEvictions.complete()
    this.#warmHits.complete()
    this.bus.complete()
  }

  /** Encodes, or refuses: the reason a value cannot go into a byte tier. */
  encode(value: unknown): Uint8Array {
    try {
      return this.#codec.encode(value)
    } catch (error) {
      throw new CacheError('E_INVALID_VALUE', `the codec '${this.#codec.name}' cannot encode the value`, {
        cause: error,
      })
    }
  }

  /** The clock, read only when the tier holds an entry that can expire: Date.now() is most of a hit's cost. */
  #nowFor(tier: HotTier | WarmTier): number {
    return tier.expiring === 0 ? 0 : this.#scheduler.now()
  }

  #setWarm(key: string, value: unknown, expiresAt: number): boolean {
    return this.warm !== undefined && this.warm.set(key, this.encode(value), expiresAt)
  }

  #decode(key: string, slot: number): V | undefined {
    const warm = this.warm as WarmTier
    try {
      return this.#codec.decode(warm.valueAt(slot)) as V
    } catch (error) {
      warm.removeAt(slot)
      this.#error(new CacheError('E_CODEC', `cannot decode the value of '${key}'`, { cause: error }), key)
      this.#gone(key)
      return undefined
    }
  }

  #demote(entry: Moving<unknown>): void {
    let bytes: Uint8Array
    try {
      bytes = this.encode(entry.stored)
    } catch (error) {
      this.#error(error as CacheError, entry.key)
      this.#left(entry.key, 'hot', 'capacity')
      return
    }
    if (!(this.warm as WarmTier).set(entry.key, bytes, entry.expiresAt)) {
      this.#left(entry.key, 'hot', 'too-large')
      return
    }
    this.counters.demotions++
    if (this.bus.listening) this.bus.emit({ type: 'demote', key: entry.key, from: 'hot', to: 'warm', at: this.now() })
  }

  #promote(hit: Moving<V>): void {
    const warm = this.warm as WarmTier
    const slot = warm.findQuietly(hit.key, this.#scheduler.now())
    if (slot === NO_SLOT) return
    const bytes = warm.valueAt(slot)
    warm.removeAt(slot)
    if (!this.hot.set(hit.key, hit.stored, hit.expiresAt)) {
      warm.set(hit.key, bytes, hit.expiresAt)
      return
    }
    this.counters.promotions++
    if (this.bus.listening) this.bus.emit({ type: 'promote', key: hit.key, from: 'warm', to: 'hot', at: this.now() })
  }

  #written(key: string): void {
    this.counters.sets++
    if (this.bus.listening) this.bus.emit({ type: 'set', key, at: this.now() })
  }

  #left(key: string, tier: TierName, reason: EvictionReason): void {
    this.counters.evictions++
    if (this.bus.listening) this.bus.emit({ type: 'evict', key, tier, reason, at: this.now() })
    this.#gone(key)
  }

  #expired(key: string): void {
    this.counters.expirations++
    if (this.bus.listening) this.bus.emit({ type: 'expire', key, at: this.now() })
    this.#gone(key)
  }

  #gone(key: string): void {
    this.tags.remove(key)
    this.watchers?.changed(key, undefined, 0)
  }

  #error(error: CacheError, key: string): void {
    if (this.bus.listening) this.bus.emit({ type: 'error', key, error, at: this.now() })
  }
}
