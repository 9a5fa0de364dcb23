import { type EvictionPolicy, NO_SLOT } from './policy.js'
import { SlotLists } from './slot-lists.js'

// Resident lists thread slots, ghost lists thread ghost indices; LRU end at the head of each.
const T1 = 0
const T2 = 1
const B1 = 0
const B2 = 1
const NO_GHOST = -1
const MIN_TABLE_BITS = 4
// Fibonacci hashing spreads small or patterned hashes over the table.
const SPREAD = 0x9e3779b1

/**
 * ARC, adaptive replacement (Megiddo & Modha, FAST '03). T1 holds entries
 * seen once lately, T2 entries seen at least twice; the ghost lists B1 and B2
 * keep only the key hashes of entries recently evicted from each. A miss on
 * a B1 ghost moves the target size p of T1 up (toward recency), one on a B2
 * ghost moves it down (toward frequency), and eviction takes from T1 while
 * T1 is larger than p.
 *
 * The paper's one request(x) is split over the tier's calls:
 * - `touch` is case I: to the MRU end of T2.
 * - `evict(x)`, called while the tier is full, before `insert(x)`, is what
 *   cases II–IV do before the fetch: adapt p on a ghost hit, or trim the
 *   ghost lists on a true miss, then REPLACE(x, p), which leaves the victim's
 *   hash in B1 or B2.
 * - `insert(slot, x)` is the fetch: a ghost moves to T2 (adapting p here when
 *   no eviction came first: the tier had room), anything else enters T1,
 *   after the same trimming when no eviction did it.
 * - `remove` (delete, expiry) leaves no ghost: nothing was pushed out for room.
 * - `miss` does nothing: the paper adapts on the request that fetches the
 *   key, which here is the `insert` that follows; a read miss that is never
 *   followed by a write fetched nothing, and counting both would adapt twice.
 *
 * c is `maxEntries`. Bounded by bytes only (`Infinity`), c is the number of
 * entries resident at the time: before the eviction in `evict` (the tier is
 * as full as it gets), after the insertion in `insert`.
 *
 * Ghosts are found by 32-bit FNV-1a key hashes in an open-addressing table,
 * so two keys can share a hash: a false ghost hit only nudges p and puts one
 * new entry in T2, and a new ghost replaces an old one of the same hash.
 *
 * Memory: 13 bytes per slot (two Uint32 links, the key hash, a Uint8 list
 * tag) and 25 bytes per ghost slot (links, hash, tag, free stack, 8 bytes of
 * table at load ≤ 1/2); ghost slots double on demand, at most 2c are in use.
 */
// `Omit<…, 'name'>` only while `PolicyName` lacks 'arc'; otherwise this is an `EvictionPolicy`.
export class ArcPolicy implements EvictionPolicy {
  readonly name = 'arc'
  readonly usesKeyHashes = true
  readonly #maxEntries: number
  readonly #resident: SlotLists
  /** T1 or T2, by slot. */
  #listOf: Uint8Array
  #hashOf: Uint32Array
  #t1 = 0
  #t2 = 0
  #b1 = 0
  #b2 = 0
  #p = 0
  /** `evict` already adapted p for this incoming hash; `insert` must not again. */
  #adapted = false
  #adaptedHash = 0

  #ghosts: SlotLists
  #ghostHash: Uint32Array
  /** B1 or B2, by ghost. */
  #ghostList: Uint8Array
  #ghostFree: Uint32Array
  #ghostFreeTop = 0
  #ghostHighWater = 0
  /** Ghost index + 1 by bucket, 0 when empty; linear probing, deletion by backward shift. */
  #table: Uint32Array
  #tableShift: number

  constructor(capacity: number, maxEntries: number = Infinity) {
    this.#maxEntries = maxEntries
    this.#resident = new SlotLists(2, capacity)
    this.#listOf = new Uint8Array(capacity)
    this.#hashOf = new Uint32Array(capacity)
    const ghostCapacity = Math.max(1, capacity)
    this.#ghosts = new SlotLists(2, ghostCapacity)
    this.#ghostHash = new Uint32Array(ghostCapacity)
    this.#ghostList = new Uint8Array(ghostCapacity)
    this.#ghostFree = new Uint32Array(ghostCapacity)
    const bits = tableBits(ghostCapacity)
    this.#table = new Uint32Array(1 << bits)
    this.#tableShift = 32 - bits
  }

  /** The paper's p: the target size of T1. */
  get p(): number {
    return this.#p
  }

  /** |T1|, |T2|, |B1|, |B2|; for tests and tools. */
  get sizes(): { t1: number; t2: number; b1: number; b2: number } {
    return { t1: this.#t1, t2: this.#t2, b1: this.#b1, b2: this.#b2 }
  }

  grow(capacity: number): void {
    if (capacity <= this.#listOf.length) return
    this.#resident.grow(capacity)
    const listOf = new Uint8Array(capacity)
    const hashOf = new Uint32Array(capacity)
    listOf.set(this.#listOf)
    hashOf.set(this.#hashOf)
    this.#listOf = listOf
    this.#hashOf = hashOf
  }

  insert(slot: number, keyHash: number): void {
    this.#hashOf[slot] = keyHash
    const ghost = this.#findGhost(keyHash)
    if (ghost !== NO_GHOST) {
      // Cases II and III: the key was evicted lately, so it has now been seen twice.
      if (!this.#adapted || this.#adaptedHash !== keyHash) {
        this.#adapt(this.#ghostList[ghost], this.#c(this.#t1 + this.#t2 + 1))
      }
      this.#dropGhost(ghost)
      this.#resident.pushTail(T2, slot)
      this.#listOf[slot] = T2
      this.#t2++
    } else {
      // Case IV. After an `evict` these trims find nothing to do; they matter when the tier had room.
      const c = this.#c(this.#t1 + this.#t2 + 1)
      while (this.#t1 + this.#b1 >= c && this.#b1 > 0) this.#dropOldestGhost(B1)
      while (this.#t1 + this.#t2 + this.#b1 + this.#b2 >= 2 * c && this.#b1 + this.#b2 > 0) {
        this.#dropOldestGhost(this.#b2 > 0 ? B2 : B1)
      }
      this.#resident.pushTail(T1, slot)
      this.#listOf[slot] = T1
      this.#t1++
    }
    this.#adapted = false
  }

  touch(slot: number): void {
    if (this.#listOf[slot] === T2) {
      this.#resident.moveToTail(T2, slot)
      return
    }
    this.#resident.unlink(T1, slot)
    this.#resident.pushTail(T2, slot)
    this.#listOf[slot] = T2
    this.#t1--
    this.#t2++
  }

  remove(slot: number): void {
    const list = this.#listOf[slot]
    this.#resident.unlink(list, slot)
    if (list === T1) this.#t1--
    else this.#t2--
  }

  evict(incomingKeyHash: number): number {
    const resident = this.#t1 + this.#t2
    if (resident === 0) return NO_SLOT
    const c = this.#c(resident)
    const ghost = this.#findGhost(incomingKeyHash)
    if (ghost !== NO_GHOST) {
      // Cases II and III; a tier that evicts several entries for one key adapts once.
      const list = this.#ghostList[ghost]
      if (!this.#adapted || this.#adaptedHash !== incomingKeyHash) {
        this.#adapt(list, c)
        this.#adapted = true
        this.#adaptedHash = incomingKeyHash
      }
      return this.#replace(list === B2)
    }
    // Case IV: keep |T1| + |B1| ≤ c and the total ≤ 2c once the key is in.
    if (this.#t1 + this.#b1 >= c) {
      if (this.#t1 >= c) {
        // T1 is the whole cache and B1 is empty: its LRU entry goes without a ghost.
        const slot = this.#resident.head(T1)
        this.#resident.unlink(T1, slot)
        this.#t1--
        return slot
      }
      this.#dropOldestGhost(B1)
    } else if (resident + this.#b1 + this.#b2 >= 2 * c && this.#b2 > 0) this.#dropOldestGhost(B2)
    return this.#replace(false)
  }

  miss(): void {}

  #c(resident: number): number {
    return this.#maxEntries === Infinity ? resident : this.#maxEntries
  }

  #adapt(ghostList: number, c: number): void {
    if (ghostList === B1) {
      const delta = this.#b1 >= this.#b2 ? 1 : this.#b2 / this.#b1
      this.#p = Math.min(this.#p + delta, c)
    } else {
      const delta = this.#b2 >= this.#b1 ? 1 : this.#b1 / this.#b2
      this.#p = Math.max(this.#p - delta, 0)
    }
  }

  /** The paper's REPLACE: T1's LRU entry to B1 while T1 is over its target, else T2's to B2. */
  #replace(incomingInB2: boolean): number {
    const t1 = this.#t1
    // The emptiness checks matter only off the paper's path (deletes, a changing c).
    const fromT1 = this.#t2 === 0 || (t1 >= 1 && ((incomingInB2 && t1 === this.#p) || t1 > this.#p))
    const list = fromT1 ? T1 : T2
    const slot = this.#resident.head(list)
    this.#resident.unlink(list, slot)
    if (fromT1) this.#t1--
    else this.#t2--
    this.#addGhost(fromT1 ? B1 : B2, this.#hashOf[slot])
    return slot
  }

  #addGhost(list: number, hash: number): void {
    const same = this.#findGhost(hash)
    if (same !== NO_GHOST) this.#dropGhost(same)
    let ghost: number
    if (this.#ghostFreeTop > 0) ghost = this.#ghostFree[--this.#ghostFreeTop]
    else {
      if (this.#ghostHighWater === this.#ghostHash.length) this.#growGhosts()
      ghost = this.#ghostHighWater++
    }
    this.#ghostHash[ghost] = hash
    this.#ghostList[ghost] = list
    this.#ghosts.pushTail(list, ghost)
    if (list === B1) this.#b1++
    else this.#b2++
    this.#tableInsert(ghost)
  }

  #dropOldestGhost(list: number): void {
    this.#dropGhost(this.#ghosts.head(list))
  }

  #dropGhost(ghost: number): void {
    this.#tableDelete(ghost)
    const list = this.#ghostList[ghost]
    this.#ghosts.unlink(list, ghost)
    if (list === B1) this.#b1--
    else this.#b2--
    this.#ghostFree[this.#ghostFreeTop++] = ghost
  }

  #growGhosts(): void {
    const capacity = this.#ghostHash.length * 2
    this.#ghosts.grow(capacity)
    const hash = new Uint32Array(capacity)
    const list = new Uint8Array(capacity)
    hash.set(this.#ghostHash)
    list.set(this.#ghostList)
    this.#ghostHash = hash
    this.#ghostList = list
    // The free stack is empty whenever the high-water mark reaches capacity.
    this.#ghostFree = new Uint32Array(capacity)
    const old = this.#table
    const bits = tableBits(capacity)
    this.#table = new Uint32Array(1 << bits)
    this.#tableShift = 32 - bits
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.#tableInsert(old[i] - 1)
  }

  #bucket(hash: number): number {
    return Math.imul(hash, SPREAD) >>> this.#tableShift
  }

  #findGhost(hash: number): number {
    const table = this.#table
    const mask = table.length - 1
    for (let i = this.#bucket(hash); ; i = (i + 1) & mask) {
      const entry = table[i]
      if (entry === 0) return NO_GHOST
      if (this.#ghostHash[entry - 1] === hash) return entry - 1
    }
  }

  #tableInsert(ghost: number): void {
    const table = this.#table
    const mask = table.length - 1
    let i = this.#bucket(this.#ghostHash[ghost])
    while (table[i] !== 0) i = (i + 1) & mask
    table[i] = ghost + 1
  }

  #tableDelete(ghost: number): void {
    const table = this.#table
    const mask = table.length - 1
    let hole = this.#bucket(this.#ghostHash[ghost])
    while (table[hole] !== ghost + 1) hole = (hole + 1) & mask
    // Backward shift: pull later entries of the probe run into the hole when
    // the hole lies between their home bucket and where they sit, so no
    // lookup ever stops early at the hole.
    for (let i = (hole + 1) & mask; table[i] !== 0; i = (i + 1) & mask) {
      const home = this.#bucket(this.#ghostHash[table[i] - 1])
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        table[hole] = table[i]
        hole = i
      }
    }
    table[hole] = 0
  }
}

/** Table size as a power of two, at least twice the ghost capacity. */
function tableBits(ghostCapacity: number): number {
  return Math.max(MIN_TABLE_BITS, Math.ceil(Math.log2(ghostCapacity * 2)))
}
