import { type EvictionPolicy, NO_SLOT } from './policy.js'
import { SlotLists } from './slot-lists.js'

const MAX_COUNT = 15
const BUCKETS = MAX_COUNT + 1

export interface LfuOptions {
  /** Touches between two halvings of every count; by default ten per slot of capacity, at least 1,024 (the cache passes ten per entry of its size). */
  agingPeriod?: number
}

/**
 * Least frequently used, with aging. Counts saturate at 15 and are halved
 * every `agingPeriod` touches, so that a key popular long ago does not stay
 * forever. Each count is a list of slots in recency order, and the victim is
 * the oldest slot of the lowest non-empty count: O(1) per operation.
 *
 * Halving is O(buckets), not O(entries): bucket c is spliced onto bucket c/2,
 * and a slot's stored count is read through the number of halvings since it
 * was last touched.
 */
export class LfuPolicy implements EvictionPolicy {
  readonly name = 'lfu'
  readonly usesKeyHashes = false
  readonly #buckets: SlotLists
  #count: Uint8Array
  #stamp: Uint32Array
  #epoch = 0
  #touches = 0
  #agingPeriod: number
  readonly #fixedPeriod: boolean

  constructor(capacity: number, options: LfuOptions = {}) {
    this.#buckets = new SlotLists(BUCKETS, capacity)
    this.#count = new Uint8Array(capacity)
    this.#stamp = new Uint32Array(capacity)
    this.#fixedPeriod = options.agingPeriod !== undefined
    this.#agingPeriod = options.agingPeriod ?? Math.max(1024, capacity * 10)
  }

  grow(capacity: number): void {
    if (capacity <= this.#count.length) return
    this.#buckets.grow(capacity)
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

  insert(slot: number): void {
    this.#count[slot] = 1
    this.#stamp[slot] = this.#epoch
    this.#buckets.pushTail(1, slot)
  }

  touch(slot: number): void {
    const count = this.countOf(slot)
    const next = count < MAX_COUNT ? count + 1 : MAX_COUNT
    if (next === count) this.#buckets.moveToTail(count, slot)
    else {
      this.#buckets.unlink(count, slot)
      this.#buckets.pushTail(next, slot)
    }
    this.#count[slot] = next
    this.#stamp[slot] = this.#epoch
    if (++this.#touches >= this.#agingPeriod) this.#halve()
  }

  remove(slot: number): void {
    this.#buckets.unlink(this.countOf(slot), slot)
  }

  evict(): number {
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const slot = this.#buckets.head(bucket)
      if (slot !== NO_SLOT) {
        this.#buckets.unlink(bucket, slot)
        return slot
      }
    }
    return NO_SLOT
  }

  miss(): void {}

  clear(): void {
    this.#buckets.clear()
    this.#touches = 0
  }

  #halve(): void {
    this.#touches = 0
    this.#epoch++
    // Ascending order: bucket c/2 has already been emptied into c/4 when c arrives.
    for (let bucket = 1; bucket < BUCKETS; bucket++) this.#buckets.append(bucket, bucket >> 1)
  }
}
