import { FrequencyBuckets } from './frequency-buckets.js'
import { type EvictionPolicy, NO_SLOT } from './policy.js'

export interface LfuOptions {
  /** Touches between two halvings of every count; by default ten per slot of capacity, at least 1,024 (the cache passes ten per entry of its size). */
  agingPeriod?: number
}

/**
 * Least frequently used, with aging (`FrequencyBuckets`: counts saturate at
 * 15 and are halved every `agingPeriod` touches). The victim is the oldest
 * slot of the lowest non-empty count: O(1) per operation.
 */
export class LfuPolicy implements EvictionPolicy {
  readonly name = 'lfu'
  readonly usesKeyHashes = false
  readonly #buckets: FrequencyBuckets

  constructor(capacity: number, options: LfuOptions = {}) {
    this.#buckets = new FrequencyBuckets(capacity, options.agingPeriod)
  }

  grow(capacity: number): void {
    this.#buckets.grow(capacity)
  }

  /** The slot's count after the halvings it has not seen yet; which bucket it is in. */
  countOf(slot: number): number {
    return this.#buckets.countOf(slot)
  }

  insert(slot: number): void {
    this.#buckets.insert(slot, 1)
  }

  touch(slot: number): void {
    this.#buckets.touch(slot)
  }

  remove(slot: number): void {
    this.#buckets.remove(slot)
  }

  evict(): number {
    const slot = this.#buckets.lowest()
    if (slot !== NO_SLOT) this.#buckets.remove(slot)
    return slot
  }

  miss(): void {}
}
