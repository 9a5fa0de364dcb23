import { Subject, type SchedulerLike, type Subscription } from 'rxjs'
import { demote } from '../../streams/demote.js'
import { promote } from '../../streams/promote.js'
import type { Codec } from '../codec/codec.js'
import { ColdLink } from '../tiers/cold/cold-link.js'
import { CacheError } from '../errors.js'
import type { EvictionReason, TierName } from '../observe/events.js'
import { ExpirySweep } from './expiry-sweep.js'
import type { ResolvedOptions } from '../options/options.js'
import { Notifier } from '../observe/notifier.js'
import { PeekSnapshots } from './peek-snapshots.js'
import { NO_SLOT } from '../policies/index.js'
import type { ColdEntry } from '../tiers/cold/cold-tier.js'
import { createHotTier, type HotTier } from '../tiers/memory/hot-tier.js'
import { createWarmTier, type WarmTier } from '../tiers/memory/warm-tier.js'

/** An entry on its way between tiers. */
export interface Moving<S> {
  key: string
  stored: S
  expiresAt: number
}

/** A hit in a lower tier, offered to the promotion flow. */
interface LowerHit<V> extends Moving<V> {
  from: 'warm' | 'cold'
  bytes: Uint8Array
}

/**
 * The tiers in order, and the rules that move entries between them. Every
 * read and write of the cache comes through here, already validated:
 *
 * - get: hot, then warm, then cold; a lower hit is decoded and offered to `promote`.
 * - set: the value goes to the top; the key's copies below are dropped.
 * - a hot eviction goes through `demote` into warm, encoded; a warm eviction
 *   goes to cold (see `ColdLink`), or leaves the cache without one.
 *
 * Memory answers synchronously; an answer that needs the disk is a Promise.
 */
export class TierStack<V> {
  readonly notifier: Notifier<V>
  readonly hot: HotTier
  readonly warm: WarmTier | undefined
  readonly cold: ColdLink<V> | undefined
  readonly #scheduler: SchedulerLike
  readonly #codec: Codec
  readonly #hotEvictions = new Subject<Moving<unknown>>()
  readonly #lowerHits = new Subject<LowerHit<V>>()
  readonly #flows: Subscription[] = []
  readonly sweep: ExpirySweep
  /** While a checkpoint runs: keys moved from hot to warm behind its back, to write at its end. */
  #movedDuringCheckpoint: Set<string> | undefined
  /** What `peek` decoded from warm, made on its first warm peek. */
  #peekSnapshots: PeekSnapshots<V> | undefined

  constructor(options: ResolvedOptions, notifier = new Notifier<V>(options.scheduler)) {
    this.#scheduler = options.scheduler
    this.#codec = options.codec
    this.notifier = notifier
    this.hot = createHotTier(options.hot, {
      evicted: (key, value, expiresAt) => {
        if (this.warm !== undefined) this.#hotEvictions.next({ key, stored: value, expiresAt })
        else if (this.cold !== undefined) this.#demoteToCold(key, value, expiresAt)
        else notifier.evicted(key, 'hot', 'capacity')
      },
      expired: (key) => this.#expired(key),
    })
    if (options.warm !== false) {
      this.warm = createWarmTier(options.warm, {
        evicted: (key, bytes, expiresAt) => {
          if (this.cold !== undefined) this.cold.demote(key, bytes, expiresAt, 'warm')
          else notifier.evicted(key, 'warm', 'capacity')
        },
        expired: (key) => this.#expired(key),
      })
      this.#flows.push(
        this.#hotEvictions
          .pipe(demote({ expired: (entry) => this.#expired(entry.key) }, this.#scheduler))
          .subscribe((batch) => {
            for (const entry of batch) this.#demote(entry)
          }),
      )
    }
    if (options.cold !== false) {
      this.cold = new ColdLink<V>(options.cold, options.codec, options.scheduler, notifier, {
        promote: (key, value, bytes, expiresAt) => this.#lowerHits.next({ key, stored: value, bytes, expiresAt, from: 'cold' }),
        memoryEntries: () => this.#memoryEntries(),
        inMemory: (key) => this.holdsInMemory(key),
        memoryKeys: () => this.#memoryKeys(),
      })
    }
    this.#flows.push(this.#lowerHits.pipe(promote({ after: 1 }, this.#scheduler)).subscribe((hit) => this.#promote(hit)))
    this.sweep = new ExpirySweep(this.warm === undefined ? [this.hot] : [this.hot, this.warm], this.#scheduler)
  }

  now(): number {
    return this.#scheduler.now()
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
        const value = this.#decode(key, slot)
        if (value !== undefined) {
          warm.hit(slot)
          this.notifier.hit(key, 'warm')
          this.#lowerHits.next({ key, stored: value, bytes: warm.valueAt(slot), expiresAt: warm.expiryAt(slot), from: 'warm' })
          return value
        }
      }
      warm.missed(key)
    }
    if (this.cold !== undefined) return this.cold.read(key)
    this.notifier.miss(key)
    return undefined
  }

  /** The value in memory now, touching neither recency nor counters. */
  peek(key: string): V | undefined {
    const slot = this.hot.findLive(key, this.#nowFor(this.hot))
    if (slot !== NO_SLOT) return this.hot.valueAt(slot) as V
    const warm = this.warm
    if (warm === undefined) return undefined
    const warmSlot = warm.findLive(key, this.#nowFor(warm))
    return warmSlot === NO_SLOT ? undefined : this.#warmSnapshot(key, warmSlot)
  }

  /** The warm value at `slot` as `peek` last decoded it, while its bytes are unchanged: a stable snapshot. */
  #warmSnapshot(key: string, slot: number): V | undefined {
    const value = this.#decode(key, slot)
    if (value !== undefined) this.#snapshots().remember(key, (this.warm as WarmTier).valueAt(slot), value)
    return value
  }

  /**
   * The values last seen as objects of the keys warm holds as bytes: what a
   * peek decoded, and what hot held when it went down (values are frozen,
   * so sharing them is safe). Reads of those bytes give that same object
   * back, so a snapshot stays the same object across moves between tiers.
   */
  #snapshots(): PeekSnapshots<V> {
    // A sixteenth of warm's budget in encodings: the decoded copies stay a fraction of what warm holds.
    return (this.#peekSnapshots ??= new PeekSnapshots<V>((this.warm as WarmTier).maxBytes / 16))
  }

  has(key: string): boolean | Promise<boolean> {
    if (this.hot.findLive(key, this.#nowFor(this.hot)) !== NO_SLOT) return true
    const warm = this.warm
    if (warm !== undefined && warm.findLive(key, this.#nowFor(warm)) !== NO_SLOT) return true
    return this.cold !== undefined ? this.cold.has(key) : false
  }

  /** Whether hot or warm holds a live entry for the key, touching nothing. */
  holdsInMemory(key: string): boolean {
    if (this.hot.findLive(key, this.#nowFor(this.hot)) !== NO_SLOT) return true
    return this.warm !== undefined && this.warm.findLive(key, this.#nowFor(this.warm)) !== NO_SLOT
  }

  /** The key's absolute expiry if memory holds it, 0 for none or absent. */
  expiryOf(key: string): number {
    const now = this.#scheduler.now()
    let slot = this.hot.findLive(key, now)
    if (slot !== NO_SLOT) return this.hot.expiryAt(slot)
    if (this.warm === undefined) return 0
    slot = this.warm.findLive(key, now)
    return slot === NO_SLOT ? 0 : this.warm.expiryAt(slot)
  }

  /** Throws `E_INVALID_VALUE` when the value could never be stored by the tiers configured. */
  checkFits(key: string, value: V): void {
    this.cold?.checkFits(key, value)
    if (!this.hot.accepts(key, value)) this.#encodeBelowHot(key, value)
  }

  /** Stores a validated value; `ttl` 0 means none, Infinity means never. */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): void {
    const expiresAt = ttl === 0 || ttl === Infinity ? 0 : this.#scheduler.now() + ttl
    if (this.hot.set(key, value, expiresAt)) {
      this.warm?.delete(key)
      this.cold?.mask(key)
      this.sweep.arm()
      return this.notifier.written(key, value, expiresAt, tags)
    }
    // Too large for hot: encoded for the first tier below that takes it, or refused with nothing changed.
    const bytes = this.#encodeBelowHot(key, value)
    this.hot.delete(key)
    this.warm?.delete(key)
    this.cold?.mask(key)
    if (this.warm === undefined || !this.warm.set(key, bytes, expiresAt)) {
      const refused = (this.cold as ColdLink<V>).place(key, bytes, expiresAt)
      if (refused !== undefined) {
        this.#left(key, 'cold', refused)
        return this.notifier.written(key, undefined, 0, undefined)
      }
    }
    this.sweep.arm()
    this.notifier.written(key, value, expiresAt, tags)
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
    }
    if (this.warm !== undefined) {
      slot = this.warm.findOrExpire(key, now)
      if (slot !== NO_SLOT) {
        this.warm.removeAt(slot)
        existed = true
      }
    }
    let tombstone: Promise<boolean> | undefined
    if (this.cold !== undefined) {
      existed = this.cold.tier.holds(key, now) || existed
      tombstone = this.cold.invalidate(key)
    }
    if (existed) this.notifier.deleted(key)
    // Before the store has opened, whether the disk held the key is known only once the tombstone is down.
    else if (tombstone !== undefined) {
      tombstone = tombstone.then((found) => {
        if (found) this.notifier.deleted(key)
        return found
      })
    }
    return { existed, tombstone }
  }

  /**
   * The keys that carry `tag`. With a cold tier that has not opened yet, once
   * it has: the tags of keys only the disk holds are known from then on.
   */
  keysOfTag(tag: string): readonly string[] | Promise<readonly string[]> {
    const cold = this.cold
    if (cold === undefined || cold.tier.isOpen) return this.notifier.tags.keysOf(tag)
    return cold.tier.ready.then(() => this.notifier.tags.keysOf(tag))
  }

  /** Empties memory at once; the returned Promise empties the disk. */
  clear(): Promise<void> | undefined {
    this.hot.reset()
    this.warm?.reset()
    this.sweep.restart()
    const disk = this.cold?.clear()
    this.notifier.cleared()
    return disk
  }

  /** Writes every entry held in memory to disk and makes it durable; resolves at once without a cold tier. */
  async checkpoint(): Promise<void> {
    if (this.cold === undefined) return
    this.#movedDuringCheckpoint = new Set()
    try {
      await this.cold.checkpoint()
    } finally {
      this.#movedDuringCheckpoint = undefined
    }
  }

  /** Drops `key` if it has expired; for a watched key's expiry timer. */
  expireIfDue(key: string): void {
    const now = this.#scheduler.now()
    this.hot.findOrExpire(key, now)
    this.warm?.findOrExpire(key, now)
  }

  /** Stops the flows; with a cold tier, checkpoints and closes the store first. */
  async close(): Promise<void> {
    this.sweep.close()
    try {
      await this.cold?.close()
    } finally {
      for (const flow of this.#flows) flow.unsubscribe()
      this.#hotEvictions.complete()
      this.#lowerHits.complete()
      this.notifier.complete()
    }
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

  /** An entry expired in memory; a tombstone its write owes the disk goes down. */
  #expired(key: string): void {
    this.cold?.released(key)
    this.notifier.expired(key)
  }

  /** An entry left the cache from `tier` for `reason`; a tombstone its write owes the disk goes down. */
  #left(key: string, tier: TierName, reason: EvictionReason): void {
    this.cold?.released(key)
    this.notifier.evicted(key, tier, reason)
  }

  /** The clock, read only when the tier holds an entry that can expire: reading it is most of a hit's cost. */
  #nowFor(tier: HotTier | WarmTier): number {
    return tier.expiring === 0 ? 0 : this.#scheduler.now()
  }

  /**
   * The bytes of a value too large for hot, when a tier below can hold them;
   * otherwise `E_INVALID_VALUE`, since no tier could keep the value.
   */
  #encodeBelowHot(key: string, value: unknown): Uint8Array {
    const tooLarge = (what: string): CacheError =>
      new CacheError('E_INVALID_VALUE', `the value of '${key}' is too large for ${what}: no tier could hold it`)
    if (this.warm === undefined && this.cold === undefined) throw tooLarge(`hot.maxBytes (${this.hot.maxBytes})`)
    const bytes = this.encode(value)
    if (this.warm?.accepts(key, bytes) === true || this.cold?.tier.fits(key, bytes.byteLength) === true) return bytes
    throw tooLarge(`hot.maxBytes and every tier below (${bytes.byteLength} bytes encoded)`)
  }

  #demoteToCold(key: string, value: unknown, expiresAt: number): void {
    const cold = this.cold as ColdLink<V>
    // A value read from disk and promoted is still there: no encoding to find that out.
    if (cold.tier.holds(key, this.#scheduler.now())) return this.notifier.demoted(key, 'hot', 'cold')
    let bytes: Uint8Array
    try {
      bytes = this.encode(value)
    } catch (error) {
      this.notifier.error(error as CacheError, key)
      return this.#left(key, 'hot', 'capacity')
    }
    cold.demote(key, bytes, expiresAt, 'hot')
  }

  #decode(key: string, slot: number): V | undefined {
    const warm = this.warm as WarmTier
    const known = this.#peekSnapshots?.get(key, warm.valueAt(slot))
    if (known !== undefined) return known
    try {
      return this.#codec.decode(warm.valueAt(slot)) as V
    } catch (error) {
      warm.removeAt(slot)
      this.notifier.lost(key, new CacheError('E_CODEC', `cannot decode the value of '${key}'`, { cause: error }))
      return undefined
    }
  }

  #demote(entry: Moving<unknown>): void {
    let bytes: Uint8Array
    try {
      bytes = this.encode(entry.stored)
    } catch (error) {
      this.notifier.error(error as CacheError, entry.key)
      return this.#left(entry.key, 'hot', 'capacity')
    }
    if (!(this.warm as WarmTier).set(entry.key, bytes, entry.expiresAt)) {
      // Too large for warm: straight down to the disk, when there is one.
      if (this.cold !== undefined) return this.cold.demote(entry.key, bytes, entry.expiresAt, 'hot')
      return this.notifier.evicted(entry.key, 'hot', 'too-large')
    }
    this.#movedDuringCheckpoint?.add(entry.key)
    this.#snapshots().remember(entry.key, bytes, entry.stored as V)
    this.notifier.demoted(entry.key, 'hot', 'warm')
  }

  #promote(hit: LowerHit<V>): void {
    const now = this.#scheduler.now()
    if (hit.from === 'warm') {
      const warm = this.warm as WarmTier
      const slot = warm.findLive(hit.key, now)
      if (slot === NO_SLOT) return
      warm.removeAt(slot)
      if (!this.hot.set(hit.key, hit.stored, hit.expiresAt)) {
        warm.set(hit.key, hit.bytes, hit.expiresAt)
        return
      }
    } else {
      // A copy already in memory is at least as new as the disk's.
      if (this.hot.findLive(hit.key, now) !== NO_SLOT) return
      if (this.warm !== undefined && this.warm.findLive(hit.key, now) !== NO_SLOT) return
      if (!this.hot.set(hit.key, hit.stored, hit.expiresAt)) return
    }
    this.notifier.promoted(hit.key, hit.from, 'hot')
  }

  /**
   * Every entry in memory as bytes, warm first, then hot, then what moved from
   * hot to warm while the walk was under way (the Map walks see entries added
   * behind them, so promotions into hot are not missed).
   */
  *#memoryEntries(): Generator<ColdEntry> {
    const now = this.#scheduler.now()
    const warm = this.warm
    if (warm !== undefined) {
      for (const key of warm.keys(now)) {
        const slot = warm.findLive(key, now)
        if (slot !== NO_SLOT) yield { key, stored: warm.valueAt(slot), expiresAt: warm.expiryAt(slot) }
      }
    }
    for (const key of this.hot.keys(now)) {
      const entry = this.#hotEntry(key, now)
      if (entry !== undefined) yield entry
    }
    for (const key of this.#movedDuringCheckpoint ?? []) {
      const slot = warm?.findLive(key, now) ?? NO_SLOT
      if (slot !== NO_SLOT) yield { key, stored: (warm as WarmTier).valueAt(slot), expiresAt: (warm as WarmTier).expiryAt(slot) }
    }
  }

  *#memoryKeys(): Generator<string> {
    const now = this.#scheduler.now()
    yield* this.hot.keys(now)
    if (this.warm !== undefined) yield* this.warm.keys(now)
  }

  #hotEntry(key: string, now: number): ColdEntry | undefined {
    const slot = this.hot.findLive(key, now)
    if (slot === NO_SLOT) return undefined
    try {
      return { key, stored: this.encode(this.hot.valueAt(slot)), expiresAt: this.hot.expiryAt(slot) }
    } catch (error) {
      this.notifier.error(error as CacheError, key)
      return undefined
    }
  }
}
