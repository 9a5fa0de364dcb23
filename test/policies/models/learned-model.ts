/**
 * LeCaR as `LearnedPolicy` (src/policies/learned.ts) decides it, written out
 * literally, for the tests to hold the policy to:
 * - the LRU expert as one array of entry ids, oldest first; the LFU expert as
 *   16 arrays, one per count 0 to 15, oldest first among equals, every count
 *   halved in place (list c appended to list c/2, c ascending) after
 *   `agingPeriod` touches;
 * - each expert's ghost history as an array of { hash, time, count, chance },
 *   oldest first, at most N long;
 * - the same xorshift32 from the same mixed seed, one draw per eviction, and
 *   the same formulas: a ghost hit multiplies its expert's weight by
 *   e^(−λ·s·0.005^(t/N)), s = min(10, 0.5 / p), then the weights are
 *   normalised and pinned to [0.01, 0.99].
 *
 * The ids are whatever the caller keys entries by (slot numbers, string
 * keys); ghosts are found by the key hash the caller passes, as the tier
 * passes it to the policy.
 *
 * What it simplifies away, none of which changes a decision: the typed
 * arrays and intrusive lists, the lazy halving (a count read through the
 * halvings since it was stamped), and `GhostHistory`'s free list and index
 * Map (a plain array searched from the oldest: a hash is in it at most once).
 */

const MAX_COUNT = 15
const DEFAULT_SEED = 0x9e3779b9
const DEFAULT_LEARNING_RATE = 0.45
const DISCOUNT_BASE = 0.005
const MIN_WEIGHT = 0.01
const MAX_WEIGHT = 0.99
const MAX_REGRET_SCALE = 10

export interface LeCaRModelOptions {
  seed?: number
  learningRate?: number
  agingPeriod?: number
}

interface Ghost {
  hash: number
  /** The clock (requests so far) at the eviction. */
  time: number
  count: number
  /** The probability with which the eviction followed this expert. */
  chance: number
}

/**
 * The policy's decisions on ids of type `K`, called as the tier calls the
 * policy: `grow` when the tier's slot table grows, `miss(hash)` on a read
 * that missed, `evict(incomingHash)` while full, `insert(id, hash)` for a new
 * entry, `touch(id)` on a hit, `remove(id)` on a delete.
 */
export class LeCaRModel<K> {
  recency: K[] = []
  buckets: K[][] = Array.from({ length: MAX_COUNT + 1 }, () => [])
  readonly counts = new Map<K, number>()
  readonly hashes = new Map<K, number>()
  /** [LRU's, LFU's]. */
  ghosts: Ghost[][] = [[], []]
  /** [wLru, wLfu]. */
  weights: [number, number] = [0.5, 0.5]
  clock = 0
  touches = 0
  random: number
  readonly learningRate: number
  agingPeriod: number
  readonly fixedPeriod: boolean
  /** The ghost the last lesson came from: its insert (the next one) restores its count plus one. */
  pending: { hash: number; count: number } | undefined

  constructor(
    public capacity: number,
    readonly maxEntries = Infinity,
    options: LeCaRModelOptions = {},
  ) {
    const { seed = DEFAULT_SEED, learningRate = DEFAULT_LEARNING_RATE, agingPeriod } = options
    // The seed goes through murmur3's finaliser, as the policy does it (xorshift32 from a small seed starts small).
    let x = Math.imul(seed ^ (seed >>> 16), 0x85ebca6b)
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
    this.random = (x ^ (x >>> 16)) >>> 0 || DEFAULT_SEED
    this.learningRate = learningRate
    this.fixedPeriod = agingPeriod !== undefined
    this.agingPeriod = agingPeriod ?? Math.max(1024, 10 * capacity)
  }

  /** N of LeCaR: the cache's size in entries, or the resident entries when it is bounded by bytes. */
  n(): number {
    return this.maxEntries === Infinity ? Math.max(1, this.recency.length) : this.maxEntries
  }

  /** xorshift32, as a fraction in [0, 1). */
  nextRandom(): number {
    let x = this.random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.random = x >>> 0
    return this.random / 2 ** 32
  }

  /** If `hash` is a ghost (LRU's looked at first), blames the expert that evicted it and forgets the ghost. */
  learn(hash: number): void {
    for (const expert of [0, 1]) {
      const found = this.ghosts[expert].findIndex((ghost) => ghost.hash === hash)
      if (found === -1) continue
      const [ghost] = this.ghosts[expert].splice(found, 1)
      this.pending = { hash, count: Math.min(MAX_COUNT, ghost.count + 1) }
      const scale = Math.min(MAX_REGRET_SCALE, 0.5 / ghost.chance)
      this.weights[expert] *= Math.exp(-this.learningRate * scale * DISCOUNT_BASE ** ((this.clock - ghost.time) / this.n()))
      const sum = this.weights[0] + this.weights[1]
      this.weights = [this.weights[0] / sum, this.weights[1] / sum]
      if (this.weights[0] >= MAX_WEIGHT) this.weights = [MAX_WEIGHT, MIN_WEIGHT]
      else if (this.weights[1] >= MAX_WEIGHT) this.weights = [MIN_WEIGHT, MAX_WEIGHT]
      return
    }
  }

  /** The tier's slot table grew: the default aging period follows it. */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return
    this.capacity = capacity
    if (!this.fixedPeriod) this.agingPeriod = Math.max(1024, 10 * capacity)
  }

  insert(id: K, hash: number): void {
    this.learn(hash)
    const count = this.pending?.hash === hash ? this.pending.count : 1
    this.pending = undefined
    this.recency.push(id)
    this.buckets[count].push(id)
    this.counts.set(id, count)
    this.hashes.set(id, hash)
  }

  touch(id: K): void {
    this.clock++
    this.recency = [...this.recency.filter((other) => other !== id), id]
    const count = this.counts.get(id) as number
    const next = Math.min(MAX_COUNT, count + 1)
    this.buckets[count] = this.buckets[count].filter((other) => other !== id)
    this.buckets[next].push(id)
    this.counts.set(id, next)
    if (++this.touches >= this.agingPeriod) {
      this.touches = 0
      for (const [other, c] of this.counts) this.counts.set(other, c >> 1)
      for (let c = 1; c <= MAX_COUNT; c++) {
        this.buckets[c >> 1].push(...this.buckets[c])
        this.buckets[c] = []
      }
    }
  }

  remove(id: K): void {
    this.recency = this.recency.filter((other) => other !== id)
    const count = this.counts.get(id) as number
    this.buckets[count] = this.buckets[count].filter((other) => other !== id)
    this.counts.delete(id)
    this.hashes.delete(id)
  }

  /**
   * Learns from the incoming key first, then follows the expert drawn with
   * probability (wLru, wLfu); the victim becomes a ghost of that expert unless
   * both experts named it.
   */
  evict(incomingHash: number): K | undefined {
    if (this.recency.length === 0) return undefined
    this.learn(incomingHash)
    const lruVictim = this.recency[0]
    const lfuVictim = (this.buckets.find((bucket) => bucket.length > 0) as K[])[0]
    const expert = this.nextRandom() < this.weights[0] ? 0 : 1
    const victim = expert === 0 ? lruVictim : lfuVictim
    if (lruVictim !== lfuVictim) {
      const hash = this.hashes.get(victim) as number
      const history = this.ghosts[expert].filter((ghost) => ghost.hash !== hash)
      while (history.length >= this.n()) history.shift()
      history.push({ hash, time: this.clock, count: this.counts.get(victim) as number, chance: this.weights[expert] })
      this.ghosts[expert] = history
    }
    this.remove(victim)
    return victim
  }

  miss(hash: number): void {
    this.clock++
    this.learn(hash)
  }
}
