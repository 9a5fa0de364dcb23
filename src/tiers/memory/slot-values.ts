import { grownArray } from './slot-table.js'

/**
 * Where a memory tier keeps the value of each slot: a column sized and grown
 * with its slot table. Hot keeps live objects in an array; warm keeps bytes
 * in a slab arena (byte-arena.ts).
 */
export interface SlotValues<Stored> {
  /** The value of a slot that holds one. */
  at(slot: number): Stored
  /** Stores the value of a slot that holds none. */
  put(slot: number, stored: Stored): void
  /** The slot's value is gone. */
  free(slot: number): void
  /** Room for `capacity` slots; never shrinks. */
  grow(capacity: number): void
  /** Forgets every value; room for `capacity` slots. */
  reset(capacity: number): void
}

/** Values by reference, in one array: what hot holds. */
export class ArrayValues<Stored> implements SlotValues<Stored> {
  #items: (Stored | undefined)[]

  constructor(capacity: number) {
    this.#items = new Array(capacity)
  }

  at(slot: number): Stored {
    return this.#items[slot] as Stored
  }

  put(slot: number, stored: Stored): void {
    this.#items[slot] = stored
  }

  free(slot: number): void {
    this.#items[slot] = undefined
  }

  grow(capacity: number): void {
    if (capacity > this.#items.length) this.#items = grownArray(this.#items, capacity)
  }

  reset(capacity: number): void {
    this.#items = new Array(capacity)
  }
}
