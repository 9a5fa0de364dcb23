import { type EvictionPolicy, NO_SLOT } from './policy.js'
import { SlotLists } from './slot-lists.js'

const ONLY = 0

/** Least recently used: one list, oldest at the head. */
export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru'
  readonly usesKeyHashes = false
  readonly #order: SlotLists

  constructor(capacity: number) {
    this.#order = new SlotLists(1, capacity)
  }

  grow(capacity: number): void {
    this.#order.grow(capacity)
  }

  insert(slot: number): void {
    this.#order.pushTail(ONLY, slot)
  }

  touch(slot: number): void {
    this.#order.moveToTail(ONLY, slot)
  }

  remove(slot: number): void {
    this.#order.unlink(ONLY, slot)
  }

  evict(): number {
    const slot = this.#order.head(ONLY)
    if (slot === NO_SLOT) return NO_SLOT
    this.#order.unlink(ONLY, slot)
    return slot
  }

  miss(): void {}
}
