import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey } from '../../src/policies/key-hash.js'
import { LruPolicy } from '../../src/policies/lru.js'
import { type EvictionPolicy, NO_SLOT } from '../../src/policies/policy.js'
import { WTinyLfuPolicy } from '../../src/policies/w-tinylfu.js'
import type { WTinyLfuOptions } from '../../src/policies/w-tinylfu-constants.js'
import { WTinyLfuModel } from './models/w-tinylfu-model.js'

/**
 * Drives a policy as `MemoryTier` does: slots from a free stack, capacity
 * doubling up to `maxEntries`; a set evicts (with the incoming key's hash)
 * while the tier is full by count or by bytes, then inserts; a hit touches,
 * a read miss reports `miss` and may then load (set).
 */
class TierDriver {
  readonly slots = new Map<string, number>()
  readonly keys: (string | undefined)[] = []
  readonly evicted: string[] = []
  #free: number[] = []
  #next = 0
  #bytes = 0
  capacity: number

  constructor(
    readonly policy: EvictionPolicy,
    capacity: number,
    readonly maxEntries: number,
    readonly maxBytes = Infinity,
    readonly sizeOf: (key: string) => number = () => 0,
  ) {
    this.capacity = capacity
  }

  has(key: string): boolean {
    return this.slots.has(key)
  }

  /** A read; on a miss, loads the key when `load`. True on a hit. */
  get(key: string, load = true): boolean {
    const slot = this.slots.get(key)
    if (slot !== undefined) {
      this.policy.touch(slot)
      return true
    }
    this.policy.miss(hashKey(key))
    if (load) this.set(key)
    return false
  }

  set(key: string): void {
    const existing = this.slots.get(key)
    if (existing !== undefined) {
      this.policy.touch(existing)
      return
    }
    const hash = hashKey(key)
    const size = this.sizeOf(key)
    while (this.slots.size > 0 && (this.slots.size >= this.maxEntries || this.#bytes + size > this.maxBytes)) {
      const slot = this.policy.evict(hash)
      if (slot === NO_SLOT) break
      const victim = this.keys[slot] as string
      this.#release(slot)
      this.evicted.push(victim)
    }
    let slot = this.#free.pop()
    if (slot === undefined) {
      if (this.#next === this.capacity) {
        this.capacity = Math.min(this.capacity * 2, this.maxEntries)
        this.policy.grow(this.capacity)
      }
      slot = this.#next++
    }
    this.slots.set(key, slot)
    this.keys[slot] = key
    this.#bytes += size
    this.policy.insert(slot, hash)
  }

  delete(key: string): void {
    const slot = this.slots.get(key)
    if (slot === undefined) return
    this.policy.remove(slot)
    this.#release(slot)
  }

  #release(slot: number): void {
    const key = this.keys[slot] as string
    this.#bytes -= this.sizeOf(key)
    this.slots.delete(key)
    this.keys[slot] = undefined
    this.#free.push(slot)
  }
}

/**
 * Forwards every call to both the policy and the model (on slot numbers), and
 * checks that they give up the same slot and agree on the window's share.
 */
class CheckedPolicy implements EvictionPolicy {
  readonly name = 'w-tinylfu'
  readonly usesKeyHashes = true

  constructor(
    readonly policy: WTinyLfuPolicy,
    readonly model: WTinyLfuModel<number>,
  ) {}

  grow(capacity: number): void {
    this.policy.grow(capacity)
    this.model.grow(capacity)
  }

  insert(slot: number, keyHash: number): void {
    this.policy.insert(slot, keyHash)
    this.model.insert(slot, keyHash)
  }

  touch(slot: number): void {
    this.policy.touch(slot)
    this.model.touch(slot)
  }

  remove(slot: number): void {
    this.policy.remove(slot)
    this.model.remove(slot)
  }

  evict(incomingKeyHash: number): number {
    const slot = this.policy.evict(incomingKeyHash)
    const expected = this.model.evict(incomingKeyHash) ?? NO_SLOT
    if (slot !== expected) expect(slot, 'victim').toBe(expected)
    return slot
  }

  miss(keyHash: number): void {
    this.policy.miss(keyHash)
    this.model.miss(keyHash)
    if (this.policy.windowShare !== this.model.share) expect(this.policy.windowShare, 'window share after a miss').toBe(this.model.share)
  }
}

type TierCommand = { op: 'get' | 'read' | 'set' | 'delete'; key: number }

const tierCommands = (keys: number): fc.Arbitrary<TierCommand[]> =>
  fc.array(
    fc.record({
      op: fc.constantFrom('get' as const, 'get' as const, 'get' as const, 'read' as const, 'set' as const, 'delete' as const),
      // A skewed pick: low keys come back often, so frequencies build up and the sketch halves.
      key: fc.oneof(fc.nat(Math.max(1, keys >> 2)), fc.nat(keys)),
    }),
    { maxLength: 400, size: 'max' }, // fast-check 4 otherwise stays under ~10 commands
  )

/**
 * Replays commands through a tier driving both the policy and the model;
 * checks the regions' sizes and the window's share after every step, every
 * slot's region and the accessed key's estimate every `checkRegionsEvery`.
 * `policyOptions` go to both as given (undefined: the defaults, climber on).
 */
function runAgainstModel(
  commands: TierCommand[],
  options: { maxEntries: number; maxBytes?: number; policyOptions?: WTinyLfuOptions; checkRegionsEvery?: number },
): WTinyLfuModel<number> {
  const maxBytes = options.maxBytes ?? Infinity
  const initialCapacity = Math.min(4, options.maxEntries)
  const policy = new WTinyLfuPolicy(initialCapacity, options.maxEntries, options.policyOptions)
  const model = new WTinyLfuModel<number>(initialCapacity, options.maxEntries, options.policyOptions)
  const driver = new TierDriver(new CheckedPolicy(policy, model), initialCapacity, options.maxEntries, maxBytes, (key) => (Number(key.slice(1)) % 3) + 1)
  const checkRegionsEvery = options.checkRegionsEvery ?? 1
  for (const [step, { op, key }] of commands.entries()) {
    const text = `k${key}`
    if (op === 'get') driver.get(text)
    else if (op === 'read') driver.get(text, false)
    else if (op === 'set') driver.set(text)
    else driver.delete(text)
    // Compared by hand first: an `expect` per step is most of the time of a run of thousands.
    const sizes = [policy.windowSize, policy.probationSize, policy.protectedSize]
    const expected = [model.window.length, model.probation.length, model.protected.length]
    if (sizes.some((size, i) => size !== expected[i])) expect(sizes, `region sizes after step ${step}`).toEqual(expected)
    if (policy.windowShare !== model.share) expect(policy.windowShare, `window share after step ${step}`).toBe(model.share)
    if (step % checkRegionsEvery !== 0) continue
    const frequency = policy.frequencyOf(hashKey(text))
    if (frequency !== model.sketch.frequency(hashKey(text))) expect(frequency, `estimate of ${text}`).toBe(model.sketch.frequency(hashKey(text)))
    for (const region of ['window', 'probation', 'protected'] as const) {
      for (const slot of model[region]) if (policy.regionOf(slot) !== region) expect(policy.regionOf(slot), `region of slot ${slot}`).toBe(region)
    }
  }
  return model
}

interface StreamShape {
  seed: number
  length: number
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

/**
 * A request stream from skewed popularity over a working set that moves:
 * mostly read-through gets, and some reads that do not load, writes and
 * deletes (which leave the tier under its bound for a while).
 */
function shiftingCommands(shape: StreamShape): TierCommand[] {
  const random = randomSource(shape.seed)
  const commands: TierCommand[] = []
  let fresh = 1_000_000
  for (let t = 0; t < shape.length; t++) {
    const base = Math.floor(t / shape.phase) * Math.round(shape.shift * shape.keys)
    const key = random() < shape.once ? fresh++ : base + Math.floor(shape.keys * random() ** shape.skew)
    const r = random()
    commands.push({ op: r < 0.85 ? 'get' : r < 0.9 ? 'read' : r < 0.96 ? 'set' : 'delete', key })
  }
  return commands
}

/** In hundredths: fast-check's doubles crowd at the ends of their range (5e-324 is a favourite). */
const hundredths = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min: min * 100, max: max * 100 }).map((n) => n / 100)

const streamShapes = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  /** Popular keys per entry of the cache. */
  spread: hundredths(1, 6),
  skew: hundredths(1, 4),
  phase: fc.integer({ min: 200, max: 2000 }),
  shift: hundredths(0, 1),
  once: hundredths(0, 0.3),
})

describe('WTinyLfuPolicy', () => {
  const hashOf = (key: string): number => hashKey(key)

  it('puts new entries in the window and passes its overflow to probation', () => {
    const policy = new WTinyLfuPolicy(8, 8, { climb: false })
    policy.insert(0, hashOf('a'))
    expect(policy.regionOf(0)).toBe('window')
    policy.insert(1, hashOf('b'))
    // One resident in a hundred rounds to a window of one: 'a' moves on, 'b' is the window.
    expect([policy.regionOf(0), policy.regionOf(1)]).toEqual(['probation', 'window'])
  })

  it('promotes on a hit in probation and demotes protected overflow', () => {
    const policy = new WTinyLfuPolicy(8, 8, { climb: false })
    for (let slot = 0; slot < 6; slot++) policy.insert(slot, hashOf(`k${slot}`))
    // Six resident: window 1, main 5, protected at most 4.
    expect(policy.protectedMaximum).toBe(4)
    for (const slot of [0, 1, 2, 3]) policy.touch(slot)
    expect([0, 1, 2, 3].map((slot) => policy.regionOf(slot))).toEqual(['protected', 'protected', 'protected', 'protected'])
    policy.touch(4)
    // Slot 4 is promoted; the oldest protected, slot 0, goes back to probation's tail.
    expect([policy.regionOf(4), policy.regionOf(0)]).toEqual(['protected', 'probation'])
    expect([policy.protectedSize, policy.probationSize, policy.windowSize]).toEqual([4, 1, 1])
  })

  it('admits a candidate only when it is more frequent than the victim', () => {
    const policy = new WTinyLfuPolicy(4, 4, { climb: false })
    for (let slot = 0; slot < 4; slot++) policy.insert(slot, hashOf(`k${slot}`))
    // Window: slot 3; probation, oldest first: 0, 1, 2.
    expect(policy.evict(hashOf('new'))).toBe(3) // a tie evicts the candidate
    policy.insert(3, hashOf('k3'))
    policy.touch(3)
    policy.touch(3) // now more frequent than slot 0
    expect(policy.evict(hashOf('new'))).toBe(0)
    expect(policy.regionOf(3)).toBe('probation')
  })

  it('duels a victim that has gone unread for long, given its frequency, at half its frequency', () => {
    const duel = (idleMisses: number): number => {
      const policy = new WTinyLfuPolicy(4, 4, { climb: false })
      for (let i = 0; i < 3; i++) policy.miss(hashOf('k0'))
      policy.insert(0, hashOf('k0')) // frequency 3: three misses, and the insert that fills the last is the same access
      policy.insert(1, hashOf('k1'))
      policy.insert(2, hashOf('k2'))
      policy.insert(3, hashOf('k3'))
      policy.touch(3) // the candidate, frequency 2; probation, oldest first: 0, 1, 2
      // Requests for another key move the epochs on (one per 4 requests: 4 resident entries).
      for (let i = 0; i < idleMisses; i++) policy.miss(hashOf('other'))
      expect([policy.frequencyOf(hashOf('k0')), policy.frequencyOf(hashOf('k3'))]).toEqual([3, 2])
      return policy.evict(hashOf('new'))
    }
    // Idle for 8 epochs: 8 × 3 ≤ 30, the victim keeps its 3 and the candidate loses.
    expect(duel(32)).toBe(3)
    // Idle for 11 epochs: 11 × 3 > 30, the victim duels at 1 and the candidate, at 2, takes its place.
    expect(duel(44)).toBe(0)
  })

  /** Slot 0 in probation, slot 2 alone in a window whose target is 2 (round(0.8 × 2)), every count 1, all read in epoch 0. */
  const underTarget = (): WTinyLfuPolicy => {
    const policy = new WTinyLfuPolicy(4, 4, { climb: false, window: 0.8 })
    for (let slot = 0; slot < 4; slot++) policy.insert(slot, hashOf(`k${slot}`))
    // Window target round(0.8 × 4) = 3: slot 0 in probation, 1-3 in the window.
    expect(policy.regionOf(0)).toBe('probation')
    policy.remove(3)
    // Three resident: window target 2, the window holds 2, so a candidate duels: it loses the tie.
    expect(policy.evict(0)).toBe(1)
    expect([policy.windowSize, policy.windowMaximum]).toEqual([1, 2])
    return policy
  }

  it("keeps main's oldest while the window is under its target if it is as frequent and read lately; evicts from the other region when one is empty", () => {
    const policy = underTarget()
    // Under target, but main's oldest ties the window's oldest and was read this epoch: the window's oldest goes.
    expect(policy.evict(0)).toBe(2)
    // The window is empty: main's oldest goes; then nothing is left.
    expect(policy.evict(0)).toBe(0)
    expect(policy.evict(0)).toBe(NO_SLOT)
    // Main empty: the window's oldest goes.
    const alone = new WTinyLfuPolicy(4, 4, { climb: false, window: 0.8 })
    alone.insert(0, hashOf('k0'))
    expect(alone.regionOf(0)).toBe('window')
    expect(alone.evict(0)).toBe(0)
  })

  it("grows a window under its target when main's oldest would lose the duel, or has gone unread for two epochs", () => {
    const hotter = underTarget()
    hotter.touch(2)
    expect(hotter.evict(0)).toBe(0)
    expect(hotter.windowSize).toBe(1)
    // Epochs are as long as the tier holds entries (2): three misses start epoch 2 (the first miss ends epoch 0).
    const idle = (misses: number): number => {
      const policy = underTarget()
      for (let i = 0; i < misses; i++) policy.miss(hashOf(`other${i}`))
      return policy.evict(0)
    }
    expect(idle(2)).toBe(2)
    expect(idle(3)).toBe(0)
  })

  it('counts a miss and the insert that follows it as one access', () => {
    const policy = new WTinyLfuPolicy(8, 8, { climb: false })
    policy.miss(hashOf('a'))
    policy.insert(0, hashOf('a'))
    expect(policy.frequencyOf(hashOf('a'))).toBe(1)
    policy.insert(1, hashOf('b')) // a write with no read before it
    policy.touch(1)
    expect(policy.frequencyOf(hashOf('b'))).toBe(2)
  })

  it('admits about one warm losing candidate in 128, from its seeded generator', () => {
    const admittedWith = (seed: number): number => {
      // A sketch sized for 64 entries (128 sketch entries) does not halve in this test: the two counts stay saturated.
      const policy = new WTinyLfuPolicy(64, Infinity, { climb: false, seed })
      policy.insert(0, hashOf('victim'))
      policy.insert(1, hashOf('candidate')) // pushes 'victim' to probation
      for (let i = 0; i < 20; i++) {
        policy.touch(0)
        policy.touch(1)
      }
      let admitted = 0
      for (let round = 0; round < 2560; round++) {
        // Both saturated at 15: the candidate never wins outright.
        const slot = policy.evict(0)
        if (slot === 1) policy.insert(1, hashOf('candidate'))
        else {
          admitted++
          // Restore the duel: the admitted slot 1 gives way to slot 0 in probation.
          policy.remove(1)
          policy.insert(0, hashOf('victim'))
          policy.insert(1, hashOf('candidate'))
        }
      }
      return admitted
    }
    const admitted = admittedWith(7)
    expect(admitted).toBeGreaterThan(5)
    expect(admitted).toBeLessThan(60)
    expect(admittedWith(7)).toBe(admitted)
  })

  it('agrees with the array model when bounded by entries, growing as the tier grows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.gen(),
        (maxEntries, share, seed, gen) => {
          runAgainstModel(gen(tierCommands, maxEntries * 3), { maxEntries, policyOptions: { climb: false, window: share, seed } })
        },
      ),
      { numRuns: 200 },
    )
  })

  it('agrees with the array model when bounded by bytes (regions sized from the resident entries)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 40 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.gen(),
        (maxBytes, share, seed, gen) => {
          const policyOptions = { climb: false, window: share, seed }
          runAgainstModel(gen(tierCommands, maxBytes), { maxEntries: Infinity, maxBytes, policyOptions })
        },
      ),
      { numRuns: 200 },
    )
  })

  it('keeps a frequently used key through a burst of one-time keys, where LRU of the same size loses it', () => {
    const survives = (policy: EvictionPolicy): boolean => {
      const tier = new TierDriver(policy, 64, 100)
      for (let i = 0; i < 100; i++) tier.get(`fill:${i}`)
      for (let i = 0; i < 20; i++) {
        tier.get('hot')
        tier.get(`fill:${i}`)
      }
      for (let i = 0; i < 1000; i++) tier.get(`once:${i}`)
      return tier.has('hot')
    }
    expect(survives(new WTinyLfuPolicy(64, 100))).toBe(true)
    expect(survives(new LruPolicy(64))).toBe(false)
  })

  it('keeps working across growth: regions, frequencies and eviction order survive grow', () => {
    const policy = new WTinyLfuPolicy(8, Infinity, { climb: false })
    for (let slot = 0; slot < 8; slot++) policy.insert(slot, hashOf(`k${slot}`))
    for (let i = 0; i < 5; i++) policy.touch(0)
    const frequency = policy.frequencyOf(hashOf('k0'))
    expect(frequency).toBe(6)
    policy.grow(64)
    expect(policy.frequencyOf(hashOf('k0'))).toBe(frequency)
    expect([policy.regionOf(0), policy.regionOf(1), policy.regionOf(7)]).toEqual(['protected', 'probation', 'window'])
    for (let slot = 8; slot < 64; slot++) policy.insert(slot, hashOf(`k${slot}`))
    const evicted: number[] = []
    for (let slot = policy.evict(0); slot !== NO_SLOT; slot = policy.evict(0)) evicted.push(slot)
    // The newest (window) loses its duel, probation drains oldest first, the protected key goes last.
    expect(evicted).toEqual([63, ...[...Array(62).keys()].map((i) => i + 1), 0])
  })

  it('a grown tier of many slots behaves like the model', () => {
    const commands: TierCommand[] = []
    let x = 12345
    for (let i = 0; i < 3000; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      const r = x >>> 0
      commands.push({ op: r % 10 === 0 ? 'delete' : 'get', key: r % 7 === 0 ? r % 1000 : r % 150 })
    }
    runAgainstModel(commands, { maxEntries: 200, policyOptions: { climb: false, window: 0.01, seed: 99 }, checkRegionsEvery: 50 })
  })

  it('agrees with the model with its defaults (ghosts and climber on) over thousands of skewed, shifting requests', () => {
    const fired = { ghostGrow: 0, ghostShrink: 0, climbs: 0, warmDraws: 0, warmAdmits: 0, staleVictims: 0, windowGrows: 0, growthsHeld: 0, halvings: 0 }
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 40 }),
        fc.boolean(),
        fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
        streamShapes,
        (entries, byBytes, seed, { spread, ...shape }) => {
          const commands = shiftingCommands({ ...shape, length: 4000, keys: Math.max(2, Math.round(spread * entries)) })
          // Bounded by bytes (1 to 3 a key), the tier holds about `entries`, but the count moves, and the regions and ghosts with it.
          const bound = byBytes ? { maxEntries: Infinity, maxBytes: 2 * entries } : { maxEntries: entries }
          const model = runAgainstModel(commands, { ...bound, policyOptions: seed === null ? undefined : { seed }, checkRegionsEvery: 25 })
          for (const rule of Object.keys(model.fired) as (keyof typeof model.fired)[]) fired[rule] += model.fired[rule]
          fired.halvings += model.sketch.halvings
        },
      ),
      {
        numRuns: 60,
        // A warm loser is admitted one draw in 128, rarely in a short run: these two (found by running this
        // test) admit 2 and 4, the second from the default seed.
        examples: [
          [4, true, 213649220, { seed: 1116746585, spread: 1.74, skew: 1.03, phase: 339, shift: 0.06, once: 0.29 }],
          [6, true, null, { seed: 2147483623, spread: 2.82, skew: 1.08, phase: 1995, shift: 0.04, once: 0.23 }],
        ],
      },
    )
    // Every rule ran: the ghosts both ways, the climber, the sketch's halving, a stale victim's halving, the draw for a warm loser and its
    // admission, a window below its target growing and held.
    for (const [rule, count] of Object.entries(fired)) expect(count, rule).toBeGreaterThan(0)
  })

  it('rejects a window share out of range', () => {
    expect(() => new WTinyLfuPolicy(4, 4, { window: 0.96 })).toThrow(TypeError)
    expect(() => new WTinyLfuPolicy(4, 4, { window: -0.01 })).toThrow(TypeError)
    expect(new WTinyLfuPolicy(4, 4, { window: 0.95 }).windowShare).toBe(0.95)
    expect(() => new WTinyLfuPolicy(4, 4, { window: Number.NaN })).toThrow(/window/)
  })
})

/** xorshift32 over [0, 1). */
function randomSource(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

describe('WTinyLfuPolicy window adaptation (ghosts and hill climbing)', () => {
  const maxEntries = 200
  const hashOf = (key: string): number => hashKey(key)

  it('grows the window on a recency-biased workload', () => {
    // Every key comes back once, 1 to 150 requests later, then never again:
    // only recency can catch it, and frequency says nothing.
    const random = randomSource(1)
    const policy = new WTinyLfuPolicy(64, maxEntries)
    const tier = new TierDriver(policy, 64, maxEntries)
    const returns = new Map<number, string[]>()
    for (let t = 0; t < 200_000; t++) {
      const due = returns.get(t)
      if (due !== undefined && due.length > 0) {
        tier.get(due.pop() as string)
        if (due.length === 0) returns.delete(t)
        continue
      }
      const key = `r:${t}`
      tier.get(key)
      const at = t + 1 + Math.floor(random() * 150)
      const list = returns.get(at) ?? []
      list.push(key)
      returns.set(at, list)
    }
    expect(policy.windowShare).toBeGreaterThan(0.4)
    expect(policy.windowMaximum).toBeGreaterThan(80)
  })

  it('grows the window by two entries on a miss of a key the window just evicted, and shrinks it on one main evicted', () => {
    const policy = new WTinyLfuPolicy(100, 100, { window: 0.1 })
    for (let slot = 0; slot < 100; slot++) policy.insert(slot, hashOf(`k${slot}`))
    // Window: the ten newest (k90..k99); probation: k0..k89. Every count is 1: the candidate loses its tie.
    expect(policy.evict(hashOf('new'))).toBe(90)
    policy.miss(hashOf('k90'))
    expect(policy.windowShare).toBeCloseTo(0.1 + 2 / 99, 12)
    policy.insert(90, hashOf('k90'))
    // The window is under its new target: main's oldest goes once it has gone unread for two epochs (of 100 requests).
    for (let i = 0; i < 200; i++) policy.miss(hashOf(`other${i}`))
    expect(policy.windowShare).toBeCloseTo(0.1 + 2 / 99, 12)
    expect(policy.evict(hashOf('new'))).toBe(0)
    policy.miss(hashOf('k0'))
    expect(policy.windowShare).toBeCloseTo(0.1, 12)
    // A ghost comes back once; a key never evicted moves nothing.
    policy.miss(hashOf('k0'))
    policy.miss(hashOf('never'))
    expect(policy.windowShare).toBeCloseTo(0.1, 12)
  })

  it('leaves the window alone on a ghost miss while the tier is empty (everything deleted after evictions began)', () => {
    const policy = new WTinyLfuPolicy(100, 100, { window: 0.1 })
    for (let slot = 0; slot < 100; slot++) policy.insert(slot, hashOf(`k${slot}`))
    expect(policy.evict(hashOf('new'))).toBe(90)
    for (let slot = 0; slot < 100; slot++) if (slot !== 90) policy.remove(slot)
    policy.miss(hashOf('k90'))
    expect(policy.windowShare).toBeCloseTo(0.1, 12)
    policy.insert(0, hashOf('k90'))
    expect(policy.windowSize + policy.probationSize + policy.protectedSize).toBe(1)
  })

  it('keeps the window fixed with climb: false (no ghosts, no climber)', () => {
    const policy = new WTinyLfuPolicy(100, 100, { window: 0.1, climb: false })
    for (let slot = 0; slot < 100; slot++) policy.insert(slot, hashOf(`k${slot}`))
    expect(policy.evict(hashOf('new'))).toBe(90)
    policy.miss(hashOf('k90'))
    expect(policy.windowShare).toBe(0.1)
  })

  it('moves to a large window soon after a working set is replaced by a disjoint one', () => {
    // Zipf-like popularity over a set twice the cache, the set replaced every 20,000 requests: right after a
    // shift main holds the old set at high counts, and only recency serves the new one.
    const random = randomSource(3)
    const policy = new WTinyLfuPolicy(64, maxEntries)
    const tier = new TierDriver(policy, 64, maxEntries)
    const shares: number[] = []
    for (let t = 0; t < 120_000; t++) {
      const rank = Math.floor(400 * random() ** 3)
      tier.get(`set${Math.floor(t / 20_000)}:${rank}`)
      if (t % 20_000 === 2_000) shares.push(policy.windowShare)
    }
    // Two thousand requests into each new set the window holds 0.29 to 0.78 of the cache here, 0.65 on
    // average; the hill climber alone, with its samples of 2,000 requests, 0.06 to 0.25, 0.12 on average.
    const later = shares.slice(1)
    expect(later.reduce((sum, share) => sum + share, 0) / later.length).toBeGreaterThan(0.4)
  })

  it('shrinks the window on a frequency-biased workload', () => {
    // Half the requests go to a stable popular set that fills 95 % of the
    // cache, half are one-time keys: every entry the window takes from main
    // costs popular hits, and only frequency tells the two apart.
    const random = randomSource(1)
    const policy = new WTinyLfuPolicy(64, maxEntries, { window: 0.5 })
    const tier = new TierDriver(policy, 64, maxEntries)
    for (let t = 0; t < 200_000; t++) tier.get(random() < 0.5 ? `once:${t}` : `popular:${Math.floor(random() * 190)}`)
    expect(policy.windowShare).toBeLessThan(0.25)
  })
})
