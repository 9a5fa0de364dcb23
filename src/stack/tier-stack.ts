import type { SchedulerLike } from 'rxjs'
import type { Codec } from '../codec/codec.js'
import { localCodec } from '../codec/default-codec.js'
import type { EvictionReason, TierName } from '../observe/events.js'
import { Notifier } from '../observe/notifier.js'
import type { Watchers } from '../observe/watchers.js'
import type { ResolvedOptions } from '../options/options.js'
import { NO_SLOT } from '../policies/index.js'
import type { LowerTier } from '../tiers/lower-tier.js'
import { TagIndex } from '../tags/tag-index.js'
import { createHotTier, type HotTier } from '../tiers/memory/hot-tier.js'
import { createWarmTier, type WarmTier } from '../tiers/memory/warm-tier.js'
import { ArenaCompaction } from './arena-compaction.js'
import { ExpirySweep } from './expiry-sweep.js'
import { createLowerTiers, type RemoteTierParts } from './lower-tiers.js'
import { LowerCopies } from './lower-copies.js'
import { LowerReads } from './lower-reads.js'
import { MemoryEntries } from './memory-entries.js'
import { MemoryLookups } from './memory-lookups.js'
import { type Departures, MemoryMoves } from './memory-moves.js'
import { tierStats } from './tier-stats.js'
import { checkFits, encodeBelowHot, encodeValue, type Landing } from './value-fit.js'
import { WarmValues } from './warm-values.js'

/**
 * The tiers in order, and the rules that move entries between them. Every
 * read and write of the cache comes through here, already validated:
 *
 * - the tiers: memory's (hot, then warm; synchronous, direct calls), then
 *   `lowerTiers` (`LowerTier`s behind bounded inboxes; see lower-tiers.ts);
 * - get: hot, then warm, then each lower tier (lower-reads.ts); a hit below
 *   hot moves up into hot (memory-moves.ts);
 * - set: the value goes to the top; the copies below are dropped or masked
 *   (lower-copies.ts);
 * - a hot eviction goes into warm (encoded, or with the bytes it came up
 *   with); a warm eviction (or a hot one without warm) to the first lower
 *   tier unless it holds the value already; one no tier takes leaves
 *   (memory-moves.ts);
 * - whether a value that left a lower tier left the cache is judged
 *   against memory (lower-exits.ts).
 *
 * Memory answers synchronously; an answer that needs a lower tier is a Promise.
 */
export class TierStack<V> {
  readonly notifier: Notifier<V>
  /** Which keys carry which tag: kept in step by the notifier, written to and restored from the lower tiers. */
  readonly tags = new TagIndex()
  readonly hot: HotTier
  readonly warm: WarmTier | undefined
  readonly lowerTiers: readonly LowerTier[]
  readonly sweep: ExpirySweep
  /** With warm: the compaction of its arena's slabs. */
  readonly compaction: ArenaCompaction | undefined
  /** Resolves when every lower tier has opened; rejects as the first that cannot (which then serves nothing until it opens). */
  readonly ready: Promise<void>
  readonly #scheduler: SchedulerLike
  readonly #codec: Codec
  /** The first lower tier that takes evictions (the disk): where memory's evictions go. */
  readonly #below: LowerTier | undefined
  /** Whether any tier lies below memory: a read memory misses goes down. */
  readonly #hasLower: boolean
  readonly #reads: LowerReads<V>
  readonly #copies: LowerCopies
  readonly #memory: MemoryEntries
  readonly #lookups: MemoryLookups<V>
  readonly #moves: MemoryMoves<V>
  readonly #warmValues: WarmValues<V> | undefined
  readonly #landing: Landing

  /** `watchers`: the subscribers of `watch(key)`, told of every change the notifier reports. */
  constructor(options: ResolvedOptions, watchers?: Watchers<V>, remote?: RemoteTierParts) {
    const scheduler = (this.#scheduler = options.scheduler)
    // Bytes kept here (warm, disk) share their record shapes; bytes that leave the process use `options.codec` itself.
    const local = localCodec(options.codec, options.cold !== false)
    const codec = (this.#codec = local.codec)
    const encode = (value: unknown): Uint8Array => encodeValue(codec, value)
    const notifier = (this.notifier = new Notifier<V>(scheduler, watchers, this.tags))
    this.hot = createHotTier(options.hot, {
      evicted: (key, value, expiresAt, keptUntil) => this.#moves.hotEvicted(key, value, expiresAt, keptUntil),
      expired: (key) => this.#expired(key),
    })
    if (options.warm !== false) {
      this.warm = createWarmTier(
        options.warm,
        {
          evicted: (key, bytes, expiresAt) => this.#moves.warmEvicted(key, bytes, expiresAt),
          expired: (key) => this.#expired(key),
        },
        () => this.compaction?.arm(),
      )
    }
    if (this.warm !== undefined) {
      this.#warmValues = new WarmValues<V>(this.warm, codec, notifier)
      this.compaction = new ArenaCompaction(this.warm.values, scheduler)
    }
    const lookups = (this.#lookups = new MemoryLookups<V>(this.hot, this.warm, this.#warmValues, scheduler))
    const departures: Departures = {
      holdsInMemory: (key) => lookups.holds(key),
      left: (key, tier, reason) => this.#left(key, tier, reason),
      expired: (key) => this.#expired(key),
    }
    this.lowerTiers = createLowerTiers(options, { ...departures, notifier: notifier as Notifier<unknown>, tags: this.tags }, remote, local.records)
    const below = (this.#below = this.lowerTiers.find((tier) => tier.takesEvictions))
    this.#hasLower = this.lowerTiers.length > 0
    this.#landing = { hot: this.hot, warm: this.warm, below, encode }
    this.ready = this.lowerTiers.length === 0 ? Promise.resolve() : Promise.all(this.lowerTiers.map((tier) => tier.ready)).then(() => undefined)
    this.ready.catch(() => undefined) // the facade reports it
    this.#reads = new LowerReads<V>(this.lowerTiers, codec, {
      lost: (key, error) => notifier.lost(key, error),
      found: (key, value, entry, tier) => this.#moves.promoteFromBelow(key, value, entry, tier),
      counted: (key, tier) => (tier === undefined ? notifier.miss(key) : notifier.hit(key, tier.name)),
    })
    this.#copies = new LowerCopies(this.lowerTiers, this.#reads)
    const memory = (this.#memory = new MemoryEntries(this.hot, this.warm, () => scheduler.now(), encode, notifier as Notifier<unknown>))
    this.#moves = new MemoryMoves<V>({ hot: this.hot, warm: this.warm, warmValues: this.#warmValues, below, memory, scheduler, encode, notifier }, departures)
    this.sweep = new ExpirySweep(this.warm === undefined ? [this.hot] : [this.hot, this.warm], scheduler)
  }

  get(key: string): V | undefined | Promise<V | undefined> {
    const hot = this.hot
    let slot = hot.findOrExpire(key, this.#nowFor(hot))
    if (slot !== NO_SLOT) {
      hot.hit(slot)
      this.notifier.hit(key, 'hot')
      return hot.valueAt(slot) as V
    }
    hot.missed(key)
    const warm = this.warm
    if (warm !== undefined) {
      slot = warm.findOrExpire(key, this.#nowFor(warm))
      if (slot !== NO_SLOT) {
        const value = (this.#warmValues as WarmValues<V>).decode(key, slot)
        if (value !== undefined) {
          const stamp = warm.values.stampAt(slot)
          warm.hit(slot)
          this.notifier.hit(key, 'warm')
          // A listener told of the hit may have changed the slot: then it is not this entry's any more.
          if (warm.values.stampAt(slot) === stamp) this.#moves.promoteFromWarm(key, slot, value)
          return value
        }
      }
      warm.missed(key)
    }
    if (this.#hasLower) return this.#reads.read(key)
    this.notifier.miss(key)
    return undefined
  }

  /**
   * The value memory holds for `key`, live or kept past its expiry as a
   * stale value, with its expiry; touching neither recency nor counters.
   * For read-through's stale-while-revalidate and grace, after a miss.
   */
  findStale(key: string): { value: V; expiresAt: number } | undefined {
    return this.#lookups.findStale(key)
  }

  /**
   * `get` of each key, in order: memory's answers at once, and one read of
   * the tiers below for all the keys memory misses.
   */
  getMany(keys: readonly string[]): (V | undefined)[] | Promise<(V | undefined)[]> {
    const results = new Array<V | undefined>(keys.length)
    let below: string[] | undefined
    let at: number[] | undefined
    let pending: Promise<unknown>[] | undefined
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      results[i] = undefined
      if (!this.#hasLower || this.#lookups.holds(key)) {
        const found = this.get(key)
        // A warm copy that failed to decode is read from below, as get reads it.
        if (found instanceof Promise) (pending ??= []).push(found.then((value) => (results[i] = value)))
        else results[i] = found
        continue
      }
      this.#lookups.missed(key)
      ;(below ??= []).push(key)
      ;(at ??= []).push(i)
    }
    if (below !== undefined) {
      const where = at as number[]
      const read = this.#reads.readMany(below).then((values) => {
        for (let i = 0; i < values.length; i++) results[where[i]] = values[i]
      })
      ;(pending ??= []).push(read)
    }
    if (pending === undefined) return results
    return Promise.all(pending).then(() => results)
  }

  /** The value in memory now, touching neither recency nor counters. */
  peek(key: string): V | undefined {
    return this.#lookups.peek(key)
  }

  /** The value only a lower tier holds, read as `peek` reads memory: neither moved up nor counted. Undefined without lower tiers. */
  peekBelow(key: string): Promise<V | undefined> | undefined {
    return this.#hasLower ? this.#reads.peek(key) : undefined
  }

  has(key: string): boolean | Promise<boolean> {
    return this.#lookups.holds(key) || this.#reads.has(key)
  }

  /** Whether any tier holds a live entry for the key, without I/O (a lower tier not yet open holds nothing). */
  holds(key: string): boolean {
    if (this.#lookups.holds(key)) return true
    const now = this.#scheduler.now()
    for (const tier of this.lowerTiers) if (tier.holds(key, now)) return true
    return false
  }

  /** The key's absolute expiry if memory holds it, 0 for none or absent. */
  expiryOf(key: string): number {
    return this.#lookups.expiryOf(key)
  }

  /** Each tier's figures for `stats()`. */
  stats(): ReturnType<typeof tierStats> {
    return tierStats(this.hot, this.warm, this.#below, this.lowerTiers)
  }

  /** Throws `E_INVALID_VALUE` when the value could never be stored by the tiers configured. */
  checkFits(key: string, value: V): void {
    checkFits(this.#landing, key, value, this.#codec)
  }

  /**
   * Stores a validated value; `ttl` 0 means none, Infinity means never. A
   * Promise when the value goes straight to a lower tier whose inbox is full
   * and waits: it resolves once there is room (the value is stored already).
   * `kept`: ms memory keeps the entry past its expiry as a stale value (for
   * read-through's stale-while-revalidate and grace); tiers below memory
   * keep only its expiry.
   */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined, kept = 0): undefined | Promise<void> {
    const expiresAt = ttl === 0 || ttl === Infinity ? 0 : this.#scheduler.now() + ttl
    const keptUntil = kept === 0 || expiresAt === 0 ? 0 : expiresAt + kept
    if (this.hot.set(key, value, expiresAt, keptUntil)) {
      this.warm?.delete(key)
      if (this.#hasLower) this.#copies.mask(key)
      this.sweep.arm()
      this.notifier.written(key, value, expiresAt, tags)
      return
    }
    // Too large for hot: encoded for the first tier below that takes it, or refused with nothing changed.
    const bytes = encodeBelowHot(this.#landing, key, value)
    const warm = this.warm
    const below = warm === undefined || !warm.accepts(key, bytes) ? (this.#below as LowerTier) : undefined
    below?.checkRoom()
    this.hot.delete(key)
    warm?.delete(key)
    if (this.#hasLower) this.#copies.mask(key)
    if (below === undefined) {
      ;(warm as WarmTier).set(key, bytes, expiresAt, keptUntil)
      this.sweep.arm()
      this.notifier.written(key, value, expiresAt, tags)
      return
    }
    const put = below.put({ key, stored: bytes, expiresAt })
    if (typeof put === 'string') {
      this.#left(key, below.name, put)
      this.notifier.written(key, undefined, 0, undefined)
      return
    }
    this.sweep.arm()
    this.notifier.written(key, value, expiresAt, tags)
    return put
  }

  /**
   * Deletes the key from every tier: whether a live entry was there (a disk
   * copy counts once the store is open), and the tombstone's write if any.
   */
  delete(key: string): { existed: boolean; tombstone: Promise<boolean> | undefined } {
    const now = this.#scheduler.now()
    let existed = false
    let slot = this.hot.findOrExpire(key, now)
    if (slot !== NO_SLOT) {
      this.hot.removeAt(slot)
      existed = true
    } else this.#dropStale(this.hot, key, now)
    if (this.warm !== undefined) {
      slot = this.warm.findOrExpire(key, now)
      if (slot !== NO_SLOT) {
        this.warm.removeAt(slot)
        existed = true
      } else this.#dropStale(this.warm, key, now)
    }
    let tombstone: Promise<boolean> | undefined
    if (this.#hasLower) {
      const below = this.#copies.invalidate(key, now)
      existed = below.held || existed
      tombstone = below.tombstone
    }
    if (existed) this.notifier.deleted(key)
    // Before a lower tier has opened, whether it held the key is known only once the tombstone is down.
    else if (tombstone !== undefined) {
      tombstone = tombstone.then((found) => {
        if (found) this.notifier.deleted(key)
        return found
      })
    }
    return { existed, tombstone }
  }

  /**
   * The keys that carry `tag`. With a lower tier that has not opened yet, once
   * it has (or has failed to): the tags of keys only it holds are known from then on.
   */
  keysOfTag(tag: string): readonly string[] | Promise<readonly string[]> {
    if (this.lowerTiers.every((tier) => tier.isOpen)) return this.tags.keysOf(tag)
    const keys = (): readonly string[] => this.tags.keysOf(tag)
    return this.ready.then(keys, keys)
  }

  /** Empties memory at once; the returned Promise empties the tiers below. */
  clear(): Promise<void> | undefined {
    this.hot.reset()
    this.#moves.cleared()
    this.warm?.reset()
    this.compaction?.stop()
    this.sweep.restart()
    const below = this.#hasLower ? this.#copies.clear() : undefined
    this.notifier.cleared()
    return below
  }

  /** Writes every entry held in memory to the tiers below and makes it durable; resolves at once without one. */
  async checkpoint(): Promise<void> {
    if (!this.#hasLower) return
    await this.#memory.handDown(this.lowerTiers, (tier, memory) => tier.checkpoint(memory))
  }

  /** Drops `key` if it has expired; for a watched key's expiry timer. */
  expireIfDue(key: string): void {
    this.#lookups.expireIfDue(key)
  }

  /** Closes the tiers below (each checkpoints first), then ends the notifier. */
  async close(): Promise<void> {
    this.sweep.close()
    this.compaction?.stop()
    try {
      await this.#memory.handDown(this.lowerTiers, (tier, memory) => tier.close(memory))
    } finally {
      this.notifier.complete()
    }
  }

  /** A delete drops an entry kept past its expiry too, so that it is never served stale: it is told expired now. */
  #dropStale(tier: HotTier | WarmTier, key: string, now: number): void {
    const slot = tier.findStale(key, now)
    if (slot === NO_SLOT) return
    tier.removeAt(slot)
    this.#expired(key)
  }

  /** An entry expired in memory; what its write owes the tiers below goes down. */
  #expired(key: string): void {
    this.#copies.released(key)
    this.notifier.expired(key)
  }

  /** An entry left the cache from `tier` for `reason`; what its write owes the tiers below goes down. */
  #left(key: string, tier: TierName, reason: EvictionReason): void {
    this.#copies.released(key)
    this.notifier.evicted(key, tier, reason)
  }

  /** The clock, read only when the tier holds an entry that can expire: reading it is most of a hit's cost. */
  #nowFor(tier: HotTier | WarmTier): number {
    return tier.expiring === 0 ? 0 : this.#scheduler.now()
  }
}
