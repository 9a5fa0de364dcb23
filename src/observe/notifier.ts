import type { SchedulerLike } from 'rxjs'
import type { CacheError } from '../errors.js'
import { EventBus } from './event-bus.js'
import type { BusState, EvictionReason, TierName } from './events.js'
import { StatsCounters } from './stats.js'
import type { TagIndex } from '../tags/tag-index.js'
import type { Watchers } from './watchers.js'

/**
 * Tells everyone who keeps account of entries what just happened to one: the
 * counters behind `stats()`, `events$` (only while someone listens: no event
 * object is built otherwise), and what it is given to keep in step with the
 * keys' values: the tag index and the watchers. The tiers and
 * flows decide; this only reports, so that each outcome is counted and told
 * the same way wherever it happens.
 */
export class Notifier<V> {
  readonly counters = new StatsCounters()
  readonly bus = new EventBus()
  readonly #watchers: Watchers<V> | undefined
  readonly #tags: TagIndex | undefined
  readonly #scheduler: SchedulerLike

  /**
   * `watchers`: the subscribers of `watch(key)`, told of every change of a
   * key's value; `tags`: the tag index, whose keys leave it with their values.
   */
  constructor(scheduler: SchedulerLike, watchers?: Watchers<V>, tags?: TagIndex) {
    this.#scheduler = scheduler
    this.#watchers = watchers
    this.#tags = tags
  }

  hit(key: string, tier: TierName): void {
    this.counters.hits++
    if (this.bus.listening) this.#emitHit(key, tier)
  }

  // The read path's emissions live apart, so that `hit` and `miss` stay small enough to inline into every
  // read (inline, the event's construction took V8's inlining budget: 1.11 x the read without it, now 1.05).
  #emitHit(key: string, tier: TierName): void {
    this.bus.emit({ type: 'hit', key, tier, at: this.#scheduler.now() })
  }

  #emitMiss(key: string): void {
    this.bus.emit({ type: 'miss', key, at: this.#scheduler.now() })
  }

  miss(key: string): void {
    this.counters.misses++
    if (this.bus.listening) this.#emitMiss(key)
  }

  written(key: string, value: V | undefined, expiresAt: number, tags: readonly string[] | undefined): void {
    this.counters.sets++
    const index = this.#tags
    if (index !== undefined && (tags !== undefined || index.size !== 0)) index.set(key, tags)
    if (this.bus.listening) this.bus.emit({ type: 'set', key, at: this.#scheduler.now() })
    if (value !== undefined) this.#watchers?.changed(key, value, expiresAt)
  }

  deleted(key: string): void {
    this.counters.deletes++
    if (this.bus.listening) this.bus.emit({ type: 'delete', key, at: this.#scheduler.now() })
    this.#gone(key)
  }

  demoted(key: string, from: TierName, to: TierName): void {
    this.counters.demotions++
    if (this.bus.listening) this.bus.emit({ type: 'demote', key, from, to, at: this.#scheduler.now() })
  }

  promoted(key: string, from: TierName, to: TierName): void {
    this.counters.promotions++
    if (this.bus.listening) this.bus.emit({ type: 'promote', key, from, to, at: this.#scheduler.now() })
  }

  /** The loader or a `getOrSet` factory was called for a key every tier missed; `ms` on the scheduler's clock. */
  loaded(key: string, ms: number): void {
    this.counters.loads++
    if (this.bus.listening) this.bus.emit({ type: 'load', key, ms, at: this.#scheduler.now() })
  }

  /** A load ahead of use has started. */
  prefetched(key: string): void {
    this.counters.prefetches++
    if (this.bus.listening) this.bus.emit({ type: 'prefetch', key, at: this.#scheduler.now() })
  }

  /** A read found the entry loaded ahead for it. */
  prefetchHit(key: string): void {
    this.counters.prefetchHits++
    this.hit(key, 'hot')
  }

  /** The entry left the cache for room. */
  evicted(key: string, tier: TierName, reason: EvictionReason): void {
    this.counters.evictions++
    if (this.bus.listening) this.bus.emit({ type: 'evict', key, tier, reason, at: this.#scheduler.now() })
    this.#gone(key)
  }

  expired(key: string): void {
    this.counters.expirations++
    if (this.bus.listening) this.bus.emit({ type: 'expire', key, at: this.#scheduler.now() })
    this.#gone(key)
  }

  /** The value stored under `key` could not be read back: it is gone. */
  lost(key: string, error: CacheError): void {
    this.error(error, key)
    this.#gone(key)
  }

  error(error: CacheError, key?: string): void {
    if (this.bus.listening) this.bus.emit({ type: 'error', key, error, at: this.#scheduler.now() })
  }

  /** A write-back batch of `count` ops reached the source in `ms`. */
  flushed(count: number, ms: number): void {
    this.counters.written += count
    if (this.bus.listening) this.bus.emit({ type: 'flush', count, ms, at: this.#scheduler.now() })
  }

  /** A write-back batch failed every try (or a write-through call failed): its keys stay dirty (or were dropped). */
  writeFailed(keys: string[], error: CacheError): void {
    this.counters.writeErrors++
    if (this.bus.listening) this.bus.emit({ type: 'write-error', keys, error, at: this.#scheduler.now() })
  }

  /** A lower tier stopped working; memory serves without it. */
  degraded(tier: TierName, error: CacheError): void {
    if (this.bus.listening) this.bus.emit({ type: 'degraded', tier, error, at: this.#scheduler.now() })
  }

  recovered(tier: TierName): void {
    if (this.bus.listening) this.bus.emit({ type: 'recovered', tier, at: this.#scheduler.now() })
  }

  /** The coherence bus's connection changed. */
  busChanged(state: BusState, replayed?: number, dropped?: number): void {
    if (!this.bus.listening) return
    const at = this.#scheduler.now()
    this.bus.emit(state === 'resynced' ? { type: 'bus', state, replayed: replayed ?? 0, dropped: dropped ?? 0, at } : { type: 'bus', state, at })
  }

  cleared(): void {
    this.#tags?.clear()
    if (this.bus.listening) this.bus.emit({ type: 'clear', at: this.#scheduler.now() })
    this.#watchers?.cleared()
  }

  complete(): void {
    this.bus.complete()
  }

  #gone(key: string): void {
    this.#tags?.remove(key)
    this.#watchers?.changed(key, undefined, 0)
  }
}
