import { NO_SLOT } from './policy.js'
import { SlotLists } from './slot-lists.js'

/** Counts saturate here: four bits, as in TinyLFU's counters. */
export const MAX_COUNT = 15
const BUCKETS = MAX_COUNT + 1

/**
 * LFU's bookkeeping over slot numbers, shared by `LfuPolicy` and LeCaR's LFU
 * expert: a count per slot, saturating at 15 and halved every `agingPeriod`
 * touches so that a key popular long ago does not stay forever. Each count is
 * a list of slots in recency order, so the lowest count's oldest slot is
 * found in O(buckets).
 *
 * Halving is O(buckets), not O(entries): bucket c is spliced onto bucket c/2,
 * and a slot's stored count is read through the number of halvings since it
 * was last touched.
 */
export class FrequencyBuckets {
  readonly #lists: SlotLists
  #count: Uint8Array
  #stamp: Uint32Array
  #epoch = 0
  #touches = 0
  #agingPeriod: number
  readonly #fixedPeriod: boolean

  /** Without an `agingPeriod`, ten touches per slot of capacity, at least 1,024, following `grow`. */
  constructor(capacity: number, agingPeriod: number | undefined) {
    this.#lists = new SlotLists(BUCKETS, capacity)
    this.#count = new Uint8Array(capacity)
    this.#stamp = new Uint32Array(capacity)
    this.#fixedPeriod = agingPeriod !== undefined
    this.#agingPeriod = agingPeriod ?? Math.max(1024, capacity * 10)
  }

  grow(capacity: number): void {
    if (capacity <= this.#count.length) return
    this.#lists.grow(capacity)
    const count = new Uint8Array(capacity)
    const stamp = new Uint32Array(capacity)
    count.set(this.#count)
    stamp.set(this.#stamp)
    this.#count = count
    this.#stamp = stamp
    if (!this.#fixedPeriod) this.#agingPeriod = Math.max(1024, capacity * 10)
  }

  /** The slot's count after the halvings it has not seen yet; which bucket it is in. */
  countOf(slot: number): number {
    const halvings = this.#epoch - this.#stamp[slot]
    return halvings >= 8 ? 0 : this.#count[slot] >> halvings
  }

  /** Adds the slot as the newest of `count` (1 to MAX_COUNT). */
  insert(slot: number, count: number): void {
    this.#count[slot] = count
    this.#stamp[slot] = this.#epoch
    this.#lists.pushTail(count, slot)
  }

  touch(slot: number): void {
    const count = this.countOf(slot)
    const next = count < MAX_COUNT ? count + 1 : MAX_COUNT
    if (next === count) this.#lists.moveToTail(count, slot)
    else {
      this.#lists.unlink(count, slot)
      this.#lists.pushTail(next, slot)
    }
    this.#count[slot] = next
    this.#stamp[slot] = this.#epoch
    if (++this.#touches >= this.#agingPeriod) this.#halve()
  }

  remove(slot: number): void {
    this.#lists.unlink(this.countOf(slot), slot)
  }

  /** The oldest slot of the lowest non-empty count, left in place; -1 when none. */
  lowest(): number {
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const slot = this.#lists.head(bucket)
      if (slot !== NO_SLOT) return slot
    }
    return NO_SLOT
  }

  #halve(): void {
    this.#touches = 0
    this.#epoch++
    // Ascending order: bucket c/2 has already been emptied into c/4 when c arrives.
    for (let bucket = 1; bucket < BUCKETS; bucket++) this.#lists.append(bucket, bucket >> 1)
  }
}
