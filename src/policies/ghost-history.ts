import { SlotLists } from './slot-lists.js'

const ORDER = 0
const FREE = 1
const INITIAL_CAPACITY = 16

/**
 * A bounded FIFO of evicted keys' hashes ("ghosts"), each with the time it was
 * evicted, its frequency count then, and the probability with which the
 * eviction was chosen. Storage is typed arrays indexed by ghost number,
 * ordered oldest first through a SlotLists; numbers freed by `forget` wait in
 * a second list of the same SlotLists. A Map finds a ghost by hash. Per
 * ghost: 29 bytes of arrays plus one Map entry.
 */
export class GhostHistory {
  readonly #links: SlotLists
  readonly #index = new Map<number, number>()
  #hashes: Uint32Array
  #evictedAt: Float64Array
  #counts: Uint8Array
  #chances: Float64Array
  #size = 0
  /** Ghost numbers below this have been handed out at least once. */
  #used = 0

  constructor(initialCapacity = INITIAL_CAPACITY) {
    const capacity = Math.max(1, initialCapacity)
    this.#links = new SlotLists(2, capacity)
    this.#hashes = new Uint32Array(capacity)
    this.#evictedAt = new Float64Array(capacity)
    this.#counts = new Uint8Array(capacity)
    this.#chances = new Float64Array(capacity)
  }

  get size(): number {
    return this.#size
  }

  /**
   * Records an evicted key, first dropping the oldest ghosts until fewer than
   * `limit` remain (the limit may shrink between calls). A hash already
   * present is replaced: it can only be a collision or a re-eviction.
   * `chance`: the probability with which the eviction was chosen (1 unless
   * the caller draws its victims at random).
   */
  add(hash: number, evictedAt: number, count: number, limit: number, chance = 1): void {
    const existing = this.#index.get(hash)
    if (existing !== undefined) this.forget(existing)
    while (this.#size > 0 && this.#size >= limit) this.forget(this.#links.head(ORDER))
    if (limit < 1) return
    let at = this.#links.head(FREE)
    if (at !== -1) this.#links.unlink(FREE, at)
    else {
      if (this.#used === this.#hashes.length) this.#grow()
      at = this.#used++
    }
    this.#hashes[at] = hash
    this.#evictedAt[at] = evictedAt
    this.#counts[at] = count
    this.#chances[at] = chance
    this.#links.pushTail(ORDER, at)
    this.#index.set(hash, at)
    this.#size++
  }

  /** The ghost number holding `hash`, or -1. */
  indexOf(hash: number): number {
    const at = this.#index.get(hash)
    return at === undefined ? -1 : at
  }

  evictedAt(ghost: number): number {
    return this.#evictedAt[ghost]
  }

  countAt(ghost: number): number {
    return this.#counts[ghost]
  }

  chanceAt(ghost: number): number {
    return this.#chances[ghost]
  }

  forget(ghost: number): void {
    this.#index.delete(this.#hashes[ghost])
    this.#links.unlink(ORDER, ghost)
    this.#links.pushTail(FREE, ghost)
    this.#size--
  }

  /** Hashes oldest first; for tests, not the hot path. */
  *hashes(): IterableIterator<number> {
    for (const [hash] of this.#index) yield hash
  }

  clear(): void {
    this.#index.clear()
    this.#links.clear()
    this.#size = 0
    this.#used = 0
  }

  #grow(): void {
    const capacity = this.#hashes.length * 2
    this.#links.grow(capacity)
    const hashes = new Uint32Array(capacity)
    const evictedAt = new Float64Array(capacity)
    const counts = new Uint8Array(capacity)
    const chances = new Float64Array(capacity)
    hashes.set(this.#hashes)
    evictedAt.set(this.#evictedAt)
    counts.set(this.#counts)
    chances.set(this.#chances)
    this.#hashes = hashes
    this.#evictedAt = evictedAt
    this.#counts = counts
    this.#chances = chances
  }
}
