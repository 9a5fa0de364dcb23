import type { TierName } from '../../observe/events.js'
import { createPolicy, type EvictionPolicy, NO_SLOT, type PolicyName } from '../../policies/index.js'
import { hashKey } from '../../policies/key-hash.js'
import { SlotTable } from './slot-table.js'
import { ArrayValues, type SlotValues } from './slot-values.js'

type MemoryTierName = Exclude<TierName, 'cold'>

/** What a tier tells its owner when an entry leaves it on its own. */
export interface TierExits<Stored> {
  /** Pushed out for room; the owner demotes it or lets it go. `keptUntil`: as `set` took it. */
  evicted(key: string, stored: Stored, expiresAt: number, keptUntil: number): void
  /** Found past its expiry (on read or by a sweep) and dropped. */
  expired(key: string): void
}

export interface MemoryTierOptions<Stored, Values extends SlotValues<Stored> = SlotValues<Stored>> {
  maxEntries: number
  maxBytes: number
  policy: PolicyName
  /** Bytes charged for an entry; only called while `maxBytes` is finite. */
  sizeOf: (stored: Stored, key: string) => number
  /** Where the values are kept, made with room for `capacity` slots; an array of them by default. */
  values?: (capacity: number) => Values
}

/**
 * One in-memory tier: the actor core shared by hot (live values) and warm
 * (encoded bytes). It owns its slots, values and policy; its owner talks to it
 * only through these methods and hears back through `TierExits`. Everything
 * here is synchronous: an in-memory tier answers inside the request.
 */
export class MemoryTier<Stored, Values extends SlotValues<Stored> = SlotValues<Stored>> {
  readonly name: MemoryTierName
  hits = 0
  /** Each slot's value. */
  readonly values: Values
  #bytes = 0
  #table: SlotTable
  #sizes: Float64Array
  #policy: EvictionPolicy
  readonly #options: MemoryTierOptions<Stored, Values>
  readonly #exits: TierExits<Stored>
  readonly #bounded: boolean

  constructor(name: MemoryTierName, options: MemoryTierOptions<Stored, Values>, exits: TierExits<Stored>) {
    this.name = name
    this.#options = options
    this.#exits = exits
    this.#bounded = Number.isFinite(options.maxBytes)
    this.#table = this.#newTable()
    this.values =
      options.values === undefined ? (new ArrayValues<Stored>(this.#table.reserved) as SlotValues<Stored> as Values) : options.values(this.#table.reserved)
    this.#sizes = new Float64Array(this.#table.reserved)
    this.#policy = createPolicy(options.policy, this.#table.capacity, options.maxEntries)
  }

  get entries(): number {
    return this.#table.size
  }

  get bytes(): number {
    return this.#bytes
  }

  get maxBytes(): number {
    return this.#options.maxBytes
  }

  /** Entries that carry an expiry; 0 means no sweep is needed. */
  get expiring(): number {
    return this.#table.expiring
  }

  /**
   * The slot holding a live entry for `key`, or -1. Drops the entry if it has
   * expired (the owner hears `expired`), unless it is kept as a stale value.
   */
  findOrExpire(key: string, now: number): number {
    const slot = this.#table.find(key)
    if (slot === NO_SLOT) return NO_SLOT
    if (this.#table.expiring !== 0 && this.#table.isExpired(slot, now)) {
      // Off the hit path, in a method of its own: this one stays as small as it was, for the inliner.
      this.#expireUnlessKept(slot, now)
      return NO_SLOT
    }
    return slot
  }

  /** The slot holding `key`'s entry, live or kept past its expiry as a stale value; -1 for none. Drops nothing. */
  findStale(key: string, now: number): number {
    const slot = this.#table.find(key)
    return slot === NO_SLOT || this.#table.isDue(slot, now) ? NO_SLOT : slot
  }

  /** Until when the entry at `slot` is kept past its expiry; 0 for not at all. */
  keptUntilAt(slot: number): number {
    return this.#table.keptUntil === undefined ? 0 : this.#table.keptUntil[slot]
  }

  /** Like `findOrExpire`, but leaves an expired entry in place for a sweep. */
  findLive(key: string, now: number): number {
    const slot = this.#table.find(key)
    if (slot === NO_SLOT) return NO_SLOT
    return this.#table.expiring !== 0 && this.#table.isExpired(slot, now) ? NO_SLOT : slot
  }

  /** A read found no entry for `key` here: the policy may keep that as history. */
  missed(key: string): void {
    if (this.#policy.usesKeyHashes) this.#policy.miss(hashKey(key))
  }

  /** Counts a hit on the slot and tells the policy. */
  hit(slot: number): void {
    this.hits++
    this.#policy.touch(slot)
  }

  /** The value at `slot`; warm's is a view of its arena (see `ByteArena.at` for how long it holds). */
  valueAt(slot: number): Stored {
    return this.values.at(slot)
  }

  /** The slot holding `key`, live or not; -1 for none. Drops nothing. */
  slotOf(key: string): number {
    return this.#table.find(key)
  }

  expiryAt(slot: number): number {
    return this.#table.expiresAt[slot]
  }

  /** Whether the value alone is within the tier's bound, so that `set` would take it. */
  accepts(key: string, stored: Stored): boolean {
    return !this.#bounded || this.#options.sizeOf(stored, key) <= this.#options.maxBytes
  }

  /**
   * Stores the entry, evicting others as the bounds require. False when the
   * value alone is larger than the tier: then nothing changes. `keptUntil`:
   * until when it is kept past `expiresAt` as a stale value (0: not at all).
   */
  set(key: string, stored: Stored, expiresAt: number, keptUntil = 0): boolean {
    const size = this.#bounded ? this.#options.sizeOf(stored, key) : 0
    if (size > this.#options.maxBytes) return false
    const table = this.#table
    let slot = table.find(key)
    if (slot !== NO_SLOT) {
      this.#bytes += size - this.#sizes[slot]
      this.values.free(slot)
      this.values.put(slot, stored)
      this.#sizes[slot] = size
      table.setExpiry(slot, expiresAt, keptUntil)
      if (this.#bytes <= this.#options.maxBytes) {
        // A replaced value is a hit for the policy: no key hash needed.
        this.#policy.touch(slot)
        return true
      }
      // Grown past the bound: the others make room, never the entry just written.
      const hash = table.hashes[slot]
      this.#policy.remove(slot)
      while (this.#bytes > this.#options.maxBytes && this.#evictOne(hash)) {}
      this.#policy.insert(slot, hash)
      return true
    }
    const hash = hashKey(key)
    while (table.size > 0 && (table.full || this.#bytes + size > this.#options.maxBytes) && this.#evictOne(hash)) {}
    slot = table.allocate(key, hash, expiresAt, keptUntil)
    this.values.put(slot, stored)
    this.#sizes[slot] = size
    this.#bytes += size
    this.#policy.insert(slot, hash)
    return true
  }

  /** Removes the entry at `slot` without telling anyone: the caller owns the consequences. */
  removeAt(slot: number): void {
    this.#policy.remove(slot)
    this.#release(slot)
  }

  delete(key: string): boolean {
    const slot = this.#table.find(key)
    if (slot === NO_SLOT) return false
    this.removeAt(slot)
    return true
  }

  /**
   * Forgets everything at once: fresh tables, the old ones left to the GC.
   * They are not reserved again (that takes 10-50 ms at a million slots):
   * after a reset the tier grows by doubling, copying, as without a maximum.
   */
  reset(): void {
    this.#table = this.#newTable(false)
    this.values.reset(this.#table.reserved)
    this.#sizes = new Float64Array(this.#table.reserved)
    this.#policy = createPolicy(this.#options.policy, this.#table.capacity, this.#options.maxEntries, false)
    this.#bytes = 0
  }

  /**
   * One bounded slice of the expiry sweep: from `cursor`, drops at most
   * `budget` expired entries (one kept as a stale value once its keeping
   * ends) and looks at no more than eight times as many
   * slots. Returns where the next slice starts, or -1 when the sweep has
   * passed every slot.
   */
  sweep(cursor: number, budget: number, now: number): number {
    const table = this.#table
    const end = Math.min(table.highWater, cursor + budget * 8)
    let slot = cursor
    for (let dropped = 0; slot < end && dropped < budget; slot++) {
      if (table.keys[slot] !== undefined && table.isDue(slot, now)) {
        this.#expire(slot)
        dropped++
      }
    }
    return slot >= table.highWater ? -1 : slot
  }

  /**
   * Live keys, in slot order; for checkpoints, tests and tools, not the hot
   * path. Like a Map's walk, it also yields the entries that come while it is
   * under way (a key written again comes again): a pass over the slots takes
   * those that came before it, and each further pass those that came during
   * the one before, wherever their slots are.
   */
  *keys(now: number): IterableIterator<string> {
    const table = this.#table
    for (let from = 0, until = table.allocations; from < until; from = until, until = table.allocations) {
      for (let slot = 0; slot < table.highWater; slot++) {
        const key = table.keys[slot]
        const born = table.born[slot]
        if (key !== undefined && born >= from && born < until && !table.isExpired(slot, now)) yield key
      }
    }
  }

  #newTable(reserve = true): SlotTable {
    return new SlotTable(
      this.#options.maxEntries,
      (capacity) => {
        this.#policy.grow(capacity)
        // Columns grow with the table's, all at once; with a finite limit they were reserved at it.
        if (capacity <= this.#sizes.length) return
        const sizes = new Float64Array(capacity)
        sizes.set(this.#sizes)
        this.#sizes = sizes
        this.values.grow(capacity)
      },
      reserve,
    )
  }

  /** Evicts the policy's choice; false when the policy holds nothing more to give. */
  #evictOne(incomingKeyHash: number): boolean {
    const slot = this.#policy.evict(incomingKeyHash)
    if (slot === NO_SLOT) return false
    const key = this.#table.keys[slot] as string
    // Warm's is a view: freeing lets nothing overwrite it within this call, and the owner copies what it keeps.
    const stored = this.values.at(slot)
    const expiresAt = this.#table.expiresAt[slot]
    const keptUntil = this.keptUntilAt(slot)
    this.#release(slot)
    this.#exits.evicted(key, stored, expiresAt, keptUntil)
    return true
  }

  #expireUnlessKept(slot: number, now: number): void {
    const keptUntil = this.#table.keptUntil
    if (keptUntil === undefined || keptUntil[slot] <= now) this.#expire(slot)
  }

  #expire(slot: number): void {
    const key = this.#table.keys[slot] as string
    this.removeAt(slot)
    this.#exits.expired(key)
  }

  #release(slot: number): void {
    this.#bytes -= this.#sizes[slot]
    this.#sizes[slot] = 0
    this.values.free(slot)
    this.#table.release(slot)
  }
}
