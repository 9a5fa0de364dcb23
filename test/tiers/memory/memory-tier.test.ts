import { describe, expect, it } from 'vitest'
import { NO_SLOT } from '../../../src/policies/index.js'
import { createHotTier } from '../../../src/tiers/memory/hot-tier.js'
import type { MemoryTier, TierExits } from '../../../src/tiers/memory/memory-tier.js'
import { createWarmTier, warmEntryCharge } from '../../../src/tiers/memory/warm-tier.js'

interface Recorded<S> extends TierExits<S> {
  evictions: string[]
  expirations: string[]
}

function recorder<S>(): Recorded<S> {
  const evictions: string[] = []
  const expirations: string[] = []
  return {
    evictions,
    expirations,
    evicted: (key) => evictions.push(key),
    expired: (key) => expirations.push(key),
  }
}

const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill)
/** What warm charges for `n` encoded bytes under a one-character key. */
const charge = (n: number): number => warmEntryCharge(bytes(n), 'a')

// Both in-memory tiers run this one suite: `entry(i)` is what each stores, `small` bounds fit three of them.
const tiers = [
  {
    name: 'hot',
    entry: (i: number): unknown => ({ i }),
    make: (exits: TierExits<unknown>, policy: 'lru' | 'lfu' = 'lru') => createHotTier({ maxEntries: 3, maxBytes: Infinity, policy }, exits),
  },
  {
    name: 'warm',
    entry: (i: number): Uint8Array => bytes(10, i),
    make: (exits: TierExits<Uint8Array>, policy: 'lru' | 'lfu' = 'lru') => createWarmTier({ maxBytes: 3 * charge(10), policy }, exits),
  },
] as const

for (const tier of tiers) {
  describe(`${tier.name} tier`, () => {
    const setup = (policy: 'lru' | 'lfu' = 'lru') => {
      const exits = recorder<never>()
      const t = (tier.make as (e: TierExits<unknown>, p: 'lru' | 'lfu') => MemoryTier<unknown>)(exits, policy)
      return { t, exits }
    }

    it('stores, finds and deletes', () => {
      const { t } = setup()
      const value = tier.entry(1)
      expect(t.set('a', value, 0)).toBe(true)
      const slot = t.findOrExpire('a', 0)
      expect(slot).not.toBe(NO_SLOT)
      // Equal, not the same object: warm keeps a copy of the bytes in its arena.
      expect(t.valueAt(slot)).toEqual(value)
      expect(t.entries).toBe(1)
      expect(t.delete('a')).toBe(true)
      expect(t.delete('a')).toBe(false)
      expect(t.findOrExpire('a', 0)).toBe(NO_SLOT)
      expect(t.entries).toBe(0)
    })

    it('evicts the least recently used entry when full and reports it', () => {
      const { t, exits } = setup()
      for (const [i, key] of ['a', 'b', 'c'].entries()) t.set(key, tier.entry(i), 0)
      t.hit(t.findOrExpire('a', 0))
      t.set('d', tier.entry(4), 0)
      expect(exits.evictions).toEqual(['b'])
      expect([...t.keys(0)].sort()).toEqual(['a', 'c', 'd'])
    })

    it('evicts by frequency under lfu', () => {
      const { t, exits } = setup('lfu')
      for (const [i, key] of ['a', 'b', 'c'].entries()) t.set(key, tier.entry(i), 0)
      t.hit(t.findOrExpire('a', 0))
      t.hit(t.findOrExpire('a', 0))
      t.hit(t.findOrExpire('b', 0))
      t.set('d', tier.entry(4), 0)
      t.set('e', tier.entry(5), 0)
      expect(exits.evictions).toEqual(['c', 'd'])
    })

    it('overwrites in place without evicting', () => {
      const { t, exits } = setup()
      for (const [i, key] of ['a', 'b', 'c'].entries()) t.set(key, tier.entry(i), 0)
      const value = tier.entry(9)
      t.set('b', value, 0)
      expect(exits.evictions).toEqual([])
      expect(t.valueAt(t.findOrExpire('b', 0))).toEqual(value)
      expect(t.entries).toBe(3)
    })

    it('drops an expired entry when it is looked up, and reports it', () => {
      const { t, exits } = setup()
      t.set('a', tier.entry(1), 100)
      expect(t.findOrExpire('a', 99)).not.toBe(NO_SLOT)
      expect(t.findLive('a', 100)).toBe(NO_SLOT)
      expect(t.entries).toBe(1)
      expect(t.findOrExpire('a', 100)).toBe(NO_SLOT)
      expect(exits.expirations).toEqual(['a'])
      expect(t.entries).toBe(0)
      expect(t.expiring).toBe(0)
    })

    it('sweeps expired entries in slices bounded by removals and by slots looked at', () => {
      const exits = recorder<unknown>()
      const t = (tier.make as (e: TierExits<unknown>) => MemoryTier<unknown>)(exits)
      t.set('a', tier.entry(1), 10)
      t.set('b', tier.entry(2), 0)
      t.set('c', tier.entry(3), 20)
      let cursor = t.sweep(0, 1, 15)
      expect(cursor).toBe(1) // one removal was the budget
      expect(exits.expirations).toEqual(['a'])
      cursor = t.sweep(cursor, 1, 15)
      expect(cursor).toBe(-1)
      expect(exits.expirations).toEqual(['a'])
      expect(t.sweep(0, 10, 20)).toBe(-1)
      expect(exits.expirations).toEqual(['a', 'c'])
      expect([...t.keys(20)]).toEqual(['b'])
    })

    it('looks at no more than eight slots per removal of budget in one slice', () => {
      const exits = recorder<unknown>()
      const t =
        tier.name === 'hot'
          ? createHotTier({ maxEntries: 100, maxBytes: Infinity, policy: 'lru' }, exits)
          : createWarmTier({ maxBytes: 20 * charge(20), policy: 'lru' }, exits as TierExits<Uint8Array>)
      for (let i = 0; i < 20; i++) t.set(`k${i}`, tier.entry(i) as never, 1000)
      expect(t.sweep(0, 1, 0)).toBe(8)
      expect(t.sweep(8, 2, 0)).toBe(-1)
    })

    it('forgets everything on reset and keeps working', () => {
      const { t } = setup()
      for (const [i, key] of ['a', 'b', 'c'].entries()) t.set(key, tier.entry(i), 5)
      t.reset()
      expect(t.entries).toBe(0)
      expect(t.bytes).toBe(0)
      expect(t.expiring).toBe(0)
      expect(t.findOrExpire('a', 0)).toBe(NO_SLOT)
      t.set('x', tier.entry(7), 0)
      expect(t.findOrExpire('x', 0)).not.toBe(NO_SLOT)
    })

    it('grows past its first capacity', () => {
      const exits = recorder<unknown>()
      const t =
        tier.name === 'hot'
          ? createHotTier({ maxEntries: 1000, maxBytes: Infinity, policy: 'lru' }, exits)
          : createWarmTier({ maxBytes: 1000 * warmEntryCharge(bytes(10), 'k999'), policy: 'lru' }, exits as TierExits<Uint8Array>)
      for (let i = 0; i < 1000; i++) t.set(`k${i}`, tier.entry(i % 200) as never, 0)
      expect(t.entries).toBe(1000)
      expect(exits.evictions).toEqual([])
      t.set('one-more', tier.entry(1) as never, 0)
      expect(exits.evictions).toEqual(['k0'])
    })
  })
}

describe('byte bounds', () => {
  it('warm evicts until the new bytes fit, and refuses a value larger than the tier', () => {
    const exits = recorder<Uint8Array>()
    const warm = createWarmTier({ maxBytes: 3 * charge(10), policy: 'lru' }, exits)
    warm.set('a', bytes(10), 0)
    warm.set('b', bytes(10), 0)
    warm.set('c', bytes(10), 0)
    warm.set('d', bytes(20), 0)
    expect(exits.evictions).toEqual(['a', 'b'])
    expect(warm.bytes).toBe(charge(10) + charge(20))
    expect(warm.set('e', bytes(3 * charge(10)), 0)).toBe(false)
    expect(warm.entries).toBe(2)
  })

  it('warm evicts others when an overwrite grows an entry', () => {
    const exits = recorder<Uint8Array>()
    const warm = createWarmTier({ maxBytes: 2 * charge(10) + 10, policy: 'lru' }, exits)
    warm.set('a', bytes(10), 0)
    warm.set('b', bytes(10), 0)
    warm.set('b', bytes(25), 0)
    expect(exits.evictions).toEqual(['a'])
    expect(warm.bytes).toBe(charge(25))
  })

  it('never evicts the entry an overwrite grew, whatever the policy thinks of it', () => {
    const exits = recorder<Uint8Array>()
    const warm = createWarmTier({ maxBytes: 2 * charge(10) + 10, policy: 'lfu' }, exits)
    warm.set('a', bytes(10), 0)
    warm.set('b', bytes(10), 0)
    for (let i = 0; i < 3; i++) warm.hit(warm.findOrExpire('b', 0)) // 'a' is now the least frequently used
    warm.set('a', bytes(25), 0)
    expect(exits.evictions).toEqual(['b'])
    expect(warm.valueAt(warm.findOrExpire('a', 0)).byteLength).toBe(25)
    expect(warm.bytes).toBe(charge(25))
  })

  it('hot bounds estimated bytes', () => {
    const exits = recorder<unknown>()
    const hot = createHotTier({ maxEntries: Infinity, maxBytes: 1000, policy: 'lru' }, exits)
    for (let i = 0; i < 20; i++) hot.set(`k${i}`, 'x'.repeat(100), 0)
    expect(hot.bytes).toBeLessThanOrEqual(1000)
    expect(exits.evictions.length).toBeGreaterThan(10)
    expect(hot.set('big', 'x'.repeat(1000), 0)).toBe(false)
  })
})

describe('keys: a walk, as a Map walk, yields the entries that come while it is under way', () => {
  it('yields a key that came into a freed slot behind the walk, and a key written anew, each once more', () => {
    const tier = createHotTier({ maxEntries: 100, maxBytes: Infinity, policy: 'lru' }, { evicted: () => {}, expired: () => {} })
    for (let i = 0; i < 10; i++) tier.set(`k${i}`, i, 0)
    const walk = tier.keys(0)
    const seen = [walk.next().value, walk.next().value, walk.next().value]
    // k0's slot, behind the walk, is freed and taken by a new key; k1 is written anew into a slot of its own.
    tier.delete('k0')
    tier.set('late', 1, 0)
    tier.delete('k1')
    tier.set('k1', 2, 0)
    for (let next = walk.next(); next.done !== true; next = walk.next()) seen.push(next.value)
    expect(seen.slice(0, 3)).toEqual(['k0', 'k1', 'k2'])
    expect(seen.slice(3).sort()).toEqual(['k1', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'late'])
  })
})
