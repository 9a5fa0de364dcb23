/**
 * W-TinyLFU as `WTinyLfuPolicy` (src/policies/w-tinylfu.ts) decides it,
 * written out the slow, obvious way, for the tests to hold the policy to:
 * - three arrays of entry ids, oldest first: the LRU window and main's two
 *   segments, probation and protected;
 * - a count-min sketch as four plain arrays of numbers, one per row
 *   (`SketchModel`), sized for twice the entries, with Caffeine's halving
 *   and its additions correction;
 * - the ghosts of the two regions as a plain array (`GhostsModel`);
 * - epochs of as many requests (hits and misses) as there are resident
 *   entries, counted mod 256, and each entry's epoch of its last insert or
 *   hit: a victim idle for more than 30 epochs per unit of its estimate
 *   duels at half its estimate;
 * - the adaptive window: ±2 entries on a miss of a window / main ghost, and
 *   Caffeine's hill climber on the hit ratio of each sample of 10 × size
 *   requests; a window below its target grows only when main's oldest gives
 *   way (unread for 2 epochs, or it would lose the duel); the random
 *   admission of warm losers from the same xorshift32.
 *
 * The ids are whatever the caller keys entries by (slot numbers, string
 * keys); every decision that depends on a key's identity goes through the
 * key hash the caller passes, as the tier passes it to the policy.
 *
 * What it simplifies away, none of which changes a decision:
 * - the typed arrays, intrusive lists and packed 4-bit counters: regions are
 *   arrays with splice, counters plain numbers (the sketch's table of 64-byte
 *   blocks of packed words is the same counters, each row's 32 counters of a
 *   block side by side);
 * - `incrementSoon`: the policy holds a hit's sketch increment back, but
 *   applies the held ones, in order, before any read or other write of the
 *   sketch; the model increments at once;
 * - the cached `protectedMaximum`: recomputed here when needed (the policy
 *   refreshes its copy whenever the size or the window share changes);
 * - the 32-bit wrap-around of `RegionGhosts`' record and take counters
 *   (plain numbers here: equal for fewer than 2^31 evictions);
 * - bounds checks the tier never trips.
 *
 * What it must copy, because it is part of the decision: the sketch's and the
 * ghost table's hash functions (which counters a key shares with which, which
 * ghost overwrites which), the xorshift32 and its default seed, and the
 * constants below.
 */

const INITIAL_WINDOW_SHARE = 0.01
const MAX_WINDOW_SHARE = 0.95
const PROTECTED_SHARE_OF_MAIN = 0.8
const WARM_CANDIDATE = 6
const RANDOM_ADMIT_MASK = 127
const REBALANCE_STEPS = 4
const CLIMB_STEP = 0.0625
const CLIMB_STEP_DECAY = 0.98
const CLIMB_RESTART = 0.05
const CLIMB_SAMPLE_FACTOR = 10
const GHOST_SHARE = 0.1
const GHOST_STEP = 2
/** The sketch is sized for this many entries per entry of the tier. */
const SKETCH_ENTRIES_PER_ENTRY = 2
/** A victim idle for more than this many epochs per unit of its estimate duels at half of it. */
const STALE_EPOCHS_TIMES_FREQUENCY = 30
/** A main entry unread for this many epochs or more makes room for a window below its target. */
const GROW_IDLE_EPOCHS = 2
const DEFAULT_SEED = 0x2545f491
const NO_HASH = -1

export type Region = 'window' | 'probation' | 'protected'

export interface WTinyLfuModelOptions {
  climb?: boolean
  window?: number
  seed?: number
}

/** Ghosts kept per region for `entries` resident entries: a tenth, at least one. */
const ghostLimit = (entries: number): number => Math.max(1, Math.round(GHOST_SHARE * entries))

/**
 * The sketch's hash functions, part of its spec: `spreadHash` picks the
 * block (its low bits), `counterHash` the counter of each row in that block
 * (5 bits per row). Copied from src/policies/frequency-sketch.ts.
 */
function spreadHash(hash: number): number {
  let x = Math.imul((hash >>> 16) ^ hash, 0x45d9f3b)
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b)
  return (x >>> 16) ^ x
}

function counterHash(spread: number): number {
  let x = (spread + 0x9e3779b9) | 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return x ^ (x >>> 16)
}

/**
 * The count-min sketch: 4 rows of `blocks × 32` counters, each 0 to 15. A key
 * has one counter per row, `block × 32 + (5 bits of counterHash)`, its block
 * being `spreadHash & (blocks − 1)`; its estimate is the smallest of the four.
 * `blocks` is the least power of two with 8 × blocks ≥ entries. An increment
 * raises each of the four not yet at 15; one that raised any is an addition,
 * and after 10 × entries additions every counter is halved and the additions
 * become (additions − odd counters / 4) / 2, rounded down.
 */
export class SketchModel {
  rows: number[][]
  entries: number
  samplePeriod: number
  additions = 0
  /** The next block a reset under way halves; -1 when none is. */
  resetBlock = -1
  additionsAtReset = 0
  oddAtReset = 0
  /** Halvings so far: not part of the sketch, for tests to show they happened. */
  halvings = 0

  constructor(entries: number) {
    this.entries = Math.max(1, entries)
    this.samplePeriod = 10 * this.entries
    const width = SketchModel.blocksFor(this.entries) * 32
    this.rows = [0, 1, 2, 3].map(() => new Array<number>(width).fill(0))
  }

  static blocksFor(entries: number): number {
    let blocks = 1
    while (blocks * 8 < entries) blocks *= 2
    return blocks
  }

  /** The four counters of a hash, one index per row. */
  positions(hash: number): number[] {
    const spread = spreadHash(hash)
    const counters = counterHash(spread)
    const block = spread & (this.rows[0].length / 32 - 1)
    return [0, 1, 2, 3].map((row) => block * 32 + ((counters >>> (5 * row)) & 31))
  }

  frequency(hash: number): number {
    const at = this.positions(hash)
    return Math.min(...this.rows.map((row, r) => row[at[r]]))
  }

  increment(hash: number): void {
    const at = this.positions(hash)
    let added = false
    this.rows.forEach((row, r) => {
      if (row[at[r]] < 15) {
        row[at[r]]++
        added = true
      }
    })
    if (added) this.additions++
    if (this.resetBlock !== -1) this.halveNextBlock()
    else if (this.additions >= this.samplePeriod) this.startReset()
  }

  /**
   * A reset halves one block (32 counters of each row) per increment, the
   * first in the increment that reaches the sample period; when the last is
   * done, the additions before the reset are halved with Caffeine's
   * correction, and those made during it are kept whole.
   */
  startReset(): void {
    this.resetBlock = 0
    this.additionsAtReset = this.additions
    this.oddAtReset = 0
    this.halveNextBlock()
  }

  halveNextBlock(): void {
    for (const row of this.rows) {
      for (let i = this.resetBlock * 32; i < (this.resetBlock + 1) * 32; i++) {
        this.oddAtReset += row[i] & 1
        row[i] >>= 1
      }
    }
    this.resetBlock++
    if (this.resetBlock * 32 < this.rows[0].length) return
    this.resetBlock = -1
    this.halvings++
    const during = this.additions - this.additionsAtReset
    this.additions = Math.floor(Math.max(0, this.additionsAtReset - Math.floor(this.oddAtReset / 4)) / 2) + during
  }

  finishReset(): void {
    while (this.resetBlock !== -1) this.halveNextBlock()
  }

  /**
   * Sized for more entries: a longer sample period, and when that needs more
   * blocks, each row repeated to the new width, so that a key's counters in
   * the wider table (its old block index with more hash bits) keep its counts.
   */
  ensureCapacity(entries: number): void {
    if (entries <= this.entries) return
    this.finishReset()
    this.entries = entries
    this.samplePeriod = 10 * entries
    const width = SketchModel.blocksFor(entries) * 32
    if (width <= this.rows[0].length) return
    this.rows = this.rows.map((row) => Array.from({ length: width }, (_, i) => row[i % row.length]))
  }

  clear(): void {
    for (const row of this.rows) row.fill(0)
    this.resetBlock = -1
    this.additions = 0
  }
}

/**
 * The ghost table's hash function, part of its spec (which ghosts share a
 * table slot): murmur3's finaliser, copied from src/policies/region-ghosts.ts.
 */
function ghostSlotHash(hash: number): number {
  let x = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return x ^ (x >>> 16)
}

interface Ghost {
  hash: number
  region: number
  /** The region's count of records once this one was counted. */
  recordedAt: number
  /** The region's count of takes when it was recorded. */
  takenAt: number
}

/**
 * The ghosts of evicted keys, per region (0 the window, 1 main), as a list of
 * the live ones. Each region has `slots` places (16, doubled while fewer than
 * two per ghost of `limit`); a hash has the place `ghostSlotHash & (slots − 1)`
 * and a new ghost replaces the one in its place, so a ghost may be lost early.
 * A key is a ghost of the region it left last only. A ghost taken back answers
 * its region if fewer than `limit` ghosts of that region were recorded after
 * it, less the region's takes since; either way it is gone. A larger `limit`
 * that needs more places forgets every ghost; the counts go on.
 */
export class GhostsModel {
  ghosts: Ghost[] = []
  recorded = [0, 0]
  taken = [0, 0]
  limit = 1
  slots = 0

  constructor(limit: number) {
    this.resize(limit)
  }

  resize(limit: number): void {
    this.limit = Math.max(1, Math.floor(limit))
    let slots = 16
    while (slots < 2 * this.limit) slots *= 2
    if (slots <= this.slots) return
    this.slots = slots
    this.ghosts = []
  }

  placeOf(hash: number): number {
    return ghostSlotHash(hash) & (this.slots - 1)
  }

  add(hash: number, region: number): void {
    const place = this.placeOf(hash)
    this.ghosts = this.ghosts.filter(
      (ghost) => !(ghost.region !== region && ghost.hash === hash) && !(ghost.region === region && this.placeOf(ghost.hash) === place),
    )
    this.recorded[region]++
    this.ghosts.push({ hash, region, recordedAt: this.recorded[region], takenAt: this.taken[region] })
  }

  take(hash: number): number {
    const at = this.ghosts.findIndex((ghost) => ghost.hash === hash)
    if (at === -1) return -1
    const [ghost] = this.ghosts.splice(at, 1)
    const { region } = ghost
    const since = this.recorded[region] - ghost.recordedAt - (this.taken[region] - ghost.takenAt)
    if (since >= this.limit) return -1
    this.taken[region]++
    return region
  }

  clear(): void {
    this.ghosts = []
  }
}

/**
 * The policy's decisions on ids of type `K`, called as the tier calls the
 * policy: `grow` when the tier's slot table grows, `miss(hash)` on a read
 * that missed, `evict(incomingHash)` while full, `insert(id, hash)` for a new
 * entry, `touch(id)` on a hit, `remove(id)` on a delete.
 */
export class WTinyLfuModel<K> {
  window: K[] = []
  probation: K[] = []
  protected: K[] = []
  readonly hashOf = new Map<K, number>()
  readonly sketch: SketchModel
  readonly ghosts: GhostsModel
  readonly climbs: boolean
  readonly initialShare: number
  readonly seed: number
  capacity: number
  share: number
  lastMiss = NO_HASH
  random: number
  /** The climber's sample: counted from the first eviction on. */
  evicting = false
  hits = 0
  misses = 0
  previousHitRate = 0
  step = -CLIMB_STEP
  /** Epochs: requests since the epoch began, its length, its number mod 256, and each entry's epoch of its last insert or hit. */
  requests = 0
  epochLength = 0
  epoch = 0
  readonly touchedAt = new Map<K, number>()
  /** How often each rule fired, so that tests can show they ran: not part of the policy. */
  readonly fired = { ghostGrow: 0, ghostShrink: 0, climbs: 0, warmDraws: 0, warmAdmits: 0, staleVictims: 0, windowGrows: 0, growthsHeld: 0 }

  constructor(
    capacity: number,
    readonly maxEntries = Infinity,
    options: WTinyLfuModelOptions = {},
  ) {
    this.capacity = capacity
    this.sketch = new SketchModel(SKETCH_ENTRIES_PER_ENTRY * Math.min(capacity, maxEntries))
    this.ghosts = new GhostsModel(ghostLimit(Math.min(capacity, maxEntries)))
    this.climbs = options.climb ?? true
    this.initialShare = this.share = options.window ?? INITIAL_WINDOW_SHARE
    this.seed = (options.seed ?? DEFAULT_SEED) | 0 || DEFAULT_SEED
    this.random = this.seed
  }

  get size(): number {
    return this.window.length + this.probation.length + this.protected.length
  }

  windowMaximum(): number {
    return Math.max(1, Math.round(this.share * this.size))
  }

  protectedMaximum(): number {
    return Math.max(0, Math.floor(PROTECTED_SHARE_OF_MAIN * (this.size - this.windowMaximum())))
  }

  regionOf(id: K): Region | undefined {
    if (this.window.includes(id)) return 'window'
    if (this.probation.includes(id)) return 'probation'
    if (this.protected.includes(id)) return 'protected'
    return undefined
  }

  grow(capacity: number): void {
    if (capacity <= this.capacity) return
    this.capacity = capacity
    this.sketch.ensureCapacity(SKETCH_ENTRIES_PER_ENTRY * Math.min(capacity, this.maxEntries))
    this.ghosts.resize(ghostLimit(Math.min(capacity, this.maxEntries)))
  }

  miss(hash: number): void {
    this.sketch.increment(hash)
    this.lastMiss = hash
    if (++this.requests >= this.epochLength) {
      this.epoch = (this.epoch + 1) % 256
      this.epochLength = Math.max(1, this.size)
      this.requests = 0
    }
    if (!this.evicting || !this.climbs || this.size === 0) {
      this.hits = 0
      return
    }
    const ghost = this.ghosts.take(hash)
    if (ghost !== -1) {
      // The window gains two entries for a hit a slightly larger window would have had, gives two for one of main.
      const step = (ghost === 0 ? GHOST_STEP : -GHOST_STEP) / this.size
      this.share = Math.min(MAX_WINDOW_SHARE, Math.max(0, this.share + step))
      if (ghost === 0) this.fired.ghostGrow++
      else this.fired.ghostShrink++
    }
    this.misses++
    if (this.hits + this.misses >= CLIMB_SAMPLE_FACTOR * this.size) this.climb()
  }

  insert(id: K, hash: number): void {
    // A miss and the insert that fills it are one access: counted once.
    if (hash === this.lastMiss) this.lastMiss = NO_HASH
    else this.sketch.increment(hash)
    this.hashOf.set(id, hash)
    this.touchedAt.set(id, this.epoch)
    this.window.push(id)
    const windowMaximum = this.windowMaximum()
    for (let i = 0; i < REBALANCE_STEPS && this.window.length > windowMaximum; i++) {
      this.probation.push(this.window.shift() as K)
    }
    this.demote()
  }

  touch(id: K): void {
    this.sketch.increment(this.hashOf.get(id) as number)
    this.touchedAt.set(id, this.epoch)
    this.requests++
    if (this.probation.includes(id)) {
      take(this.probation, id)
      this.protected.push(id)
      this.demote()
    } else if (take(this.window, id)) this.window.push(id)
    else if (take(this.protected, id)) this.protected.push(id)
    this.hits++
  }

  remove(id: K): void {
    if (!take(this.window, id) && !take(this.probation, id)) take(this.protected, id)
    this.hashOf.delete(id)
    this.touchedAt.delete(id)
  }

  /**
   * The id to give up, gone from the model. With the window or main empty,
   * the other's oldest. Otherwise the window's oldest (the candidate) faces
   * probation's oldest (protected's if probation is empty):
   * - a full window: the candidate stays, moving to probation, only if it is
   *   estimated more frequent (the victim at half its estimate when idle for
   *   long), or at 6 or more by a 1-in-128 draw; otherwise it goes;
   * - a window below its target: the victim goes (the window grows) if it
   *   has been unread for 2 epochs or more, or the candidate is estimated
   *   more frequent (the victim at half when idle for long; no draw);
   *   otherwise the candidate goes.
   */
  evict(_incomingHash?: number): K | undefined {
    if (this.size === 0) return undefined
    if (!this.evicting) {
      this.evicting = true
      this.hits = this.misses = 0
    }
    const candidate = this.window[0]
    const victim = this.probation[0] ?? this.protected[0]
    if (candidate === undefined || victim === undefined) {
      const oldest = (victim ?? candidate) as K
      this.evicted(oldest)
      return oldest
    }
    if (this.window.length < this.windowMaximum()) {
      const idle = (this.epoch - (this.touchedAt.get(victim) as number) + 256) % 256
      const grows = idle >= GROW_IDLE_EPOCHS || this.sketch.frequency(this.hashOf.get(candidate) as number) > this.victimFrequency(victim)
      if (grows) this.fired.windowGrows++
      else this.fired.growthsHeld++
      const leaving = grows ? victim : candidate
      this.evicted(leaving)
      return leaving
    }
    if (!this.admit(candidate, victim)) {
      this.evicted(candidate)
      return candidate
    }
    this.evicted(victim)
    this.window.shift()
    this.probation.push(candidate)
    return victim
  }

  admit(candidate: K, victim: K): boolean {
    const candidateFrequency = this.sketch.frequency(this.hashOf.get(candidate) as number)
    const victimFrequency = this.victimFrequency(victim)
    if (victimFrequency < this.sketch.frequency(this.hashOf.get(victim) as number)) this.fired.staleVictims++
    if (candidateFrequency > victimFrequency) return true
    if (candidateFrequency < WARM_CANDIDATE) return false
    // xorshift32 on a signed 32-bit state, as the policy keeps it.
    let x = this.random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.random = x
    this.fired.warmDraws++
    if ((x & RANDOM_ADMIT_MASK) !== 0) return false
    this.fired.warmAdmits++
    return true
  }

  /** The victim's estimate, halved (rounded down) when it has been idle for more than 30 epochs per unit of it. */
  victimFrequency(victim: K): number {
    const frequency = this.sketch.frequency(this.hashOf.get(victim) as number)
    const idle = (this.epoch - (this.touchedAt.get(victim) as number) + 256) % 256
    return idle * frequency > STALE_EPOCHS_TIMES_FREQUENCY ? Math.floor(frequency / 2) : frequency
  }

  /** Records the id's key as a ghost of the region it leaves (with ghosts for a tenth of the entries now), then drops it. */
  evicted(id: K): void {
    if (this.climbs) {
      this.ghosts.resize(ghostLimit(this.size))
      this.ghosts.add(this.hashOf.get(id) as number, this.window.includes(id) ? 0 : 1)
    }
    this.remove(id)
  }

  demote(): void {
    for (let i = 0; i < REBALANCE_STEPS && this.protected.length > this.protectedMaximum(); i++) {
      this.probation.push(this.protected.shift() as K)
    }
  }

  /**
   * Caffeine's hill climber: step the window's share in the same direction
   * while the sample's hit ratio does not drop, reverse when it drops; the
   * step decays by 2 % a sample and restarts at 0.0625 when the hit ratio
   * moved by 5 points or more.
   */
  climb(): void {
    const hitRate = this.hits / (this.hits + this.misses)
    const change = hitRate - this.previousHitRate
    const amount = change >= 0 ? this.step : -this.step
    this.step = Math.abs(change) >= CLIMB_RESTART ? (amount >= 0 ? CLIMB_STEP : -CLIMB_STEP) : CLIMB_STEP_DECAY * amount
    this.previousHitRate = hitRate
    this.hits = this.misses = 0
    this.share = Math.min(MAX_WINDOW_SHARE, Math.max(0, this.share + amount))
    this.fired.climbs++
  }
}

/** Removes `id` from `list` if there; true if it was. */
function take<K>(list: K[], id: K): boolean {
  const at = list.indexOf(id)
  if (at < 0) return false
  list.splice(at, 1)
  return true
}
