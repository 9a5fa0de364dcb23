import { reservedSlots } from '../../policies/index.js'
import { KeyIndex } from './key-index.js'

const INITIAL_CAPACITY = 64

/**
 * Keys of one tier mapped to slot numbers, with each slot's expiry in a typed
 * array. Slots are reused through a free stack; capacity doubles on demand up
 * to `limit`, and `onGrow` lets the tier's policy and columns follow.
 *
 * With a finite `limit` the columns are reserved at it from the start
 * (`reserved`, up to `MAX_RESERVED_SLOTS`), so a doubling copies nothing: copying half a million slots'
 * columns in one `set` stalled the loop. Slots are handed out in order, so
 * the OS maps a typed column's zero pages only as slots are used.
 */
export class SlotTable {
  readonly #index: KeyIndex
  keys: (string | undefined)[]
  /** Each slot's key hash (`hashKey`): the index finds a key's cell by it, and policies keep history by it. */
  hashes: Uint32Array
  /** When each slot's entry came, counted in allocations: a walk over the slots finds what came behind it. */
  born: Float64Array
  #allocations = 0
  /** Absolute expiry on the scheduler's clock; 0 for none. */
  expiresAt: Float64Array
  /** Entries with an expiry: while 0, reads skip the clock entirely. */
  expiring = 0
  /**
   * Until when an entry past its expiry is kept, as a stale value for
   * read-through (its expiry plus a stale-while-revalidate or grace window);
   * 0 for none. Made by the first write that asks for it: a cache without
   * those windows holds no such column.
   */
  keptUntil: Float64Array | undefined
  #free: Uint32Array
  #freeTop = 0
  #next = 0
  #capacity: number
  readonly #limit: number
  /** Slots every column has room for: `limit` when finite (up to `MAX_RESERVED_SLOTS`), else the capacity. */
  #reserved: number
  readonly #onGrow: (capacity: number) => void

  /** `reserve` false: grow from a small capacity even with a finite limit (a reset must stay cheap). */
  constructor(limit: number, onGrow: (capacity: number) => void, reserve = true) {
    this.#limit = limit
    this.#capacity = Math.min(INITIAL_CAPACITY, limit)
    this.#reserved = reserve ? reservedSlots(this.#capacity, limit) : this.#capacity
    this.keys = new Array(this.#reserved)
    this.hashes = new Uint32Array(this.#reserved)
    this.born = new Float64Array(this.#reserved)
    this.#index = new KeyIndex(this.#reserved)
    this.expiresAt = new Float64Array(this.#reserved)
    this.#free = new Uint32Array(this.#reserved)
    this.#onGrow = onGrow
  }

  get size(): number {
    return this.#index.size
  }

  /** Slots allocated so far: the `born` of the next. */
  get allocations(): number {
    return this.#allocations
  }

  /** The slot holding `key`, or -1. */
  find(key: string): number {
    return this.#index.get(key, this.keys)
  }

  get capacity(): number {
    return this.#capacity
  }

  /** Slots the columns have room for without copying; the tier sizes its own columns to it. */
  get reserved(): number {
    return this.#reserved
  }

  /** True when every slot the limit allows is taken. */
  get full(): boolean {
    return this.#index.size >= this.#limit
  }

  /** A fresh slot for a key the table does not hold, with its `hashKey`; the caller checks `full` first. */
  allocate(key: string, hash: number, expiresAt: number, keptUntil = 0): number {
    let slot: number
    if (this.#freeTop > 0) slot = this.#free[--this.#freeTop]
    else {
      if (this.#next === this.#capacity) this.#grow()
      slot = this.#next++
    }
    this.#index.add(hash, slot)
    this.keys[slot] = key
    this.hashes[slot] = hash
    this.born[slot] = this.#allocations++
    this.setExpiry(slot, expiresAt, keptUntil)
    return slot
  }

  release(slot: number): void {
    this.#index.remove(this.hashes[slot], slot)
    this.keys[slot] = undefined
    this.setExpiry(slot, 0)
    this.#free[this.#freeTop++] = slot
  }

  /** `keptUntil`: until when the entry is kept past `expiresAt` as a stale value; 0 for not at all. */
  setExpiry(slot: number, expiresAt: number, keptUntil = 0): void {
    const had = this.expiresAt[slot] !== 0
    const has = expiresAt !== 0
    if (had !== has) this.expiring += has ? 1 : -1
    this.expiresAt[slot] = expiresAt
    if (keptUntil !== 0 || this.keptUntil !== undefined) this.#keep(slot, keptUntil)
  }

  isExpired(slot: number, now: number): boolean {
    const expiresAt = this.expiresAt[slot]
    return expiresAt !== 0 && expiresAt <= now
  }

  /** Past its expiry and past the time it is kept as a stale value: to be dropped. */
  isDue(slot: number, now: number): boolean {
    return this.isExpired(slot, now) && (this.keptUntil === undefined || this.keptUntil[slot] <= now)
  }

  #keep(slot: number, keptUntil: number): void {
    this.keptUntil ??= new Float64Array(this.expiresAt.length)
    this.keptUntil[slot] = keptUntil
  }

  /** Slot numbers in use range over [0, highWater). */
  get highWater(): number {
    return this.#next
  }

  #grow(): void {
    const capacity = Math.min(this.#capacity * 2, this.#limit)
    if (capacity > this.#reserved) {
      const expiresAt = new Float64Array(capacity)
      expiresAt.set(this.expiresAt)
      const free = new Uint32Array(capacity)
      free.set(this.#free)
      const hashes = new Uint32Array(capacity)
      hashes.set(this.hashes)
      this.hashes = hashes
      const born = new Float64Array(capacity)
      born.set(this.born)
      this.born = born
      this.expiresAt = expiresAt
      if (this.keptUntil !== undefined) {
        const keptUntil = new Float64Array(capacity)
        keptUntil.set(this.keptUntil)
        this.keptUntil = keptUntil
      }
      this.#free = free
      this.keys = grownArray(this.keys, capacity)
      this.#reserved = capacity
    }
    this.#capacity = capacity
    this.#onGrow(capacity)
  }
}

/**
 * A copy of `array` with room for `capacity` elements allocated at once, so
 * that a plain column grows with the typed ones instead of element by
 * element in steps of its own.
 */
export function grownArray<T>(array: T[], capacity: number): T[] {
  const grown = new Array<T>(capacity)
  for (let i = 0; i < array.length; i++) grown[i] = array[i]
  return grown
}
