import { describe, expect, it } from 'vitest'
import { NO_SLOT } from '../../../src/policies/index.js'
import { hashKey } from '../../../src/policies/key-hash.js'
import { createHotTier } from '../../../src/tiers/memory/hot-tier.js'
import { SlotTable } from '../../../src/tiers/memory/slot-table.js'

function hotTier(maxEntries = 4) {
  const expired: string[] = []
  const evicted: [string, number, number][] = []
  const tier = createHotTier(
    { maxEntries, maxBytes: Infinity, policy: 'lru' },
    { evicted: (key, _value, expiresAt, keptUntil) => evicted.push([key, expiresAt, keptUntil]), expired: (key) => expired.push(key) },
  )
  return { tier, expired, evicted }
}

describe('entries kept past their expiry as stale values', () => {
  it('are absent to findOrExpire and findLive past the expiry, found by findStale until kept-until, then dropped', () => {
    const { tier, expired } = hotTier()
    tier.set('k', 'v', 100, 150)
    expect(tier.findOrExpire('k', 99)).not.toBe(NO_SLOT)
    expect(tier.findOrExpire('k', 100)).toBe(NO_SLOT)
    expect(tier.findLive('k', 120)).toBe(NO_SLOT)
    const slot = tier.findStale('k', 149)
    expect(slot).not.toBe(NO_SLOT)
    expect([tier.valueAt(slot), tier.expiryAt(slot), tier.keptUntilAt(slot)]).toEqual(['v', 100, 150])
    expect(expired).toEqual([]) // kept: not dropped, not told
    expect(tier.findStale('k', 150)).toBe(NO_SLOT)
    expect(tier.findOrExpire('k', 150)).toBe(NO_SLOT)
    expect(expired).toEqual(['k'])
    expect(tier.entries).toBe(0)
  })

  it('are dropped by the sweep at their kept-until, not at their expiry', () => {
    const { tier, expired } = hotTier()
    tier.set('kept', 'v', 100, 300)
    tier.set('plain', 'v', 100)
    expect(tier.sweep(0, 10, 200)).toBe(-1)
    expect(expired).toEqual(['plain'])
    tier.sweep(0, 10, 300)
    expect(expired).toEqual(['plain', 'kept'])
  })

  it('lose their keeping when written again without one', () => {
    const { tier, expired } = hotTier()
    tier.set('k', 'v', 100, 300)
    tier.set('k', 'w', 100)
    expect(tier.findOrExpire('k', 100)).toBe(NO_SLOT)
    expect(expired).toEqual(['k'])
  })

  it('are handed to the eviction exit with their kept-until', () => {
    const { tier, evicted } = hotTier(1)
    tier.set('a', 'v', 100, 400)
    tier.set('b', 'v', 0)
    expect(evicted).toEqual([['a', 100, 400]])
  })

  it('a table whose entries never ask for keeping holds no column for it', () => {
    const table = new SlotTable(8, () => {})
    const slot = table.allocate('k', hashKey('k'), 100)
    table.setExpiry(slot, 200)
    expect(table.keptUntil).toBeUndefined()
    table.setExpiry(slot, 200, 250)
    expect(table.keptUntil?.[slot]).toBe(250)
    expect(table.isDue(slot, 249)).toBe(false)
    expect(table.isDue(slot, 250)).toBe(true)
  })

  it('the column grows with the table', () => {
    const table = new SlotTable(Infinity, () => {})
    table.allocate('first', hashKey('first'), 1, 2)
    for (let i = 0; i < 200; i++) table.allocate(`k${i}`, hashKey(`k${i}`), 10, 20 + i)
    expect(table.keptUntil?.length).toBeGreaterThanOrEqual(201)
    expect(table.keptUntil?.[table.find('k199')]).toBe(219)
    expect(table.keptUntil?.[table.find('first')]).toBe(2)
  })
})
