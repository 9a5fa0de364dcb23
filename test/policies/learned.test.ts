import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey } from '../../src/policies/key-hash.js'
import { LearnedPolicy } from '../../src/policies/learned.js'
import { LfuPolicy } from '../../src/policies/lfu.js'
import { LruPolicy } from '../../src/policies/lru.js'
import { NO_SLOT } from '../../src/policies/policy.js'

/** The calls a tier makes; the policy and the model below both take them. */
interface PolicyCalls {
  grow(capacity: number): void
  insert(slot: number, keyHash: number): void
  touch(slot: number): void
  remove(slot: number): void
  evict(incomingKeyHash: number): number
  miss(keyHash: number): void
  clear(): void
}

const DEFAULT_SEED = 0x9e3779b9

/**
 * LeCaR written out literally: arrays in order, Maps by slot, ghosts as
 * arrays oldest first, counts halved in place. Same xorshift, same formulas.
 */
class LeCaRModel implements PolicyCalls {
  recency: number[] = []
  buckets: number[][] = Array.from({ length: 16 }, () => [])
  counts = new Map<number, number>()
  hashes = new Map<number, number>()
  ghosts: { hash: number; time: number; count: number; chance: number }[][] = [[], []] // [LRU's, LFU's]
  weights: [number, number] = [0.5, 0.5]
  clock = 0
  touches = 0
  random: number
  pending: { hash: number; count: number } | undefined

  constructor(
    readonly maxEntries: number,
    seed: number,
    readonly learningRate: number,
    readonly agingPeriod: number,
  ) {
    let x = Math.imul(seed ^ (seed >>> 16), 0x85ebca6b)
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
    this.random = (x ^ (x >>> 16)) >>> 0 || DEFAULT_SEED
  }

  n(): number {
    return this.maxEntries === Infinity ? Math.max(1, this.recency.length) : this.maxEntries
  }

  nextRandom(): number {
    let x = this.random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.random = x >>> 0
    return this.random / 2 ** 32
  }

  learn(hash: number): void {
    for (const expert of [0, 1]) {
      const found = this.ghosts[expert].findIndex((ghost) => ghost.hash === hash)
      if (found === -1) continue
      const [ghost] = this.ghosts[expert].splice(found, 1)
      this.pending = { hash, count: Math.min(15, ghost.count + 1) }
      // LeCaR's regret, scaled by 0.5 / p (at most 10), p the chance the eviction followed this expert.
      const scale = Math.min(10, 0.5 / ghost.chance)
      this.weights[expert] *= Math.exp(-this.learningRate * scale * Math.pow(0.005, (this.clock - ghost.time) / this.n()))
      const sum = this.weights[0] + this.weights[1]
      this.weights = [this.weights[0] / sum, this.weights[1] / sum]
      if (this.weights[0] >= 0.99) this.weights = [0.99, 0.01]
      else if (this.weights[1] >= 0.99) this.weights = [0.01, 0.99]
      return
    }
  }

  grow(): void {}

  insert(slot: number, hash: number): void {
    this.learn(hash)
    const count = this.pending?.hash === hash ? this.pending.count : 1
    this.pending = undefined
    this.recency.push(slot)
    this.buckets[count].push(slot)
    this.counts.set(slot, count)
    this.hashes.set(slot, hash)
  }

  touch(slot: number): void {
    this.clock++
    this.recency = [...this.recency.filter((s) => s !== slot), slot]
    const count = this.counts.get(slot) as number
    const next = Math.min(15, count + 1)
    this.buckets[count] = this.buckets[count].filter((s) => s !== slot)
    this.buckets[next].push(slot)
    this.counts.set(slot, next)
    if (++this.touches >= this.agingPeriod) {
      this.touches = 0
      for (const [s, c] of this.counts) this.counts.set(s, c >> 1)
      for (let c = 1; c < 16; c++) {
        this.buckets[c >> 1].push(...this.buckets[c])
        this.buckets[c] = []
      }
    }
  }

  remove(slot: number): void {
    this.recency = this.recency.filter((s) => s !== slot)
    const count = this.counts.get(slot) as number
    this.buckets[count] = this.buckets[count].filter((s) => s !== slot)
    this.counts.delete(slot)
    this.hashes.delete(slot)
  }

  evict(incoming: number): number {
    if (this.recency.length === 0) return NO_SLOT
    this.learn(incoming)
    const lruVictim = this.recency[0]
    const lfuVictim = (this.buckets.find((bucket) => bucket.length > 0) as number[])[0]
    const followLru = this.nextRandom() < this.weights[0]
    const victim = followLru ? lruVictim : lfuVictim
    if (lruVictim !== lfuVictim) {
      const hash = this.hashes.get(victim) as number
      const history = this.ghosts[followLru ? 0 : 1].filter((ghost) => ghost.hash !== hash)
      while (history.length >= this.n()) history.shift()
      history.push({ hash, time: this.clock, count: this.counts.get(victim) as number, chance: this.weights[followLru ? 0 : 1] })
      this.ghosts[followLru ? 0 : 1] = history
    }
    this.remove(victim)
    return victim
  }

  miss(hash: number): void {
    this.clock++
    this.learn(hash)
  }

  clear(): void {
    this.recency = []
    this.buckets = Array.from({ length: 16 }, () => [])
    this.counts.clear()
    this.hashes.clear()
    this.ghosts = [[], []]
    this.touches = 0
    this.pending = undefined
  }
}

/**
 * A tier in miniature: keys to slots, a free stack, capacity doubling from 2.
 * `full` says when to evict before an insert; every call goes to each policy.
 */
class MiniTier {
  readonly slotOf = new Map<number, number>()
  readonly keyAt: number[] = []
  readonly free: number[] = []
  capacity = 2
  next = 0
  hits = 0
  misses = 0

  constructor(
    readonly policies: PolicyCalls[],
    public full: (resident: number) => boolean,
    readonly onVictims: (victims: number[]) => void = () => {},
  ) {}

  /** A read; on a miss, `load` decides whether the key is then stored (read-through). */
  get(key: number, load = true): void {
    const slot = this.slotOf.get(key)
    if (slot !== undefined) {
      this.hits++
      for (const policy of this.policies) policy.touch(slot)
      return
    }
    this.misses++
    for (const policy of this.policies) policy.miss(hashKey(`k${key}`))
    if (load) this.#admit(key)
  }

  set(key: number): void {
    const slot = this.slotOf.get(key)
    if (slot !== undefined) for (const policy of this.policies) policy.touch(slot)
    else this.#admit(key)
  }

  delete(key: number): void {
    const slot = this.slotOf.get(key)
    if (slot === undefined) return
    for (const policy of this.policies) policy.remove(slot)
    this.#release(slot)
  }

  clear(): void {
    for (const policy of this.policies) policy.clear()
    for (const slot of [...this.slotOf.values()]) this.#release(slot)
  }

  #admit(key: number): void {
    const hash = hashKey(`k${key}`)
    while (this.slotOf.size > 0 && this.full(this.slotOf.size)) {
      const victims = this.policies.map((policy) => policy.evict(hash))
      this.onVictims(victims)
      this.#release(victims[0])
    }
    let slot = this.free.pop()
    if (slot === undefined) {
      if (this.next === this.capacity) {
        this.capacity *= 2
        for (const policy of this.policies) policy.grow(this.capacity)
      }
      slot = this.next++
    }
    this.slotOf.set(key, slot)
    this.keyAt[slot] = key
    for (const policy of this.policies) policy.insert(slot, hash)
  }

  #release(slot: number): void {
    this.slotOf.delete(this.keyAt[slot])
    this.free.push(slot)
  }
}

type TierOp =
  | { op: 'get'; key: number; load: boolean }
  | { op: 'set'; key: number }
  | { op: 'delete'; key: number }
  | { op: 'room'; entries: number }
  | { op: 'clear' }

const tierOps = (keys: number): fc.Arbitrary<TierOp[]> =>
  fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1), load: fc.boolean() }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.nat(keys - 1) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('room' as const), entries: fc.integer({ min: 1, max: 8 }) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    ),
    { maxLength: 400, size: 'max' }, // fast-check 4 otherwise stays under ~10 operations
  )

/** Deterministic request streams for the adaptation test. */
function xorshift(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 2 ** 32
  }
}

describe('LearnedPolicy', () => {
  /** Slots 0 (key a, count 3) and 1 (key b, count 2, touched last): LRU names 0, LFU names 1. */
  function disagreeing(maxEntries: number, seed?: number) {
    const policy = new LearnedPolicy(2, maxEntries, { seed })
    const [a, b, c] = [hashKey('a'), hashKey('b'), hashKey('c')]
    policy.insert(0, a)
    policy.insert(1, b)
    policy.touch(0)
    policy.touch(0)
    policy.touch(1)
    return { policy, a, b, c }
  }

  it('starts even, and evicts the LRU or the LFU victim as the seeded draw says', () => {
    const victims = new Set<number>()
    for (let seed = 1; seed <= 16; seed++) {
      const { policy, c } = disagreeing(2, seed)
      expect(policy.weights).toEqual([0.5, 0.5])
      const victim = policy.evict(c)
      expect(disagreeing(2, seed).policy.evict(c)).toBe(victim) // same seed, same choice
      victims.add(victim)
    }
    expect([...victims].sort()).toEqual([0, 1])
  })

  it("penalises the expert whose ghost is requested, by e^(−λ·0.005^(t/N)), and restores the key's count", () => {
    const { policy, a, b, c } = disagreeing(2, 7)
    const victim = policy.evict(c) // at clock 3
    policy.insert(victim, c)
    policy.miss(victim === 0 ? a : b) // clock 4: t = 1, N = 2
    const penalty = Math.exp(-0.45 * Math.pow(0.005, 1 / 2))
    const wrong = penalty / (penalty + 1)
    expect(policy.weights).toEqual(victim === 0 ? [wrong, 1 - wrong] : [1 - wrong, wrong])
    expect(wrong).toBeCloseTo(0.492, 3) // one request old of N = 2: discounted to 0.005^(1/2) ≈ 7 %
    // The ghost is gone: a second request teaches nothing more.
    policy.miss(victim === 0 ? a : b)
    expect(policy.weights[victim === 0 ? 0 : 1]).toBe(wrong)
    // Back in the cache with its count at eviction (3 for a, 2 for b) plus one.
    const slot = policy.evict(0) === 0 ? 0 : 1
    policy.insert(slot, victim === 0 ? a : b)
    expect(policy.countOf(slot)).toBe(victim === 0 ? 4 : 3)
  })

  it('learns at the first of miss, evict and insert, before picking the victim for that request', () => {
    const { policy, a, b, c } = disagreeing(2, 7)
    const victim = policy.evict(c)
    policy.insert(victim, c)
    // A write of the evicted key, no read before it: evict(hash) learns before it chooses.
    policy.evict(victim === 0 ? a : b) // t = 0: the full penalty e^(−λ)
    const wrong = Math.exp(-0.45) / (Math.exp(-0.45) + 1)
    expect(policy.weights[victim === 0 ? 0 : 1]).toBe(wrong)
  })

  it('takes N from the resident entries when maxEntries is Infinity', () => {
    const { policy, a, b, c } = disagreeing(Infinity, 7)
    const victim = policy.evict(c) // one entry left: N = 1
    policy.miss(victim === 0 ? a : b) // t = 1
    const penalty = Math.exp(-0.45 * Math.pow(0.005, 1 / 1))
    const wrong = penalty / (penalty + 1)
    expect(policy.weights[victim === 0 ? 0 : 1]).toBe(wrong)
  })

  it('keeps no ghost when both experts name the same victim', () => {
    const policy = new LearnedPolicy(2, 2)
    policy.insert(0, 10)
    policy.insert(1, 11)
    policy.touch(1) // slot 0 is both least recent and least frequent
    expect(policy.evict(12)).toBe(0)
    policy.miss(10)
    expect(policy.weights).toEqual([0.5, 0.5])
  })

  it('gives up nothing when empty, and forgets entries and ghosts on clear', () => {
    const { policy, a, b, c } = disagreeing(2, 7)
    const victim = policy.evict(c)
    policy.clear()
    expect(policy.evict(c)).toBe(NO_SLOT)
    policy.miss(victim === 0 ? a : b)
    expect(policy.weights).toEqual([0.5, 0.5])
    policy.insert(1, a)
    expect(policy.evict(0)).toBe(1)
  })

  it('keeps both orders across growth', () => {
    const policy = new LearnedPolicy(2, 8, { seed: 1 })
    policy.insert(0, 100)
    policy.insert(1, 101)
    policy.touch(0)
    policy.grow(8)
    for (let slot = 2; slot < 8; slot++) {
      policy.insert(slot, 100 + slot)
      policy.touch(slot)
    }
    // Slot 1: least recent and the only count of 1, whichever expert is drawn.
    expect(policy.evict(0)).toBe(1)
  })

  it('names the bad option', () => {
    expect(() => new LearnedPolicy(4, 0)).toThrow(/maxEntries/)
    expect(() => new LearnedPolicy(4, 4, { seed: 1.5 })).toThrow(/options\.seed/)
    expect(() => new LearnedPolicy(4, 4, { learningRate: 0 })).toThrow(/options\.learningRate/)
    expect(() => new LearnedPolicy(4, 4, { learningRate: Number.NaN })).toThrow(/options\.learningRate/)
    expect(() => new LearnedPolicy(4, 4, { agingPeriod: 0 })).toThrow(/options\.agingPeriod/)
  })

  it('shifts its weights toward LFU on a frequency-friendly phase and back toward LRU on a recency-friendly one', () => {
    const N = 100
    const learned = new LearnedPolicy(N, N, { seed: 42 })
    const tiers = {
      learned: new MiniTier([learned], (resident) => resident >= N),
      lru: new MiniTier([new LruPolicy(N)], (resident) => resident >= N),
      lfu: new MiniTier([new LfuPolicy(N)], (resident) => resident >= N),
    }
    const random = xorshift(2024)
    let fresh = 1_000_000
    // Frequency-friendly: 60 hot keys, each request hot with probability 1/4, otherwise a key never seen again.
    const frequencyPhase = (hotBase: number) => () => (random() < 0.25 ? hotBase + Math.floor(random() * 60) : fresh++)
    // Recency-friendly: 60 keys in a window that slides by one key every 4 requests; old hot keys are dead.
    let step = 0
    const recencyPhase = () => 2_000_000 + (step++ >> 2) + Math.floor(random() * 60)
    const phases = [
      { next: frequencyPhase(0), favoured: 1 },
      { next: recencyPhase, favoured: 0 },
      { next: frequencyPhase(1000), favoured: 1 },
      { next: recencyPhase, favoured: 0 },
    ]
    const results = phases.map(({ next, favoured }) => {
      const before = { learned: tiers.learned.hits, lru: tiers.lru.hits, lfu: tiers.lfu.hits }
      let crossedAt = -1
      for (let request = 0; request < 20_000; request++) {
        const key = next()
        for (const tier of Object.values(tiers)) tier.get(key)
        if (crossedAt === -1 && learned.weights[favoured] > 0.9) crossedAt = request
      }
      const hits = [tiers.learned.hits - before.learned, tiers.lru.hits - before.lru, tiers.lfu.hits - before.lfu]
      return { crossedAt, weights: learned.weights, hits }
    })
    // The weight of the expert that suits the phase passes 0.9 within the first 2,000 of its 20,000 requests.
    expect(results.map((phase) => phase.crossedAt)).toEqual([719, 437, 1926, 498])
    expect(results.map((phase) => phase.weights[0])).toEqual([0.01, 0.99, 0.01, 0.99])
    // Hits per phase, [learned, LRU alone, LFU alone]: within 3 % of the better expert every time.
    expect(results.map((phase) => phase.hits)).toEqual([
      [4675, 1770, 4811],
      [14977, 15063, 565],
      [4588, 1817, 21],
      [14978, 15069, 301],
    ])
    for (const { hits } of results) expect(hits[0]).toBeGreaterThan(0.95 * Math.max(hits[1], hits[2]))
  })

  it('agrees with the literal LeCaR model on victims and weights, driven as a tier drives it', () => {
    fc.assert(
      fc.property(
        tierOps(14),
        fc.constantFrom(6, Infinity),
        fc.integer(),
        fc.constantFrom(0.45, 2, 20), // 20 reaches the pinned weights
        fc.constantFrom(3, 10, 1_000_000),
        (ops, maxEntries, seed, learningRate, agingPeriod) => {
          const policy = new LearnedPolicy(2, maxEntries, { seed, learningRate, agingPeriod })
          const model = new LeCaRModel(maxEntries, seed, learningRate, agingPeriod)
          let room = 6
          const tier = new MiniTier(
            [policy, model],
            (resident) => resident >= (maxEntries === Infinity ? room : maxEntries),
            ([victim, expected]) => expect(victim).toBe(expected),
          )
          for (const op of ops) {
            if (op.op === 'get') tier.get(op.key, op.load)
            else if (op.op === 'set') tier.set(op.key)
            else if (op.op === 'delete') tier.delete(op.key)
            else if (op.op === 'room') room = op.entries
            else tier.clear()
            expect(policy.weights).toEqual(model.weights)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
