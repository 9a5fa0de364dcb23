/** The words of a ghost slot: its key hash, the region's counts of records (1 + the count before) and takes when it was recorded, 1 while live. */
const HASH = 0
const RECORDED_AT = 1
const TAKEN_AT = 2
const LIVE = 3
const SLOT_WORDS = 4

/**
 * A lossy, fixed-size record of recently evicted keys ("ghosts"), each tagged
 * with the region of the cache it left (0 or 1), for a policy that sizes its
 * regions from the misses that a bigger region would have turned into hits
 * (ARC's ghost lists B1 and B2, kept as cheap hints). Each region has its own
 * power-of-two table, and a key hash maps to one slot of it: a newer ghost
 * overwrites an older one there, so a ghost can be lost early, never
 * invented (but for a 32-bit hash collision).
 *
 * Each region keeps about its `limit` most recent ghosts that have not come
 * back, as an ARC ghost list of `limit`: a ghost is live while fewer than
 * `limit` ghosts were recorded after it, less the live ghosts taken back
 * since (a per-region count of records and one of takes, both stamped on the
 * ghost, give that in O(1)). Takes of older ghosts count too, so a ghost can
 * outlive its place in a true FIFO by that many: a hint, not a list.
 *
 * Per region, `slotsPerGhost` × `limit` slots rounded up to a power of two,
 * 16 bytes each (hash, the two stamps, a live flag, side by side: a record
 * or a take touches two cache lines, where four columns made it six). No
 * allocation after `resize`.
 */
export class RegionGhosts {
  /**
   * `SLOT_WORDS` words per slot (`HASH`, `RECORDED_AT`, `TAKEN_AT`, `LIVE`);
   * region r's slots are [r × slots, (r + 1) × slots).
   */
  #table = new Int32Array(0)
  #slots = 0
  /** Records and takes so far, per region, modulo 2^32. */
  readonly #recorded = new Int32Array(2)
  readonly #taken = new Int32Array(2)
  #limit = 1
  readonly #slotsPerGhost: number

  /**
   * `reserve`: the largest limit `resize` will be asked for, whose tables are
   * allocated at once; a larger table then only clears the live flags it
   * uses, and no resize allocates. 0: allocate as the limit grows.
   */
  constructor(limit: number, slotsPerGhost = 2, reserve = 0) {
    this.#slotsPerGhost = slotsPerGhost
    if (reserve > 0) this.#allocate(this.#slotsFor(reserve))
    this.resize(limit)
  }

  /** Ghosts each region keeps. */
  get limit(): number {
    return this.#limit
  }

  /** Table slots per region (for the memory cost). */
  get slots(): number {
    return this.#slots
  }

  /**
   * Keeps up to `limit` ghosts per region. When that needs a larger table,
   * every ghost is forgotten (they are hints, and this happens only while a
   * tier grows) and the table is replaced, or, within the reserve, cleared.
   * A smaller limit keeps the table.
   */
  resize(limit: number): void {
    this.#limit = Math.max(1, Math.floor(limit))
    const slots = this.#slotsFor(this.#limit)
    if (slots <= this.#slots) return
    this.#slots = slots
    if (2 * slots * SLOT_WORDS > this.#table.length) this.#allocate(slots)
    else this.#clearLive()
  }

  #slotsFor(limit: number): number {
    let slots = 16
    while (slots < this.#slotsPerGhost * limit) slots *= 2
    return slots
  }

  #allocate(slots: number): void {
    this.#table = new Int32Array(2 * slots * SLOT_WORDS)
  }

  /** Clears the live flag of every slot in use. */
  #clearLive(): void {
    const table = this.#table
    const end = 2 * this.#slots * SLOT_WORDS
    for (let at = LIVE; at < end; at += SLOT_WORDS) table[at] = 0
  }

  /** Records that the key of `hash` just left `region` (0 or 1). */
  add(hash: number, region: number): void {
    const table = this.#table
    const spread = slotOf(hash) & (this.#slots - 1)
    // A key is a ghost of one region at most: the one it left last.
    const other = ((1 - region) * this.#slots + spread) * SLOT_WORDS
    if (table[other + HASH] === (hash | 0)) table[other + LIVE] = 0
    const at = (region * this.#slots + spread) * SLOT_WORDS
    table[at + HASH] = hash
    table[at + RECORDED_AT] = this.#recorded[region] = (this.#recorded[region] + 1) | 0
    table[at + TAKEN_AT] = this.#taken[region]
    table[at + LIVE] = 1
  }

  /** If `hash` is a live ghost, forgets it and returns its region; otherwise -1. */
  take(hash: number): number {
    const table = this.#table
    const spread = slotOf(hash) & (this.#slots - 1)
    for (let region = 0; region < 2; region++) {
      const at = (region * this.#slots + spread) * SLOT_WORDS
      if (table[at + LIVE] === 0 || table[at + HASH] !== (hash | 0)) continue
      table[at + LIVE] = 0
      // Ghosts recorded after this one, less those taken back since: its place in an ARC ghost list.
      const since = ((this.#recorded[region] - table[at + RECORDED_AT]) | 0) - ((this.#taken[region] - table[at + TAKEN_AT]) | 0)
      if (since >= this.#limit) return -1
      this.#taken[region] = (this.#taken[region] + 1) | 0
      return region
    }
    return -1
  }

  clear(): void {
    this.#clearLive()
  }
}

/** Spreads FNV's weak low bits (murmur3's finaliser), so that the mask sees all of the hash. */
function slotOf(hash: number): number {
  let x = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return x ^ (x >>> 16)
}
