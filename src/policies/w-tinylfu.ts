import { FrequencySketch } from './frequency-sketch.js'
import { HillClimber } from './hill-climber.js'
import { type EvictionPolicy, NO_SLOT } from './policy.js'
import { RegionGhosts } from './region-ghosts.js'
import { reservedSlots } from './reserve.js'
import { SlotLists } from './slot-lists.js'
import {
  CLIMB_SAMPLE_FACTOR,
  DEFAULT_SEED,
  GHOST_STEP,
  GROW_IDLE_EPOCHS,
  ghostLimit,
  INITIAL_WINDOW_SHARE,
  MAX_WINDOW_SHARE,
  PROTECTED_SHARE_OF_MAIN,
  RANDOM_ADMIT_MASK,
  REBALANCE_STEPS,
  SKETCH_ENTRIES_PER_ENTRY,
  STALE_EPOCHS_TIMES_FREQUENCY,
  WARM_CANDIDATE,
  type WTinyLfuOptions,
} from './w-tinylfu-constants.js'
import { xorshift32 } from './xorshift.js'

// List ids in `SlotLists`, and the region a slot is in.
const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2
const REGION_NAMES = ['window', 'probation', 'protected'] as const
export type WTinyLfuRegion = (typeof REGION_NAMES)[number]

/** `RegionGhosts` regions. */
const WINDOW_GHOST = 0
const MAIN_GHOST = 1
/** No miss waiting for its insert: key hashes are uint32, so -1 matches none. */
const NO_HASH = -1

/**
 * W-TinyLFU as Caffeine does it: new entries enter a small LRU window; when
 * the window overflows, its oldest entry (the candidate) must beat the oldest
 * entry of main's probation segment (the victim) on estimated frequency to
 * stay, and the loser is evicted. Main is a segmented LRU: a hit in probation
 * promotes to protected (~80 % of main), whose overflow is demoted back to
 * probation. Frequencies come from a count-min sketch with periodic halving
 * (`FrequencySketch`, sized for twice the entries: halved every 20 × size
 * additions), fed by every insert, hit and miss. A hit's increment is held
 * back and applied with the next ones (`incrementSoon`), always before the
 * sketch is read: the same decisions, at about a third of the cost per hit.
 *
 * The window's share of the cache adapts two ways, both bigger for
 * recency-biased workloads and smaller for frequency-biased ones:
 * - at once, from ghosts, as ARC sizes its lists (Megiddo and Modha): the
 *   hashes of the last 10 % × size keys evicted from the window (candidates
 *   that lost) and of the last 10 % × size evicted from main (`RegionGhosts`).
 *   A miss on a window ghost is a hit a slightly bigger window would have
 *   had: the window grows by two entries; a miss on a main ghost shrinks it
 *   by two. Keeping only the most recent tenth makes each ghost hit speak
 *   for the margin, not for a cache twice the size, which is what biases
 *   ARC toward recency.
 * - slowly, by Caffeine's hill climber on the hit ratio of each sample of
 *   10 × size requests, which corrects what the ghosts misjudge.
 * The window ranges over 0 to 95 % of the entries.
 *
 * An entry of main whose working set has moved on keeps its count in the
 * sketch until halvings wear it down; meanwhile it would win every duel
 * against the new set's keys. So a victim that has not been read for much
 * longer than its frequency predicts duels at half its frequency (see
 * `evict`). The epoch of each slot's last read is one byte, so an entry
 * idle for 256 epochs or more may pass for a recent one: it then duels at
 * its full frequency, as W-TinyLFU would anyway.
 *
 * Region targets are sized from the entries resident at the time: when the
 * tier is full (the only time it evicts) that is its maximum, whether entries
 * or bytes bound it, so one rule serves both; `maxEntries` only caps the
 * sketch. The sketch is sized from the tier's capacity and widened on `grow`
 * without losing counts (see `FrequencySketch.ensureCapacity`), inside a
 * table reserved for a finite maximum: growing then allocates nothing.
 *
 * Memory per entry: 14 bytes per slot of capacity (prev/next links 8, key
 * hash 4, region 1, epoch of the last read 1), the sketch's 16 bytes per
 * slot (8 per sketch entry, two sketch entries per slot) rounded up to a
 * power of two, and the ghosts' 2 regions × 2 slots × 16 bytes per tenth of
 * an entry (6.4 bytes, rounded up to a power of two: at most 12.8), so 36 to
 * 59 bytes; no allocation on `touch`, `miss` or `evict`.
 */
export class WTinyLfuPolicy implements EvictionPolicy {
  readonly name = 'w-tinylfu'
  readonly usesKeyHashes = true
  readonly #lists: SlotLists
  #keyHash: Uint32Array
  #region: Uint8Array
  /** The epoch (mod 256) of each slot's last insert or hit. */
  #touchedAt: Uint8Array
  readonly #sketch: FrequencySketch
  readonly #ghosts: RegionGhosts
  readonly #maxEntries: number
  readonly #climbs: boolean
  #size = 0
  #windowSize = 0
  #probationSize = 0
  #protectedSize = 0
  #windowShare: number
  /**
   * The region targets (`windowMaximum`, `protectedMaximum`) and the size they
   * were computed for: a set that evicts changes the size twice (one out, one
   * in), back to where it was, so they are recomputed only when read at a size
   * they were not computed for, or after the window's share moved (-1).
   */
  #windowMaximum = 1
  #protectedMaximum = 0
  #targetsSize = -1
  /** The size the ghosts' limit was last checked for (`ghostLimit` of it); -1 after `grow` resized them. */
  #ghostsSize = -1
  /** The hash of the last miss not yet followed by its insert: a read that missed and the write that fills it are one access. */
  #lastMissHash = NO_HASH
  #random: number
  /** Epochs count requests (hits and misses) in steps of the resident entries, mod 256. */
  #epoch = 0
  #epochLength = 0
  #requestsInEpoch = 0
  // Hill climber: samples count only once the tier is full, when the window size matters.
  // A hit only counts; the sample is checked on misses, so it ends at the first miss past its size.
  #evicting = false
  #hitsInSample = 0
  #missesInSample = 0
  readonly #climber = new HillClimber()

  constructor(capacity: number, maxEntries: number = Infinity, options: WTinyLfuOptions = {}) {
    const window = options.window ?? INITIAL_WINDOW_SHARE
    if (!(window >= 0 && window <= MAX_WINDOW_SHARE)) {
      throw new TypeError(`WTinyLfuPolicy: window must be a share between 0 and ${MAX_WINDOW_SHARE}, got ${window}`)
    }
    // With a finite maximum, every column and the sketch's table are reserved for it: growing copies nothing.
    const reserved = options.reserve === false ? capacity : reservedSlots(capacity, maxEntries)
    this.#lists = new SlotLists(3, reserved)
    this.#keyHash = new Uint32Array(reserved)
    this.#region = new Uint8Array(reserved)
    this.#touchedAt = new Uint8Array(reserved)
    this.#maxEntries = maxEntries
    this.#sketch = new FrequencySketch(SKETCH_ENTRIES_PER_ENTRY * Math.min(capacity, maxEntries), {
      reserve: SKETCH_ENTRIES_PER_ENTRY * Math.min(reserved, maxEntries),
    })
    this.#ghosts = new RegionGhosts(ghostLimit(Math.min(capacity, maxEntries)), undefined, ghostLimit(Math.min(reserved, maxEntries)))
    this.#climbs = options.climb ?? true
    this.#windowShare = window
    // xorshift32 needs a non-zero state.
    this.#random = (options.seed ?? DEFAULT_SEED) | 0 || DEFAULT_SEED
  }

  /** The window's current target in entries. */
  get windowMaximum(): number {
    if (this.#size !== this.#targetsSize) this.#computeTargets()
    return this.#windowMaximum
  }

  /** The window's current share of the resident entries, as the climber left it. */
  get windowShare(): number {
    return this.#windowShare
  }

  get protectedMaximum(): number {
    if (this.#size !== this.#targetsSize) this.#computeTargets()
    return this.#protectedMaximum
  }

  get windowSize(): number {
    return this.#windowSize
  }

  get probationSize(): number {
    return this.#probationSize
  }

  get protectedSize(): number {
    return this.#protectedSize
  }

  /** Where a resident slot is; for tests and tools. */
  regionOf(slot: number): WTinyLfuRegion {
    return REGION_NAMES[this.#region[slot]]
  }

  /** The sketch's estimate for a key hash, 0 to 15. */
  frequencyOf(keyHash: number): number {
    return this.#sketch.frequency(keyHash)
  }

  grow(capacity: number): void {
    // The sketch and the ghosts follow the capacity even when the columns were reserved: the same decisions either way.
    this.#sketch.ensureCapacity(SKETCH_ENTRIES_PER_ENTRY * Math.min(capacity, this.#maxEntries))
    this.#ghosts.resize(ghostLimit(Math.min(capacity, this.#maxEntries)))
    this.#ghostsSize = -1
    if (capacity <= this.#keyHash.length) return
    this.#lists.grow(capacity)
    const keyHash = new Uint32Array(capacity)
    const region = new Uint8Array(capacity)
    const touchedAt = new Uint8Array(capacity)
    keyHash.set(this.#keyHash)
    region.set(this.#region)
    touchedAt.set(this.#touchedAt)
    this.#keyHash = keyHash
    this.#region = region
    this.#touchedAt = touchedAt
  }

  insert(slot: number, keyHash: number): void {
    if (keyHash === this.#lastMissHash) this.#lastMissHash = NO_HASH
    else this.#sketch.increment(keyHash)
    this.#keyHash[slot] = keyHash
    this.#region[slot] = WINDOW
    this.#touchedAt[slot] = this.#epoch
    this.#lists.pushTail(WINDOW, slot)
    this.#windowSize++
    this.#size++
    // Window overflow passes to probation unjudged: admission happens only when something must leave.
    const windowMaximum = this.windowMaximum
    for (let i = 0; i < REBALANCE_STEPS && this.#windowSize > windowMaximum; i++) {
      const oldest = this.#lists.head(WINDOW)
      this.#lists.unlink(WINDOW, oldest)
      this.#windowSize--
      this.#lists.pushTail(PROBATION, oldest)
      this.#region[oldest] = PROBATION
      this.#probationSize++
    }
    this.#demoteProtectedOverflow()
  }

  touch(slot: number): void {
    this.#sketch.incrementSoon(this.#keyHash[slot])
    this.#touchedAt[slot] = this.#epoch
    this.#requestsInEpoch++
    this.#hitsInSample++
    const region = this.#region[slot]
    if (region === PROBATION) {
      this.#lists.unlink(PROBATION, slot)
      this.#probationSize--
      this.#lists.pushTail(PROTECTED, slot)
      this.#region[slot] = PROTECTED
      this.#protectedSize++
      this.#demoteProtectedOverflow()
    } else this.#lists.moveToTail(region, slot)
  }

  remove(slot: number): void {
    this.#drop(slot)
  }

  /**
   * Makes room for one entry about to enter the window. If the window is at
   * or over its target, its oldest entry duels probation's oldest (protected's
   * when probation is empty): the higher estimated frequency stays in main,
   * ties evict the candidate. A victim that has gone unread for long given
   * its frequency duels at half of it: one idle for more than 30 epochs (an
   * epoch is as many requests as there are resident entries) divided by its
   * estimate. A key counted f times in the sketch's memory (10 to 20 × size
   * requests) comes back about every 10 to 20 / f epochs; missing two or
   * three returns says its working set has moved on, though the sketch
   * will remember it until a halving or two. The halving gives the duel to a
   * candidate that comes close, not to any candidate.
   *
   * A window below its target grows only when main's oldest gives way: it
   * would lose the duel, or has been unread for 2 epochs; else the window's
   * oldest goes. On a loop a little larger than the cache the ghosts swing
   * the share to and fro, and growing on each swing evicted main's oldest,
   * the key the loop reads next; a working set that moved on leaves main
   * unread, and the window still grows at once. With the window or main
   * empty, the other's oldest goes. The incoming key plays no part.
   */
  evict(_incomingKeyHash?: number): number {
    if (this.#size === 0) return NO_SLOT
    if (!this.#evicting) {
      // The first sample starts with the first eviction: hits while filling say nothing of the window.
      this.#evicting = true
      this.#hitsInSample = this.#missesInSample = 0
    }
    const lists = this.#lists
    const candidate = lists.head(WINDOW)
    let victim = lists.head(PROBATION)
    if (victim === NO_SLOT) victim = lists.head(PROTECTED)
    if (candidate === NO_SLOT || victim === NO_SLOT) {
      const oldest = victim === NO_SLOT ? candidate : victim
      this.#evicted(oldest)
      return oldest
    }
    if (this.#windowSize < this.windowMaximum) {
      const leaving = this.#givesWay(victim, candidate) ? victim : candidate
      this.#evicted(leaving)
      return leaving
    }
    if (!this.#admit(candidate, victim)) {
      this.#evicted(candidate)
      return candidate
    }
    this.#evicted(victim)
    lists.unlink(WINDOW, candidate)
    this.#windowSize--
    lists.pushTail(PROBATION, candidate)
    this.#region[candidate] = PROBATION
    this.#probationSize++
    return victim
  }

  miss(keyHash: number): void {
    this.#sketch.increment(keyHash)
    this.#lastMissHash = keyHash
    if (++this.#requestsInEpoch >= this.#epochLength) {
      this.#epoch = (this.#epoch + 1) & 255
      this.#epochLength = Math.max(1, this.#size)
      this.#requestsInEpoch = 0
    }
    // An empty tier (everything deleted or expired) has no window to size.
    if (!this.#evicting || !this.#climbs || this.#size === 0) {
      this.#hitsInSample = 0
      return
    }
    const ghost = this.#ghosts.take(keyHash)
    if (ghost !== -1) {
      const step = (ghost === WINDOW_GHOST ? GHOST_STEP : -GHOST_STEP) / this.#size
      this.#windowShare = Math.min(MAX_WINDOW_SHARE, Math.max(0, this.#windowShare + step))
      this.#targetsSize = -1
    }
    this.#missesInSample++
    if (this.#hitsInSample + this.#missesInSample >= CLIMB_SAMPLE_FACTOR * this.#size) this.#climb()
  }

  #admit(candidate: number, victim: number): boolean {
    const candidateFrequency = this.#sketch.frequency(this.#keyHash[candidate])
    if (candidateFrequency > this.#victimFrequency(victim)) return true
    if (candidateFrequency < WARM_CANDIDATE) return false
    // Hash flooding can keep a hot victim unbeatable; a rare random admission breaks the stalemate.
    this.#random = xorshift32(this.#random)
    return (this.#random & RANDOM_ADMIT_MASK) === 0
  }

  /** Whether main's oldest (`victim`) makes room for a window that is to grow; see `evict`. */
  #givesWay(victim: number, candidate: number): boolean {
    if (((this.#epoch - this.#touchedAt[victim]) & 255) >= GROW_IDLE_EPOCHS) return true
    return this.#sketch.frequency(this.#keyHash[candidate]) > this.#victimFrequency(victim)
  }

  /** A victim's estimate as it duels: halved when it has been idle for long given the estimate. */
  #victimFrequency(victim: number): number {
    const frequency = this.#sketch.frequency(this.#keyHash[victim])
    return ((this.#epoch - this.#touchedAt[victim]) & 255) * frequency > STALE_EPOCHS_TIMES_FREQUENCY ? frequency >>> 1 : frequency
  }

  /** Drops an evicted slot, first recording its key as a ghost of the region it leaves. */
  #evicted(slot: number): void {
    if (this.#climbs) {
      if (this.#size !== this.#ghostsSize) {
        this.#ghostsSize = this.#size
        const limit = ghostLimit(this.#size)
        if (limit !== this.#ghosts.limit) this.#ghosts.resize(limit)
      }
      this.#ghosts.add(this.#keyHash[slot], this.#region[slot] === WINDOW ? WINDOW_GHOST : MAIN_GHOST)
    }
    this.#drop(slot)
  }

  #drop(slot: number): void {
    const region = this.#region[slot]
    this.#lists.unlink(region, slot)
    if (region === WINDOW) this.#windowSize--
    else if (region === PROBATION) this.#probationSize--
    else this.#protectedSize--
    this.#size--
  }

  #computeTargets(): void {
    this.#targetsSize = this.#size
    this.#windowMaximum = Math.max(1, Math.round(this.#windowShare * this.#size))
    this.#protectedMaximum = Math.max(0, Math.floor(PROTECTED_SHARE_OF_MAIN * (this.#size - this.#windowMaximum)))
  }

  #demoteProtectedOverflow(): void {
    const protectedMaximum = this.protectedMaximum
    for (let i = 0; i < REBALANCE_STEPS && this.#protectedSize > protectedMaximum; i++) {
      const oldest = this.#lists.head(PROTECTED)
      this.#lists.unlink(PROTECTED, oldest)
      this.#protectedSize--
      this.#lists.pushTail(PROBATION, oldest)
      this.#region[oldest] = PROBATION
      this.#probationSize++
    }
  }

  /** Ends a sample of the hill climber (`HillClimber`): the window's share moves by its step. */
  #climb(): void {
    const hitRate = this.#hitsInSample / (this.#hitsInSample + this.#missesInSample)
    this.#hitsInSample = this.#missesInSample = 0
    this.#windowShare = Math.min(MAX_WINDOW_SHARE, Math.max(0, this.#windowShare + this.#climber.adjust(hitRate)))
    this.#targetsSize = -1
  }
}
