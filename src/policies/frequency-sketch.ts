const MAX_FREQUENCY = 15
/** Bit 0 of every 4-bit counter in a word. */
const ONE_MASK = 0x11111111
/** Bits 0-2 of every counter: what is left of a counter shifted right by one. */
const RESET_MASK = 0x77777777
/** 16 words, 64 bytes: one cache line holds the four counters of a key (`<< 4` below). */
const WORDS_PER_BLOCK = 16
/** 16 counters per entry, 8 bytes, as Caffeine sizes its sketch. */
const ENTRIES_PER_BLOCK = 8
const SAMPLE_FACTOR = 10
/** Increments held back by `incrementSoon` before they are applied together. */
const DEFERRED_CAPACITY = 64
/** Words of one 4 KiB page: the step of `#touchAhead`. */
const WORDS_PER_PAGE = 1024
/** `#resetBlock` when no reset is under way. */
const NO_RESET = -1

export interface FrequencySketchOptions {
  /** Additions between two halvings; by default ten per entry the sketch is sized for. */
  samplePeriod?: number
  /**
   * Entries the sketch may later be widened to (`ensureCapacity`): its table
   * is reserved for them at once, so widening allocates nothing. Only the
   * part in use is touched, so the OS maps the rest's zero pages lazily.
   */
  reserve?: number
}

/**
 * A count-min sketch of how often each key hash was seen, after Caffeine's
 * `FrequencySketch`: 4-bit counters packed eight to an `Int32Array` word, four
 * counters per key (one per row), estimate = the smallest of the four. The
 * table is split into 64-byte blocks; the key's hash picks the block and a
 * second hash picks one counter in each row's quarter of it, so an access
 * touches one cache line. 16 counters (8 bytes) per entry, entries rounded up
 * to a power of two.
 *
 * Counters saturate at 15. Every `samplePeriod` additions (increments that
 * raised at least one counter) every counter is halved, so that old
 * popularity fades: the "reset" of TinyLFU. Estimates never under-count
 * between two resets; collisions can only over-count.
 *
 * A reset is spread over the increments that follow it, one 64-byte block
 * each (the increment that starts it halves the first): one pass over the
 * table would stall whichever hit triggers it, about 4 ms at a million
 * entries. Meanwhile keys in blocks not yet reached count at the old scale,
 * for one increment per block out of every `samplePeriod` (less than 2 %).
 */
export class FrequencySketch {
  #table: Int32Array
  /** Words in use: the table may be reserved for more (`reserve`). */
  #words: number
  /**
   * The next word of the reserve to touch, up to `#touchedEnd`: each addition
   * touches one page of the part the next widening will copy into, so that
   * the widening copies into mapped pages instead of faulting each one in.
   */
  #touchNext = 0
  #touchEnd = 0
  #blockMask: number
  #entries: number
  #samplePeriod: number
  #additions = 0
  readonly #fixedPeriod: boolean
  /** The next block a reset under way halves, or NO_RESET. */
  #resetBlock = NO_RESET
  #additionsAtReset = 0
  /** Odd counters halved so far by the reset under way. */
  #oddAtReset = 0
  readonly #deferred = new Uint32Array(DEFERRED_CAPACITY)
  #deferredCount = 0
  /** The spread hashes of the held increments, while they are applied. */
  readonly #spreads = new Int32Array(DEFERRED_CAPACITY)
  /** What the loads that bring a batch's blocks into the cache read: stored, so that the compiler keeps the loads. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: written, never read, so the JIT must keep the loads that made the value.
  #warmed = 0

  constructor(entries: number, options: FrequencySketchOptions = {}) {
    this.#entries = Math.max(1, entries)
    const blocks = blocksFor(this.#entries)
    this.#words = blocks * WORDS_PER_BLOCK
    this.#table = new Int32Array(Math.max(this.#words, blocksFor(options.reserve ?? 0) * WORDS_PER_BLOCK))
    this.#blockMask = blocks - 1
    this.#touchAhead()
    this.#fixedPeriod = options.samplePeriod !== undefined
    this.#samplePeriod = options.samplePeriod ?? SAMPLE_FACTOR * this.#entries
  }

  /** The number of entries the sketch is sized for. */
  get entries(): number {
    return this.#entries
  }

  get samplePeriod(): number {
    return this.#samplePeriod
  }

  /** Additions since the last halving (less what the halving took back). */
  get additions(): number {
    if (this.#deferredCount !== 0) this.#applyDeferred()
    return this.#additions
  }

  /** Counters per row: a power of two, four per entry at least. */
  get width(): number {
    return (this.#words / WORDS_PER_BLOCK) * 32
  }

  /** The estimated count for `hash`, 0 to 15. */
  frequency(hash: number): number {
    if (this.#deferredCount !== 0) this.#applyDeferred()
    const spread = spreadHash(hash)
    const counters = counterHash(spread)
    const block = (spread & this.#blockMask) << 4
    const table = this.#table
    // Row r reads words [4r, 4r + 4) of the block; 5 bits of `counters` pick one of its 32 counters.
    const c0 = counters & 31
    const c1 = (counters >>> 5) & 31
    const c2 = (counters >>> 10) & 31
    const c3 = (counters >>> 15) & 31
    return Math.min(
      (table[block + (c0 >>> 3)] >>> ((c0 & 7) << 2)) & 15,
      (table[block + 4 + (c1 >>> 3)] >>> ((c1 & 7) << 2)) & 15,
      (table[block + 8 + (c2 >>> 3)] >>> ((c2 & 7) << 2)) & 15,
      (table[block + 12 + (c3 >>> 3)] >>> ((c3 & 7) << 2)) & 15,
    )
  }

  increment(hash: number): void {
    if (this.#deferredCount !== 0) this.#applyDeferred()
    this.#add(hash)
  }

  /**
   * `increment`, held back until the sketch is next read or written (or 64
   * are waiting), so the sketch sees the same increments in the same order.
   * For a hit path: applied one at a time, each increment's hashing and its
   * random cache line stall the caller; applied in a batch, they overlap.
   */
  incrementSoon(hash: number): void {
    this.#deferred[this.#deferredCount++] = hash
    if (this.#deferredCount === DEFERRED_CAPACITY) this.#applyDeferred()
  }

  /**
   * Applies the held increments in order. A first pass loads the first and
   * last word of every block they raise (a block may straddle two cache
   * lines): independent loads, so their cache misses overlap, where the
   * increments one after another would wait for each in turn.
   */
  #applyDeferred(): void {
    const deferred = this.#deferred
    const spreads = this.#spreads
    const count = this.#deferredCount
    this.#deferredCount = 0
    const table = this.#table
    const blockMask = this.#blockMask
    let warmed = 0
    for (let i = 0; i < count; i++) {
      const spread = spreadHash(deferred[i])
      spreads[i] = spread
      const block = (spread & blockMask) << 4
      warmed |= table[block] | table[block + 15]
    }
    this.#warmed = warmed
    for (let i = 0; i < count; i++) this.#addSpread(spreads[i])
  }

  #add(hash: number): void {
    this.#addSpread(spreadHash(hash))
  }

  #addSpread(spread: number): void {
    const counters = counterHash(spread)
    const block = (spread & this.#blockMask) << 4
    const added =
      this.#incrementAt(block + ((counters >>> 3) & 3), (counters & 7) << 2) |
      this.#incrementAt(block + 4 + ((counters >>> 8) & 3), ((counters >>> 5) & 7) << 2) |
      this.#incrementAt(block + 8 + ((counters >>> 13) & 3), ((counters >>> 10) & 7) << 2) |
      this.#incrementAt(block + 12 + ((counters >>> 18) & 3), ((counters >>> 15) & 7) << 2)
    if (added !== 0) this.#additions++
    if (this.#touchNext < this.#touchEnd) {
      this.#table[this.#touchNext] = 0
      this.#touchNext += WORDS_PER_PAGE
    }
    if (this.#resetBlock !== NO_RESET) this.#halveNextBlock()
    else if (this.#additions >= this.#samplePeriod) this.#startReset()
  }

  /** Raises the counter at bit `shift` of word `index` unless saturated; 1 if it did. */
  #incrementAt(index: number, shift: number): number {
    const word = this.#table[index]
    if (((word >>> shift) & 15) === MAX_FREQUENCY) return 0
    this.#table[index] = (word + (1 << shift)) | 0
    return 1
  }

  /** Halves every counter at once (finishing a reset under way, if any). */
  halve(): void {
    if (this.#deferredCount !== 0) this.#applyDeferred()
    if (this.#resetBlock === NO_RESET) this.#startReset()
    this.#finishReset()
  }

  /** True while a reset is under way (some blocks halved, others not yet). */
  get resetting(): boolean {
    return this.#resetBlock !== NO_RESET
  }

  #startReset(): void {
    this.#resetBlock = 0
    this.#additionsAtReset = this.#additions
    this.#oddAtReset = 0
    this.#halveNextBlock()
  }

  #finishReset(): void {
    while (this.#resetBlock !== NO_RESET) this.#halveNextBlock()
  }

  #halveNextBlock(): void {
    const table = this.#table
    const start = this.#resetBlock * WORDS_PER_BLOCK
    let odd = 0
    for (let i = start; i < start + WORDS_PER_BLOCK; i++) {
      const word = table[i]
      // Sums the eight low bits: nibble 7 of the product collects them (at most 8, no carry out).
      odd += Math.imul(word & ONE_MASK, ONE_MASK) >>> 28
      table[i] = (word >>> 1) & RESET_MASK
    }
    this.#oddAtReset += odd
    if (++this.#resetBlock * WORDS_PER_BLOCK < this.#words) return
    this.#resetBlock = NO_RESET
    // Caffeine's correction: each addition raised four counters, and a halved odd counter lost a half.
    // Additions made while the reset went on are kept whole.
    const during = this.#additions - this.#additionsAtReset
    this.#additions = (Math.max(0, this.#additionsAtReset - (this.#oddAtReset >>> 2)) >>> 1) + during
  }

  /**
   * Sizes the sketch for at least `entries`, keeping every estimate: the
   * table grows by whole powers of two, and a key's block in the larger table
   * is its old block index with more hash bits, so the old table is copied
   * into each new part. The copies add to collisions until the next halvings
   * wash them out.
   */
  ensureCapacity(entries: number): void {
    if (entries <= this.#entries) return
    if (this.#deferredCount !== 0) this.#applyDeferred()
    // Growth copies the table: a reset half done would be copied half done.
    this.#finishReset()
    this.#entries = entries
    if (!this.#fixedPeriod) this.#samplePeriod = SAMPLE_FACTOR * entries
    const blocks = blocksFor(entries)
    const words = blocks * WORDS_PER_BLOCK
    const used = this.#words
    if (words <= used) return
    if (words > this.#table.length) {
      const table = new Int32Array(words)
      table.set(this.#table.subarray(0, used))
      this.#table = table
    }
    for (let offset = used; offset < words; offset += used) this.#table.copyWithin(offset, 0, used)
    this.#words = words
    this.#blockMask = blocks - 1
    this.#touchAhead()
  }

  /** Readies the next doubling's pages (words past `#words`, never read before a widening overwrites them). */
  #touchAhead(): void {
    this.#touchNext = this.#words
    this.#touchEnd = Math.min(2 * this.#words, this.#table.length)
  }

  clear(): void {
    this.#deferredCount = 0
    this.#resetBlock = NO_RESET
    this.#table.fill(0, 0, this.#words)
    this.#additions = 0
  }
}

function blocksFor(entries: number): number {
  let blocks = 1
  while (blocks * ENTRIES_PER_BLOCK < entries) blocks *= 2
  return blocks
}

/** Spreads FNV's weak low bits over the word (a murmur3-style finalizer). */
function spreadHash(hash: number): number {
  let x = Math.imul((hash >>> 16) ^ hash, 0x45d9f3b)
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b)
  return (x >>> 16) ^ x
}

/**
 * A second hash for the counters within the block: a full-avalanche mix
 * (murmur3's fmix32), so that keys sharing a block (equal low bits) still
 * pick independent counters. 5 bits per row pick one of its 32.
 */
function counterHash(spread: number): number {
  let x = (spread + 0x9e3779b9) | 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return x ^ (x >>> 16)
}
