import { hashKey } from '../../policies/key-hash.js'

/** A cell holds slot + 1, so that 0 (what a fresh typed array holds) is an empty cell. */
const EMPTY = 0
const MIN_CELLS = 16

/**
 * Keys to slot numbers, by open addressing (linear probing) over one typed
 * array: each cell is the slot + 1 and the key's FNV-1a hash side by side,
 * and a key is compared as a string only when its hash matches. A `Map`
 * rehashes all its entries at once when it grows or shrinks by half: half a
 * million keys stalled the loop for 40 ms or more. Here the cells are
 * reserved for the tier's finite maximum at creation (their pages mapped as
 * they are first written), a delete shifts the cells behind it back (no
 * tombstones, nothing to clean up), and nothing ever shrinks. Only an index
 * without a reserve (a tier bounded by bytes, or after a reset) grows, by
 * doubling, rehashing every key.
 */
export class KeyIndex {
  /** Two words per cell: slot + 1 (EMPTY for none), then the key's hash. */
  #cells: Int32Array
  #mask: number
  #size = 0

  /** `entries`: how many keys it holds before it must grow. */
  constructor(entries: number) {
    const cells = cellsFor(entries)
    this.#cells = new Int32Array(2 * cells)
    this.#mask = cells - 1
  }

  get size(): number {
    return this.#size
  }

  /** The slot of `key`, whose slots' keys are `keys`; -1 for none. */
  get(key: string, keys: readonly (string | undefined)[]): number {
    const hash = hashKey(key) | 0
    const cells = this.#cells
    const mask = this.#mask
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const held = cells[2 * i]
      if (held === EMPTY) return -1
      if (cells[2 * i + 1] === hash && keys[held - 1] === key) return held - 1
    }
  }

  /** Adds a key the index does not hold, with its `hashKey`. */
  add(hash: number, slot: number): void {
    if ((this.#size + 1) * 4 > (this.#mask + 1) * 3) this.#grow()
    this.#place(hash | 0, slot + 1)
    this.#size++
  }

  /** Removes the slot, whose key hashed to `hash`. */
  remove(hash: number, slot: number): void {
    const cells = this.#cells
    const mask = this.#mask
    let hole = hash & mask
    while (cells[2 * hole] !== slot + 1) {
      if (cells[2 * hole] === EMPTY) return
      hole = (hole + 1) & mask
    }
    // Backward shift: each cell behind the hole that may sit in it (its probe starts at or before the hole) moves up.
    for (let i = (hole + 1) & mask; cells[2 * i] !== EMPTY; i = (i + 1) & mask) {
      const home = cells[2 * i + 1] & mask
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        cells[2 * hole] = cells[2 * i]
        cells[2 * hole + 1] = cells[2 * i + 1]
        hole = i
      }
    }
    cells[2 * hole] = EMPTY
    this.#size--
  }

  /** Forgets every key; the cells stay. */
  clear(): void {
    this.#cells.fill(EMPTY)
    this.#size = 0
  }

  #place(hash: number, held: number): void {
    const cells = this.#cells
    const mask = this.#mask
    let i = hash & mask
    while (cells[2 * i] !== EMPTY) i = (i + 1) & mask
    cells[2 * i] = held
    cells[2 * i + 1] = hash
  }

  #grow(): void {
    const old = this.#cells
    this.#cells = new Int32Array(2 * old.length)
    this.#mask = old.length - 1
    for (let i = 0; i < old.length; i += 2) if (old[i] !== EMPTY) this.#place(old[i + 1], old[i])
  }
}

/** Cells for `entries` keys at a load of at most 3/4: a power of two. */
function cellsFor(entries: number): number {
  let cells = MIN_CELLS
  while (cells * 3 < entries * 4) cells *= 2
  return cells
}
