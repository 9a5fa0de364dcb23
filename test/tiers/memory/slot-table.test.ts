import { describe, expect, it } from 'vitest'
import { MAX_RESERVED_SLOTS } from '../../../src/policies/index.js'
import { hashKey } from '../../../src/policies/key-hash.js'
import { createHotTier } from '../../../src/tiers/memory/hot-tier.js'
import { SlotTable } from '../../../src/tiers/memory/slot-table.js'

const noExits = { evicted: () => {}, expired: () => {} }

describe('SlotTable growth', () => {
  it('with a finite limit, reserves every column at it: growing to the limit replaces none', () => {
    const grown: number[] = []
    const table = new SlotTable(1000, (capacity) => grown.push(capacity))
    const { keys, expiresAt } = table
    expect([table.capacity, table.reserved, keys.length, expiresAt.length]).toEqual([64, 1000, 1000, 1000])
    for (let i = 0; i < 1000; i++) table.allocate(`k${i}`, hashKey(`k${i}`), 0)
    // The capacity still doubles (the policy follows it), but the columns stay the ones reserved.
    expect(grown).toEqual([128, 256, 512, 1000])
    expect(table.keys).toBe(keys)
    expect(table.expiresAt).toBe(expiresAt)
    expect(table.full).toBe(true)
  })

  it('reserves no more than MAX_RESERVED_SLOTS for a huge limit, and grows past it as without one', () => {
    const table = new SlotTable(1e9, () => {})
    expect([table.reserved, table.keys.length, table.expiresAt.length]).toEqual([MAX_RESERVED_SLOTS, MAX_RESERVED_SLOTS, MAX_RESERVED_SLOTS])
    const tier = createHotTier({ maxEntries: 1e9, maxBytes: Infinity, policy: 'w-tinylfu' }, noExits)
    for (let i = 0; i < 100; i++) tier.set(`k${i}`, i, 0)
    expect(tier.entries).toBe(100)
  })

  it('without a limit, grows the keys column with the typed ones, to the same capacity in the same call', () => {
    const lengths: number[][] = []
    const table = new SlotTable(Infinity, (capacity) => lengths.push([capacity, table.keys.length, table.expiresAt.length]))
    for (let i = 0; i < 1000; i++) table.allocate(`k${i}`, hashKey(`k${i}`), 0)
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

/** Typed arrays constructed while `work` runs, and their bytes (the modules look their constructors up on the global object at each call). */
function typedArraysMadeDuring(work: () => void): number {
  return typedArraysDuring(work).made
}

function typedArraysDuring(work: () => void): { made: number; bytes: number } {
  const kinds = ['Uint8Array', 'Uint32Array', 'Int32Array', 'Float64Array'] as const
  const saved = kinds.map((kind) => globalThis[kind])
  let made = 0
  let bytes = 0
  kinds.forEach((kind, i) => {
    const Base = saved[i] as unknown as new (...args: unknown[]) => object
    ;(globalThis as Record<string, unknown>)[kind] = class extends Base {
      constructor(...args: unknown[]) {
        super(...args)
        made++
        bytes += (this as unknown as ArrayBufferView).byteLength
      }
    }
  })
  try {
    work()
  } finally {
    kinds.forEach((kind, i) => {
      ;(globalThis as Record<string, unknown>)[kind] = saved[i]
    })
  }
  return { made, bytes }
}

describe('memory tier growth', () => {
  it.each(['w-tinylfu', 'lru', 'sieve'] as const)('filling a %s tier to a finite maxEntries allocates no typed column after creation', (policy) => {
    const maxEntries = 1 << 16
    const tier = createHotTier({ maxEntries, maxBytes: Infinity, policy }, noExits)
    // Every doubling would otherwise have allocated (and copied) the policy's columns, the table's and the sketch anew.
    const made = typedArraysMadeDuring(() => {
      for (let i = 0; i < maxEntries; i++) tier.set(`k${i}`, i, 0)
    })
    expect(tier.entries).toBe(maxEntries)
    expect(made).toBe(0)
  })

  it('without the reserve (a tier bounded by bytes) the columns still grow: the count above sees allocations', () => {
    const tier = createHotTier({ maxEntries: Infinity, maxBytes: Infinity, policy: 'lru' }, noExits)
    expect(typedArraysMadeDuring(() => tier.set('k', 1, 0))).toBe(0)
    expect(
      typedArraysMadeDuring(() => {
        for (let i = 0; i < 1000; i++) tier.set(`k${i}`, i, 0)
      }),
    ).toBeGreaterThan(0)
  })

  it('a reset does not reserve again: it allocates small columns only, and the tier still fills to its maximum', () => {
    const maxEntries = 1 << 16
    const tier = createHotTier({ maxEntries, maxBytes: Infinity, policy: 'w-tinylfu' }, noExits)
    for (let i = 0; i < maxEntries; i++) tier.set(`k${i}`, i, 0)
    // Reserving again would allocate more than 2 MiB here (10-50 ms at a million slots).
    expect(typedArraysDuring(() => tier.reset()).bytes).toBeLessThan(16 * 1024)
    for (let i = 0; i < maxEntries + 10; i++) tier.set(`k${i}`, i, 0)
    expect(tier.entries).toBe(maxEntries)
  })
})
