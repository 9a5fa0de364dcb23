import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { WARM_ENTRY_OVERHEAD } from '../../../src/tiers/memory/entry-overhead.js'
import { createWarmTier } from '../../../src/tiers/memory/warm-tier.js'

const noExits = { evicted: () => {}, expired: () => {} }

describe('warm tier charges', () => {
  it('charges an entry its encoded bytes, its key and the per-entry overhead', () => {
    const warm = createWarmTier({ maxBytes: 1 << 20, policy: 'lru' }, noExits)
    warm.set('key', new Uint8Array(10), 0)
    expect(warm.bytes).toBe(10 + 3 + WARM_ENTRY_OVERHEAD)
    warm.set('ключ', new Uint8Array(10), 0) // held at two bytes per character
    expect(warm.bytes).toBe(10 + 3 + WARM_ENTRY_OVERHEAD + 10 + 8 + WARM_ENTRY_OVERHEAD)
    warm.delete('key')
    expect(warm.bytes).toBe(10 + 8 + WARM_ENTRY_OVERHEAD)
  })

  it('refuses a value whose bytes fit the bound but whose entry does not, and keeps what it holds', () => {
    const maxBytes = 1000
    const warm = createWarmTier({ maxBytes, policy: 'lru' }, noExits)
    warm.set('a', new Uint8Array(10), 0)
    expect(warm.set('b', new Uint8Array(maxBytes - WARM_ENTRY_OVERHEAD), 0)).toBe(false)
    expect(warm.entries).toBe(1)
    expect(warm.bytes).toBe(10 + 1 + WARM_ENTRY_OVERHEAD)
  })
})

describe('warm tier memory', () => {
  const fixture = fileURLToPath(new URL('./fixtures/warm-heap-fill.ts', import.meta.url))
  const fill = (maxBytes: number, valueBytes: number) => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fixture, String(maxBytes), String(valueBytes)], {
      encoding: 'utf8',
    })
    if (child.status !== 0) throw new Error(`fixture failed: ${child.stderr}`)
    return JSON.parse(child.stdout) as { growth: number; entries: number; bytes: number }
  }
  const maxBytes = 8 << 20

  // Measured in a process of its own: full GCs and nothing else on the heap.
  it.each([100, 10 * 1024])(
    'holds about maxBytes of heap + external with %i B values',
    (valueBytes) => {
      const { growth, entries, bytes } = fill(maxBytes, valueBytes)
      expect(bytes).toBeLessThanOrEqual(maxBytes)
      expect(growth).toBeLessThanOrEqual(1.3 * maxBytes)
      expect(growth).toBeGreaterThanOrEqual(0.7 * maxBytes)
      expect(entries).toBeGreaterThan(0)
    },
    60_000,
  )

  it('leaves large values almost all of their room', () => {
    const valueBytes = 10 * 1024
    expect(fill(maxBytes, valueBytes).entries).toBeGreaterThanOrEqual(Math.floor((0.95 * maxBytes) / valueBytes))
  }, 60_000)
})
