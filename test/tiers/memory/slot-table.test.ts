import { describe, expect, it } from 'vitest'
import { createHotTier } from '../../../src/tiers/memory/hot-tier.js'
import { SlotTable } from '../../../src/tiers/memory/slot-table.js'

const noExits = { evicted: () => {}, expired: () => {} }

describe('SlotTable growth', () => {
  it('with a finite limit, reserves every column at it: growing to the limit replaces none', () => {
    const grown: number[] = []
    const table = new SlotTable(1000, (capacity) => grown.push(capacity))
    const { keys, expiresAt } = table
    expect([table.capacity, table.reserved, keys.length, expiresAt.length]).toEqual([64, 1000, 1000, 1000])
    for (let i = 0; i < 1000; i++) table.allocate(`k${i}`, 0)
    // The capacity still doubles (the policy follows it), but the columns stay the ones reserved.
    expect(grown).toEqual([128, 256, 512, 1000])
    expect(table.keys).toBe(keys)
    expect(table.expiresAt).toBe(expiresAt)
    expect(table.full).toBe(true)
  })

  it('without a limit, grows the keys column with the typed ones, to the same capacity in the same call', () => {
    const lengths: number[][] = []
    const table = new SlotTable(Infinity, (capacity) => lengths.push([capacity, table.keys.length, table.expiresAt.length]))
    for (let i = 0; i < 1000; i++) table.allocate(`k${i}`, 0)
    expect(lengths).toEqual([
      [128, 128, 128],
      [256, 256, 256],
      [512, 512, 512],
      [1024, 1024, 1024],
    ])
    expect(table.keys.slice(0, 3)).toEqual(['k0', 'k1', 'k2'])
    expect(table.keys[999]).toBe('k999')
  })
})

describe('memory tier growth', () => {
  it('filling a W-TinyLFU tier to a finite maxEntries allocates no typed column after creation', () => {
    const maxEntries = 1 << 16
    const before = process.memoryUsage().arrayBuffers
    const tier = createHotTier({ maxEntries, maxBytes: Infinity, policy: 'w-tinylfu' }, noExits)
    const reservedBytes = process.memoryUsage().arrayBuffers - before
    for (let i = 0; i < maxEntries; i++) tier.set(`k${i}`, i, 0)
    expect(tier.entries).toBe(maxEntries)
    // Every doubling would otherwise have allocated (and copied) the sketch, the policy's lists and the table's columns anew.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(reservedBytes + 64 * 1024)
  })
})
