import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LruPolicy } from '../../src/policies/lru.js'
import { NO_SLOT } from '../../src/policies/policy.js'
import { SievePolicy } from '../../src/policies/sieve.js'
import { Slots } from './models/slots.js'

/**
 * The paper's Algorithm 1, literally, on slots: an array with the tail
 * (oldest) first, a set of visited slots, and the hand as a slot or null.
 */
class SieveModel {
  queue: number[] = []
  visited = new Set<number>()
  hand: number | null = null

  insert(slot: number): void {
    this.queue.push(slot)
    this.visited.delete(slot)
  }

  touch(slot: number): void {
    this.visited.add(slot)
  }

  remove(slot: number): void {
    const at = this.queue.indexOf(slot)
    if (this.hand === slot) this.hand = this.queue[at + 1] ?? null
    this.queue.splice(at, 1)
    this.visited.delete(slot)
  }

  evict(): number {
    if (this.queue.length === 0) return NO_SLOT
    let at = this.hand === null ? 0 : this.queue.indexOf(this.hand)
    while (this.visited.has(this.queue[at])) {
      this.visited.delete(this.queue[at])
      at = (at + 1) % this.queue.length
    }
    const victim = this.queue[at]
    this.hand = this.queue[at + 1] ?? null
    this.queue.splice(at, 1)
    return victim
  }
}

type TierCommand = { op: 'get' | 'delete'; key: number }

const tierCommands = (keys: number): fc.Arbitrary<TierCommand[]> =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('get' as const), key: fc.nat(keys - 1) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.nat(keys - 1) }) },
    ),
    // 'max': the default size would cap sequences near ten commands, too short to cycle the hand.
    { maxLength: 300, size: 'max' },
  )

/** Free-form commands on 16 slots; `pick` chooses among free or live slots. */
const freeCommands = fc.array(
  fc.oneof(
    fc.record({ op: fc.constantFrom('insert' as const, 'touch' as const, 'remove' as const), pick: fc.nat(63) }),
    fc.record({ op: fc.constant('evict' as const), pick: fc.constant(0) }),
  ),
  { maxLength: 300, size: 'max' },
)

interface SlotPolicy {
  grow(capacity: number): void
  insert(slot: number, keyHash: number): void
  touch(slot: number): void
  remove(slot: number): void
  evict(incomingKeyHash: number): number
}

/**
 * Drives a policy the way `MemoryTier` does: a hit touches, a miss evicts
 * while `limit` entries are resident and then inserts, a delete removes.
 * Returns the keys resident at the end; `onEvict` sees each victim's slot.
 */
function playAsTier(
  policy: SlotPolicy,
  limit: number,
  initialCapacity: number,
  commands: TierCommand[],
  hooks: { touched?: (slot: number) => void; inserted?: (slot: number) => void; removed?: (slot: number) => void; evicted?: (slot: number) => void } = {},
): Set<number> {
  const slotOf = new Map<number, number>()
  const keyAt = new Map<number, number>()
  const slots = new Slots(initialCapacity, (capacity) => policy.grow(capacity))
  for (const { op, key } of commands) {
    const slot = slotOf.get(key)
    if (op === 'delete') {
      if (slot === undefined) continue
      policy.remove(slot)
      hooks.removed?.(slot)
      slotOf.delete(key)
      keyAt.delete(slot)
      slots.release(slot)
      continue
    }
    if (slot !== undefined) {
      policy.touch(slot)
      hooks.touched?.(slot)
      continue
    }
    while (slotOf.size >= limit) {
      const victim = policy.evict(0)
      hooks.evicted?.(victim)
      slotOf.delete(keyAt.get(victim) as number)
      keyAt.delete(victim)
      slots.release(victim)
    }
    const fresh = slots.allocate()
    policy.insert(fresh, 0)
    hooks.inserted?.(fresh)
    slotOf.set(key, fresh)
    keyAt.set(fresh, key)
  }
  return new Set(slotOf.keys())
}

const gets = (keys: Iterable<number>): TierCommand[] => [...keys].map((key) => ({ op: 'get', key }))
const range = (from: number, count: number): number[] => [...Array(count).keys()].map((i) => from + i)

describe('SievePolicy', () => {
  it('sifts like the paper: visited entries are kept in place, the hand stops past the victim', () => {
    const sieve = new SievePolicy(16)
    const [A, B, C, D, E, F, G, H, I, J] = range(0, 10)
    for (const slot of [A, B, C, D, E, F, G, H]) sieve.insert(slot) // A at the tail, H at the head
    for (const slot of [A, B, G]) sieve.touch(slot)
    expect(sieve.hand).toBe(NO_SLOT) // no eviction yet: the first starts at the tail
    // Miss on I: A and B lose their bits, C is the first unvisited entry.
    expect(sieve.evict()).toBe(C)
    expect(sieve.hand).toBe(D)
    sieve.insert(I)
    // Miss on J: the hand starts at D, not at the tail where A and B wait.
    expect(sieve.evict()).toBe(D)
    expect(sieve.hand).toBe(E)
    sieve.insert(J)
    expect(sieve.evict()).toBe(E)
    expect(sieve.evict()).toBe(F)
    expect(sieve.hand).toBe(G)
    // G was visited: it stays, unmarked; H goes and the hand moves on to I.
    expect(sieve.evict()).toBe(H)
    expect(sieve.hand).toBe(I)
    expect(sieve.evict()).toBe(I)
    // J was the head: the hand wraps to the tail, where A and B lost their bits on the first pass.
    expect(sieve.evict()).toBe(J)
    expect(sieve.hand).toBe(NO_SLOT)
    expect([sieve.evict(), sieve.evict(), sieve.evict(), sieve.evict()]).toEqual([A, B, G, NO_SLOT])
  })

  it('clears every bit in one lap when all entries are visited, then evicts the first', () => {
    const sieve = new SievePolicy(4)
    for (const slot of [0, 1, 2, 3]) sieve.insert(slot)
    for (const slot of [0, 1, 2, 3]) sieve.touch(slot)
    expect(sieve.evict()).toBe(0)
    expect(sieve.hand).toBe(1)
    expect(sieve.evict()).toBe(1)
  })

  it('moves the hand on when the entry it points at is removed', () => {
    const sieve = new SievePolicy(8)
    for (const slot of [0, 1, 2, 3]) sieve.insert(slot)
    sieve.touch(0)
    expect(sieve.evict()).toBe(1)
    expect(sieve.hand).toBe(2)
    sieve.remove(2)
    expect(sieve.hand).toBe(3)
    sieve.remove(3) // the head: the next eviction starts at the tail again
    expect(sieve.hand).toBe(NO_SLOT)
    expect([sieve.evict(), sieve.evict()]).toEqual([0, NO_SLOT])
  })

  it('keeps its queue, bits and hand across growth', () => {
    const grown = new SievePolicy(2)
    const roomy = new SievePolicy(16)
    const victims = (policy: SievePolicy, grow: boolean): number[] => {
      const out: number[] = []
      policy.insert(0)
      policy.insert(1)
      policy.touch(0)
      out.push(policy.evict()) // 1, hand → none
      policy.insert(1)
      if (grow) policy.grow(16)
      for (let slot = 2; slot < 10; slot++) policy.insert(slot)
      policy.touch(5)
      policy.touch(0)
      for (let i = 0; i < 10; i++) out.push(policy.evict())
      return out
    }
    expect(victims(grown, true)).toEqual(victims(roomy, false))
  })

  it('agrees with the paper model when driven as a tier (evict at the limit, then insert), with growth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), tierCommands(24), (limit, initial, commands) => {
        const sieve = new SievePolicy(initial)
        const model = new SieveModel()
        playAsTier(sieve, limit, initial, commands, {
          touched: (slot) => model.touch(slot),
          inserted: (slot) => model.insert(slot),
          removed: (slot) => model.remove(slot),
          evicted: (slot) => {
            expect(slot).toBe(model.evict())
            expect(sieve.hand).toBe(model.hand ?? NO_SLOT)
          },
        })
      }),
    )
  })

  it('agrees with the paper model on any sequence of insert, touch, remove and evict', () => {
    fc.assert(
      fc.property(freeCommands, (commands) => {
        const sieve = new SievePolicy(16)
        const model = new SieveModel()
        for (const command of commands) {
          if (command.op === 'evict') {
            expect(sieve.evict()).toBe(model.evict())
          } else if (command.op === 'insert') {
            const free = range(0, 16).filter((slot) => !model.queue.includes(slot))
            if (free.length === 0) continue
            const slot = free[command.pick % free.length]
            sieve.insert(slot)
            model.insert(slot)
          } else {
            if (model.queue.length === 0) continue
            const slot = model.queue[command.pick % model.queue.length]
            if (command.op === 'touch') {
              sieve.touch(slot)
              model.touch(slot)
            } else {
              sieve.remove(slot)
              model.remove(slot)
            }
          }
          expect(sieve.hand).toBe(model.hand ?? NO_SLOT)
        }
      }),
    )
  })

  it('keeps the hot set through a one-time scan of twice its size, where LRU loses all of it', () => {
    const limit = 100
    const hot = range(0, 50)
    // Warm-up: the hot keys and as many cold ones fill the cache, then the hot keys are read three more times.
    const warmUp = [...gets(hot), ...gets(range(1000, 50)), ...gets(hot), ...gets(hot), ...gets(hot)]
    const scan = gets(range(2000, limit * 2))
    const hotLeft = (resident: Set<number>): number => hot.filter((key) => resident.has(key)).length
    expect(hotLeft(playAsTier(new SievePolicy(8), limit, 8, [...warmUp, ...scan]))).toBe(50)
    expect(hotLeft(playAsTier(new LruPolicy(8), limit, 8, [...warmUp, ...scan]))).toBe(0)
  })
})
