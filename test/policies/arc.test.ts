import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ArcPolicy } from '../../src/policies/arc.js'
import { hashKey } from '../../src/policies/key-hash.js'
import { LruPolicy } from '../../src/policies/lru.js'
import { NO_SLOT } from '../../src/policies/policy.js'
import { PaperArc, take } from './models/paper-arc.js'
import { Slots } from './models/slots.js'

const hashOf = (key: number): number => hashKey(`key:${key}`)

/**
 * The paper's cases as `ArcPolicy` splits them over the policy interface
 * (see its doc comment), on slots and hashes, in plain arrays; it also
 * covers what the paper has no word for: deletes, evictions with room left,
 * inserts past c, a c that follows the resident count, and hash collisions.
 */
class ArcModel {
  t1: number[] = []
  t2: number[] = []
  b1: number[] = []
  b2: number[] = []
  p = 0
  hashAt = new Map<number, number>()
  adaptedFor: number | undefined
  constructor(readonly maxEntries: number) {}

  c(resident: number): number {
    return this.maxEntries === Infinity ? resident : this.maxEntries
  }

  insert(slot: number, hash: number): void {
    this.hashAt.set(slot, hash)
    const resident = this.t1.length + this.t2.length + 1
    const inB1 = this.b1.includes(hash)
    if (inB1 || this.b2.includes(hash)) {
      if (this.adaptedFor !== hash) this.#adapt(inB1, this.c(resident))
      take(inB1 ? this.b1 : this.b2, hash)
      this.t2.push(slot)
    } else {
      const c = this.c(resident)
      while (this.t1.length + this.b1.length >= c && this.b1.length > 0) this.b1.shift()
      while (resident - 1 + this.b1.length + this.b2.length >= 2 * c && this.b1.length + this.b2.length > 0) {
        ;(this.b2.length > 0 ? this.b2 : this.b1).shift()
      }
      this.t1.push(slot)
    }
    this.adaptedFor = undefined
  }

  touch(slot: number): void {
    if (!take(this.t1, slot)) take(this.t2, slot)
    this.t2.push(slot)
  }

  remove(slot: number): void {
    if (!take(this.t1, slot)) take(this.t2, slot)
  }

  evict(hash: number): number {
    const resident = this.t1.length + this.t2.length
    if (resident === 0) return NO_SLOT
    const c = this.c(resident)
    const inB1 = this.b1.includes(hash)
    if (inB1 || this.b2.includes(hash)) {
      if (this.adaptedFor !== hash) {
        this.#adapt(inB1, c)
        this.adaptedFor = hash
      }
      return this.#replace(!inB1)
    }
    if (this.t1.length + this.b1.length >= c) {
      if (this.t1.length >= c) return this.t1.shift() as number
      this.b1.shift()
    } else if (resident + this.b1.length + this.b2.length >= 2 * c && this.b2.length > 0) this.b2.shift()
    return this.#replace(false)
  }

  #adapt(inB1: boolean, c: number): void {
    if (inB1) this.p = Math.min(this.p + (this.b1.length >= this.b2.length ? 1 : this.b2.length / this.b1.length), c)
    else this.p = Math.max(this.p - (this.b2.length >= this.b1.length ? 1 : this.b1.length / this.b2.length), 0)
  }

  #replace(inB2: boolean): number {
    const t1 = this.t1.length
    const fromT1 = this.t2.length === 0 || (t1 >= 1 && ((inB2 && t1 === this.p) || t1 > this.p))
    const slot = (fromT1 ? this.t1 : this.t2).shift() as number
    const hash = this.hashAt.get(slot) as number
    // One ghost per hash: a colliding one is replaced.
    take(this.b1, hash) || take(this.b2, hash)
    ;(fromT1 ? this.b1 : this.b2).push(hash)
    return slot
  }
}

/** `resize` sets the tier's entry limit to `key`, as a byte bound would move it: the next miss may evict several. */
type TierCommand = { op: 'get' | 'delete' | 'resize'; key: number }

interface SlotPolicy {
  grow(capacity: number): void
  insert(slot: number, keyHash: number): void
  touch(slot: number): void
  remove(slot: number): void
  evict(incomingKeyHash: number): number
}

interface TierHooks {
  touched?: (slot: number) => void
  inserted?: (slot: number, hash: number) => void
  removed?: (slot: number) => void
  /** Each eviction, with the victim's key and the hash of the key coming in. */
  evicted?: (slot: number, key: number, incomingHash: number) => void
  /** After each command. */
  settled?: (command: TierCommand) => void
}

/**
 * Drives a policy the way `MemoryTier` does: a hit touches, a miss evicts
 * while `limit` entries are resident and then inserts, a delete removes.
 */
class Tier {
  readonly #slotOf = new Map<number, number>()
  readonly #keyAt = new Map<number, number>()
  readonly #slots: Slots
  constructor(
    private readonly policy: SlotPolicy,
    private limit: number,
    initialCapacity: number,
    private readonly hooks: TierHooks = {},
  ) {
    this.#slots = new Slots(initialCapacity, (capacity) => policy.grow(capacity))
  }

  /** The keys resident now. */
  get resident(): Set<number> {
    return new Set(this.#slotOf.keys())
  }

  run(commands: TierCommand[]): this {
    for (const command of commands) {
      if (command.op === 'delete') this.#delete(command.key)
      else if (command.op === 'resize') this.limit = command.key
      else this.#get(command.key)
      this.hooks.settled?.(command)
    }
    return this
  }

  #get(key: number): void {
    const { policy, hooks } = this
    const slot = this.#slotOf.get(key)
    if (slot !== undefined) {
      policy.touch(slot)
      hooks.touched?.(slot)
      return
    }
    const hash = hashOf(key)
    while (this.#slotOf.size >= this.limit) {
      const victim = policy.evict(hash)
      expect(victim).not.toBe(NO_SLOT)
      const victimKey = this.#keyAt.get(victim) as number
      hooks.evicted?.(victim, victimKey, hash)
      this.#forget(victimKey, victim)
    }
    const fresh = this.#slots.allocate()
    policy.insert(fresh, hash)
    hooks.inserted?.(fresh, hash)
    this.#slotOf.set(key, fresh)
    this.#keyAt.set(fresh, key)
  }

  #delete(key: number): void {
    const slot = this.#slotOf.get(key)
    if (slot === undefined) return
    this.policy.remove(slot)
    this.hooks.removed?.(slot)
    this.#forget(key, slot)
  }

  #forget(key: number, slot: number): void {
    this.#slotOf.delete(key)
    this.#keyAt.delete(slot)
    this.#slots.release(slot)
  }
}

const playAsTier = (policy: SlotPolicy, limit: number, initialCapacity: number, commands: TierCommand[], hooks: TierHooks = {}): Set<number> =>
  new Tier(policy, limit, initialCapacity, hooks).run(commands).resident

const gets = (keys: Iterable<number>): TierCommand[] => [...keys].map((key) => ({ op: 'get', key }))
const range = (from: number, count: number): number[] => [...Array(count).keys()].map((i) => from + i)

// 'max': the default size would cap sequences near ten commands, too short to fill and cycle the ghost lists.
const requests = (keys: number): fc.Arbitrary<TierCommand[]> =>
  fc.array(fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1) }), { maxLength: 400, size: 'max' })

const requestsAndDeletes = (keys: number): fc.Arbitrary<TierCommand[]> =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }) },
    ),
    { maxLength: 400, size: 'max' },
  )

const requestsDeletesAndResizes = (keys: number): fc.Arbitrary<TierCommand[]> =>
  fc.array(
    fc.oneof(
      { weight: 12, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('resize' as const), key: fc.integer({ min: 1, max: 10 }) }) },
    ),
    { maxLength: 400, size: 'max' },
  )

/** Checks a request-only run against the paper's ARC(c): same victim, same p, same lists. */
function checkAgainstPaper(arc: ArcPolicy, c: number, initial: number, commands: TierCommand[]): void {
  const paper = new PaperArc(c)
  let evicted: number | undefined
  playAsTier(arc, c, initial, commands, {
    evicted: (_slot, key) => {
      expect(evicted).toBeUndefined() // one eviction per miss at a count limit
      evicted = key
    },
    settled: ({ key }) => {
      const expected = paper.request(hashOf(key))
      expect(evicted === undefined ? undefined : hashOf(evicted)).toBe(expected)
      evicted = undefined
      expect(arc.p).toBe(paper.p)
      expect(arc.sizes).toEqual({ t1: paper.t1.length, t2: paper.t2.length, b1: paper.b1.length, b2: paper.b2.length })
    },
  })
}

describe('ArcPolicy', () => {
  it('moves p toward recency on a B1 ghost hit and toward frequency on a B2 ghost hit', () => {
    const c = 4
    const [a, b, cc, d, e, f] = range(0, 6)
    const arc = new ArcPolicy(c, c)
    const victims: number[] = []
    const tier = new Tier(arc, c, c, { evicted: (_slot, key) => victims.push(key) })
    const play = (keys: number[]) => tier.run(gets(keys))
    // One eviction cannot remember anything while T1 is the whole cache, so a and b are read twice first.
    play([a, b, cc, d, a, b])
    expect(arc.sizes).toEqual({ t1: 2, t2: 2, b1: 0, b2: 0 })
    play([e, f]) // two true misses: T1's LRU entries c, d become B1 ghosts
    expect(victims).toEqual([cc, d])
    expect(arc.sizes).toEqual({ t1: 2, t2: 2, b1: 2, b2: 0 })
    expect(arc.p).toBe(0)

    play([cc]) // a B1 hit: T1 was too small, p grows by 1 (|B1| ≥ |B2|); T1 (2) is still over p (1)
    expect(arc.p).toBe(1)
    expect(victims.at(-1)).toBe(e)
    play([d]) // another B1 hit: p = 2; now T1 (1) is under p, so T2 gives up its LRU entry a to B2
    expect(arc.p).toBe(2)
    expect(victims.at(-1)).toBe(a)
    expect(arc.sizes).toEqual({ t1: 1, t2: 3, b1: 1, b2: 1 })

    play([a]) // a B2 hit: T2 was too small, p falls by 1; |T1| = p with the key from B2: T1 gives up f
    expect(arc.p).toBe(1)
    expect(victims.at(-1)).toBe(f)
    expect(arc.sizes).toEqual({ t1: 0, t2: 4, b1: 2, b2: 0 })
  })

  it('steps p up by |B2|/|B1| on a B1 hit when B2 is the longer ghost list', () => {
    const c = 5
    const arc = new ArcPolicy(c, c)
    const paper = new PaperArc(c)
    // A sequence found by search over the paper model: the 16th request hits B1 while |B2| = 3, |B1| = 2.
    const keys = [5, 5, 9, 1, 2, 6, 2, 0, 6, 4, 8, 0, 7, 4, 3, 1, 2]
    const p: number[] = []
    const tier = new Tier(arc, c, c, {
      settled: ({ key }) => {
        paper.request(hashOf(key))
        p.push(arc.p)
      },
    })
    tier.run(gets(keys.slice(0, 15)))
    expect(arc.sizes).toMatchObject({ b1: 2, b2: 3 })
    expect(paper.b1).toContain(hashOf(keys[15]))
    tier.run(gets(keys.slice(15)))
    expect(p).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3.5, 2.5])
    expect(arc.p).toBe(paper.p)
  })

  it('forgets a removed entry without a ghost', () => {
    const arc = new ArcPolicy(4, 4)
    for (const slot of [0, 1, 2, 3]) arc.insert(slot, hashOf(slot))
    arc.touch(1)
    arc.remove(1)
    arc.remove(2)
    expect(arc.sizes).toEqual({ t1: 2, t2: 0, b1: 0, b2: 0 })
    arc.insert(1, hashOf(1)) // back as a new key: T1, and p is untouched
    expect(arc.sizes).toEqual({ t1: 3, t2: 0, b1: 0, b2: 0 })
    expect(arc.p).toBe(0)
    expect([arc.evict(0), arc.evict(0), arc.evict(0), arc.evict(0)]).toEqual([0, 3, 1, NO_SLOT])
  })

  it('evicts the LRU entry of T1 without a ghost while T1 is the whole cache', () => {
    const arc = new ArcPolicy(4, 4)
    for (const slot of [0, 1, 2, 3]) arc.insert(slot, hashOf(slot))
    expect(arc.evict(hashOf(9))).toBe(0)
    expect(arc.sizes).toEqual({ t1: 3, t2: 0, b1: 0, b2: 0 })
  })

  it('keeps its lists, hashes and ghosts across growth', () => {
    const keys = [...range(0, 6), 0, 1, 2, ...range(10, 8), 3, 4, 0, 12, 13, 1]
    const victims = (initial: number): number[] => {
      const out: number[] = []
      playAsTier(new ArcPolicy(initial, 6), 6, initial, gets(keys), { evicted: (_slot, key) => out.push(key) })
      return out
    }
    const roomy = victims(64)
    expect(roomy.length).toBeGreaterThan(10)
    expect(victims(1)).toEqual(roomy)
  })

  it('is the paper ARC(c) when driven as a tier at a count limit, with growth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 4 }), requests(30), (c, initial, commands) => {
        checkAgainstPaper(new ArcPolicy(initial, c), c, initial, commands)
      }),
      { numRuns: 300 },
    )
  })

  it('is the paper ARC(c) too when bounded by bytes only (maxEntries Infinity) and the tier holds c entries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), requests(30), (c, commands) => {
        checkAgainstPaper(new ArcPolicy(2, Infinity), c, 2, commands)
      }),
    )
  })

  it('agrees with the interface model on tier runs with deletes, for a count limit and for Infinity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 4 }),
        requestsAndDeletes(30),
        (limit, byBytes, initial, commands) => {
          const maxEntries = byBytes ? Infinity : limit
          const arc = new ArcPolicy(initial, maxEntries)
          const model = new ArcModel(maxEntries)
          playAsTier(arc, limit, initial, commands, {
            touched: (slot) => model.touch(slot),
            inserted: (slot, hash) => model.insert(slot, hash),
            removed: (slot) => model.remove(slot),
            evicted: (slot, _key, hash) => expect(slot).toBe(model.evict(hash)),
            settled: () => {
              expect(arc.p).toBe(model.p)
              expect(arc.sizes).toEqual({ t1: model.t1.length, t2: model.t2.length, b1: model.b1.length, b2: model.b2.length })
            },
          })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('agrees with the interface model when a moving bound evicts several entries for one key (maxEntries Infinity)', () => {
    let mostForOneKey = 0
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), requestsDeletesAndResizes(30), (limit, commands) => {
        const arc = new ArcPolicy(1, Infinity)
        const model = new ArcModel(Infinity)
        let evictionsForOneKey = 0
        playAsTier(arc, limit, 1, commands, {
          touched: (slot) => model.touch(slot),
          inserted: (slot, hash) => model.insert(slot, hash),
          removed: (slot) => model.remove(slot),
          evicted: (slot, _key, hash) => {
            mostForOneKey = Math.max(mostForOneKey, ++evictionsForOneKey)
            expect(slot).toBe(model.evict(hash))
            expect(arc.p).toBe(model.p)
          },
          settled: () => {
            evictionsForOneKey = 0
            expect(arc.p).toBe(model.p)
            expect(arc.sizes).toEqual({ t1: model.t1.length, t2: model.t2.length, b1: model.b1.length, b2: model.b2.length })
          },
        })
      }),
      { numRuns: 300 },
    )
    expect(mostForOneKey).toBeGreaterThan(2)
  })

  it('agrees with the interface model on any sequence of insert, touch, remove and evict', () => {
    type Command = { op: 'insert' | 'touch' | 'remove' | 'evict'; pick: number; key: number }
    const commands = fc.array(
      fc.record({ op: fc.constantFrom('insert' as const, 'touch' as const, 'remove' as const, 'evict' as const), pick: fc.nat(63), key: fc.nat(23) }),
      { maxLength: 300, size: 'max' },
    )
    fc.assert(
      fc.property(fc.constantFrom(4, 8, 16, Infinity), commands, (maxEntries, run: Command[]) => {
        const arc = new ArcPolicy(16, maxEntries)
        const model = new ArcModel(maxEntries)
        const live = (): number[] => [...model.t1, ...model.t2]
        for (const { op, pick, key } of run) {
          // Keys may repeat among resident entries: that stands in for hash collisions.
          const hash = hashOf(key)
          if (op === 'evict') expect(arc.evict(hash)).toBe(model.evict(hash))
          else if (op === 'insert') {
            const free = range(0, 16).filter((slot) => !live().includes(slot))
            if (free.length === 0) continue
            const slot = free[pick % free.length]
            arc.insert(slot, hash)
            model.insert(slot, hash)
          } else {
            if (live().length === 0) continue
            const slot = live()[pick % live().length]
            if (op === 'touch') {
              arc.touch(slot)
              model.touch(slot)
            } else {
              arc.remove(slot)
              model.remove(slot)
            }
          }
          expect(arc.p).toBe(model.p)
          expect(arc.sizes).toEqual({ t1: model.t1.length, t2: model.t2.length, b1: model.b1.length, b2: model.b2.length })
        }
      }),
      { numRuns: 300 },
    )
  })

  it('keeps the hot set through a one-time scan of twice its size, where LRU loses all of it', () => {
    const limit = 100
    const hot = range(0, 50)
    // Warm-up: the hot keys and as many cold ones fill the cache, then the hot keys are read three more times.
    const warmUp = [...gets(hot), ...gets(range(1000, 50)), ...gets(hot), ...gets(hot), ...gets(hot)]
    const scan = gets(range(2000, limit * 2))
    const hotLeft = (resident: Set<number>): number => hot.filter((key) => resident.has(key)).length
    const arc = new ArcPolicy(8, limit)
    expect(hotLeft(playAsTier(arc, limit, 8, [...warmUp, ...scan]))).toBe(50)
    // The scan never comes back, so nothing moved p: T1 absorbed it all.
    expect(arc.p).toBe(0)
    expect(arc.sizes).toEqual({ t1: 50, t2: 50, b1: 50, b2: 0 })
    expect(hotLeft(playAsTier(new ArcPolicy(8, Infinity), limit, 8, [...warmUp, ...scan]))).toBe(50)
    expect(hotLeft(playAsTier(new LruPolicy(8), limit, 8, [...warmUp, ...scan]))).toBe(0)
  })
})
