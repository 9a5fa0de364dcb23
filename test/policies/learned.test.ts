import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey } from '../../src/policies/key-hash.js'
import { LearnedPolicy } from '../../src/policies/learned.js'
import { LfuPolicy } from '../../src/policies/lfu.js'
import { LruPolicy } from '../../src/policies/lru.js'
import { NO_SLOT } from '../../src/policies/policy.js'
import { LeCaRModel } from './models/learned-model.js'

/** The calls a tier makes; the policy and the model (through `slotCalls`) both take them. */
interface PolicyCalls {
  grow(capacity: number): void
  insert(slot: number, keyHash: number): void
  touch(slot: number): void
  remove(slot: number): void
  evict(incomingKeyHash: number): number
  miss(keyHash: number): void
}

/** The model as a tier's policy over slot numbers: -1 where it gives up nothing. */
function slotCalls(model: LeCaRModel<number>): PolicyCalls {
  return {
    grow: (capacity) => model.grow(capacity),
    insert: (slot, keyHash) => model.insert(slot, keyHash),
    touch: (slot) => model.touch(slot),
    remove: (slot) => model.remove(slot),
    evict: (incomingKeyHash) => model.evict(incomingKeyHash) ?? NO_SLOT,
    miss: (keyHash) => model.miss(keyHash),
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

type TierOp = { op: 'get'; key: number; load: boolean } | { op: 'set'; key: number } | { op: 'delete'; key: number } | { op: 'room'; entries: number }

const tierOps = (keys: number): fc.Arbitrary<TierOp[]> =>
  fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1), load: fc.boolean() }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.nat(keys - 1) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('room' as const), entries: fc.integer({ min: 1, max: 8 }) }) },
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

/** In hundredths: fast-check's doubles crowd at the ends of their range. */
const hundredths = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min: min * 100, max: max * 100 }).map((n) => n / 100)

interface StreamShape {
  seed: number
  /** Popular keys at any time. */
  keys: number
  /** Rank = keys × random^skew: 1 uniform, 4 steep. */
  skew: number
  /** Requests between two moves of the popular set. */
  phase: number
  /** Share of the popular set replaced at each move: 0 stable, 1 disjoint. */
  shift: number
  /** Share of requests for keys never seen again (a scan). */
  once: number
}

const streamShapes: fc.Arbitrary<StreamShape> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  keys: fc.integer({ min: 4, max: 200 }),
  skew: hundredths(1, 4),
  phase: fc.integer({ min: 200, max: 2000 }),
  shift: hundredths(0, 1),
  once: hundredths(0, 0.3),
})

/**
 * 4,000 requests from skewed popularity over a working set that moves:
 * mostly read-through gets, some reads that do not load, writes and deletes.
 */
function shiftingStream({ seed, keys, skew, phase, shift, once }: StreamShape): TierOp[] {
  const random = xorshift(seed)
  const ops: TierOp[] = []
  let fresh = 1_000_000
  for (let t = 0; t < 4000; t++) {
    const base = Math.floor(t / phase) * Math.round(shift * keys)
    const key = random() < once ? fresh++ : base + Math.floor(keys * random() ** skew)
    const r = random()
    if (r < 0.9) ops.push({ op: 'get', key, load: r < 0.85 })
    else ops.push({ op: r < 0.96 ? 'set' : 'delete', key })
  }
  return ops
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
    const penalty = Math.exp(-0.45 * 0.005 ** (1 / 2))
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
    const penalty = Math.exp(-0.45 * 0.005 ** (1 / 1))
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

  it('gives up nothing when empty', () => {
    const { policy, c } = disagreeing(2, 7)
    expect(new LearnedPolicy(2, 2).evict(c)).toBe(NO_SLOT)
    policy.evict(c)
    policy.evict(c)
    expect(policy.evict(c)).toBe(NO_SLOT)
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
          const model = new LeCaRModel<number>(2, maxEntries, { seed, learningRate, agingPeriod })
          let room = 6
          const tier = new MiniTier(
            [policy, slotCalls(model)],
            (resident) => resident >= (maxEntries === Infinity ? room : maxEntries),
            ([victim, expected]) => expect(victim).toBe(expected),
          )
          for (const op of ops) {
            if (op.op === 'get') tier.get(op.key, op.load)
            else if (op.op === 'set') tier.set(op.key)
            else if (op.op === 'delete') tier.delete(op.key)
            else room = op.entries
            expect(policy.weights).toEqual(model.weights)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('agrees with the model with its defaults on thousands of skewed, shifting requests (4 to 40 entries)', () => {
    let lessons = 0
    let halvings = 0
    const pinned = new Set<string>()
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 40 }), fc.boolean(), fc.option(fc.integer()), streamShapes, (entries, byBytes, seed, shape) => {
        const ops = shiftingStream(shape)
        // Default options but the seed: learning rate 0.45, aging every max(1,024, 10 × capacity) touches.
        const options = seed === null ? undefined : { seed }
        // Bounded by bytes: N is the resident entries, which the bound moves between entries / 2 and entries.
        const maxEntries = byBytes ? Infinity : entries
        const policy = new LearnedPolicy(2, maxEntries, options)
        const model = new LeCaRModel<number>(2, maxEntries, options)
        let room = entries
        const tier = new MiniTier(
          [policy, slotCalls(model)],
          (resident) => resident >= room,
          ([victim, expected]) => {
            if (victim !== expected) expect(victim, 'victim').toBe(expected)
          },
        )
        let weights = model.weights
        for (const [step, op] of ops.entries()) {
          if (byBytes && step % 500 === 0) room = step % 1000 === 0 ? entries : Math.max(1, entries >> 1)
          const touches = model.touches
          if (op.op === 'get') tier.get(op.key, op.load)
          else if (op.op === 'set') tier.set(op.key)
          else if (op.op === 'delete') tier.delete(op.key)
          if (model.touches < touches) halvings++
          if (model.weights !== weights) {
            lessons++
            weights = model.weights
            if (weights[0] === 0.99 || weights[1] === 0.99) pinned.add(String(weights))
          }
          const [wLru, wLfu] = policy.weights
          if (wLru !== weights[0] || wLfu !== weights[1]) expect(policy.weights, `weights after step ${step}`).toEqual(weights)
        }
      }),
      {
        numRuns: 80,
        // Random streams rarely favour recency enough to pin the LRU weight at 0.99; this one does (found by search).
        examples: [[35, false, null, { seed: 983612177, keys: 70, skew: 1.49, phase: 784, shift: 0.05, once: 0.02 }]],
      },
    )
    // The runs learned, aged their counts, and pinned the weights at both ends.
    expect(lessons).toBeGreaterThan(0)
    expect(halvings).toBeGreaterThan(0)
    expect([...pinned].sort()).toEqual(['0.01,0.99', '0.99,0.01'])
  })
})
