import { FrequencyBuckets, MAX_COUNT } from './frequency-buckets.js'
import { GhostHistory } from './ghost-history.js'
import { type EvictionPolicy, NO_SLOT } from './policy.js'
import { SlotLists } from './slot-lists.js'
import { xorshift32 } from './xorshift.js'

const RECENCY = 0
/** LeCaR's defaults: learning rate 0.45, discount rate 0.005^(1/N). */
const DEFAULT_LEARNING_RATE = 0.45
const DISCOUNT_BASE = 0.005
/** LeCaR's reference code pins the weights here, so that the losing expert can win back quickly. */
const MIN_WEIGHT = 0.01
const MAX_WEIGHT = 0.99
/**
 * A regret is scaled by 0.5 / p, p the probability with which the eviction
 * that caused it was drawn (1 at p = 0.5: LeCaR's update when the experts are
 * even), at most by this much: a weight pinned at 0.01 would otherwise make
 * one regret 50 times LeCaR's.
 */
const MAX_REGRET_SCALE = 10
const DEFAULT_SEED = 0x9e3779b9
const NO_HASH = -1

/**
 * murmur3's finaliser: xorshift32 started from a small seed gives small first
 * draws (seed 1 draws 0.00006), which would always follow the LRU expert.
 */
function mixSeed(seed: number): number {
  let x = Math.imul(seed ^ (seed >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  x ^= x >>> 16
  // xorshift32 is stuck at 0.
  return x >>> 0 || DEFAULT_SEED
}

export interface LearnedOptions {
  /** Seed of the xorshift generator that picks the expert at each eviction. */
  seed?: number
  /** λ of the weight update; LeCaR's 0.45 by default. */
  learningRate?: number
  /** Touches between two halvings of the LFU counts, as in `LfuOptions`. */
  agingPeriod?: number
}

/**
 * LeCaR (Vietri et al., HotStorage '18): two experts over the same resident
 * slots, LRU (one recency list) and LFU (counts 0..15 in bucket lists, oldest
 * first among equals, halved every `agingPeriod` touches: `FrequencyBuckets`,
 * as in `LfuPolicy`).
 * Each eviction follows one expert drawn with probability (wLru, wLfu) and
 * records the victim's hash in that expert's ghost history (a FIFO of N
 * ghosts), unless both experts named the same victim. A request for a key in
 * an expert's ghost history means that expert was wrong: its weight is
 * multiplied by e^(−λ·s·d^t), d = 0.005^(1/N), t the requests since that
 * eviction; the weights are normalised and kept in [0.01, 0.99].
 *
 * s = min(10, 0.5 / p), p the probability with which that eviction followed
 * the expert, is not in LeCaR: an expert is blamed only for evictions it was
 * followed on, so without s the expert followed more often collects more
 * regret for acting more, and the weights settle short of the better expert
 * (on a Zipf workload with scans LeCaR kept LRU at 10-40 % and fell 3 points
 * below LFU alone). Dividing by p makes the expected regret per request
 * independent of how often the expert is followed, the unbiased estimate of
 * EXP3 (Auer et al., 2002); at even weights s = 1, LeCaR's update. This happens
 * at the first of `miss`, `evict(incoming)` and `insert` that sees the hash,
 * so that, as in LeCaR, a request teaches before it picks its own victim. The
 * key comes back with its old count plus one (LeCaR's reference code). The
 * clock counts requests: touches and misses.
 *
 * N is `maxEntries`; when that is Infinity (a tier bounded by bytes), N is the
 * number of resident entries at the time, for the discount and the ghost size.
 *
 * Memory per entry: 25 B per slot (two pairs of list links, count, aging stamp, key hash) + up to 2 ghosts × (29 B of typed arrays + a Map entry, ~36 B in Node 20) ≈ 155 B at worst.
 */
export class LearnedPolicy implements EvictionPolicy {
  readonly name = 'learned'
  readonly usesKeyHashes = true
  readonly #recency: SlotLists
  readonly #buckets: FrequencyBuckets
  #hashOf: Uint32Array
  #resident = 0
  readonly #lruGhosts = new GhostHistory()
  readonly #lfuGhosts = new GhostHistory()
  #wLru = 0.5
  #wLfu = 0.5
  #random: number
  #clock = 0
  readonly #maxEntries: number
  readonly #learningRate: number
  /** The last ghost a request brought back, so that its insert (the next one) restores the count. */
  #pendingHash = NO_HASH
  #pendingCount = 1

  constructor(capacity: number, maxEntries: number = Infinity, options: LearnedOptions = {}) {
    if (!(maxEntries >= 1)) throw new TypeError(`LearnedPolicy: maxEntries must be at least 1 or Infinity, got ${maxEntries}`)
    const { seed = DEFAULT_SEED, learningRate = DEFAULT_LEARNING_RATE, agingPeriod } = options
    if (!Number.isInteger(seed)) throw new TypeError(`LearnedPolicy: options.seed must be an integer, got ${seed}`)
    if (!(learningRate > 0 && Number.isFinite(learningRate)))
      throw new TypeError(`LearnedPolicy: options.learningRate must be a positive finite number, got ${learningRate}`)
    if (agingPeriod !== undefined && !(Number.isInteger(agingPeriod) && agingPeriod >= 1))
      throw new TypeError(`LearnedPolicy: options.agingPeriod must be a positive integer, got ${agingPeriod}`)
    this.#maxEntries = maxEntries
    this.#learningRate = learningRate
    this.#random = mixSeed(seed)
    this.#recency = new SlotLists(1, capacity)
    this.#buckets = new FrequencyBuckets(capacity, agingPeriod)
    this.#hashOf = new Uint32Array(capacity)
  }

  /** [wLru, wLfu], summing to 1; allocates, so for tests and tools. */
  get weights(): [number, number] {
    return [this.#wLru, this.#wLfu]
  }

  grow(capacity: number): void {
    if (capacity <= this.#hashOf.length) return
    this.#recency.grow(capacity)
    this.#buckets.grow(capacity)
    const hashOf = new Uint32Array(capacity)
    hashOf.set(this.#hashOf)
    this.#hashOf = hashOf
  }

  /** The slot's LFU count after the halvings it has not seen yet; which bucket it is in. */
  countOf(slot: number): number {
    return this.#buckets.countOf(slot)
  }

  insert(slot: number, keyHash: number): void {
    this.#learn(keyHash)
    const count = keyHash === this.#pendingHash ? this.#pendingCount : 1
    this.#pendingHash = NO_HASH
    this.#hashOf[slot] = keyHash
    this.#recency.pushTail(RECENCY, slot)
    this.#buckets.insert(slot, count)
    this.#resident++
  }

  touch(slot: number): void {
    this.#clock++
    this.#recency.moveToTail(RECENCY, slot)
    this.#buckets.touch(slot)
  }

  remove(slot: number): void {
    this.#drop(slot)
  }

  evict(incomingKeyHash: number): number {
    if (this.#resident === 0) return NO_SLOT
    // LeCaR learns from the request before it picks the victim for it.
    this.#learn(incomingKeyHash)
    const lruVictim = this.#recency.head(RECENCY)
    const lfuVictim = this.#buckets.lowest()
    const followLru = this.#nextRandom() < this.#wLru
    const victim = followLru ? lruVictim : lfuVictim
    // When both experts agree, neither alone is to blame if the key returns.
    if (lruVictim !== lfuVictim) {
      const ghosts = followLru ? this.#lruGhosts : this.#lfuGhosts
      ghosts.add(this.#hashOf[victim], this.#clock, this.#buckets.countOf(victim), this.#n(), followLru ? this.#wLru : this.#wLfu)
    }
    this.#drop(victim)
    return victim
  }

  miss(keyHash: number): void {
    this.#clock++
    this.#learn(keyHash)
  }

  /** N of LeCaR: the cache size in entries. */
  #n(): number {
    return this.#maxEntries !== Infinity ? this.#maxEntries : Math.max(1, this.#resident)
  }

  /** If `keyHash` is a ghost, penalises the expert that evicted it and forgets the ghost. */
  #learn(keyHash: number): void {
    let ghosts = this.#lruGhosts
    let ghost = ghosts.indexOf(keyHash)
    if (ghost === NO_SLOT) {
      ghosts = this.#lfuGhosts
      ghost = ghosts.indexOf(keyHash)
      if (ghost === NO_SLOT) return
    }
    const elapsed = this.#clock - ghosts.evictedAt(ghost)
    const scale = Math.min(MAX_REGRET_SCALE, 0.5 / ghosts.chanceAt(ghost))
    const penalty = Math.exp(-this.#learningRate * scale * DISCOUNT_BASE ** (elapsed / this.#n()))
    const count = ghosts.countAt(ghost) + 1
    this.#pendingHash = keyHash
    this.#pendingCount = Math.min(count, MAX_COUNT)
    ghosts.forget(ghost)
    if (ghosts === this.#lruGhosts) this.#wLru *= penalty
    else this.#wLfu *= penalty
    const sum = this.#wLru + this.#wLfu
    this.#wLru /= sum
    this.#wLfu /= sum
    if (this.#wLru >= MAX_WEIGHT) {
      this.#wLru = MAX_WEIGHT
      this.#wLfu = MIN_WEIGHT
    } else if (this.#wLfu >= MAX_WEIGHT) {
      this.#wLru = MIN_WEIGHT
      this.#wLfu = MAX_WEIGHT
    }
  }

  #drop(slot: number): void {
    this.#recency.unlink(RECENCY, slot)
    this.#buckets.remove(slot)
    this.#resident--
  }

  /** xorshift32, as a fraction in [0, 1). */
  #nextRandom(): number {
    this.#random = xorshift32(this.#random) >>> 0
    return this.#random / 0x100000000
  }
}
