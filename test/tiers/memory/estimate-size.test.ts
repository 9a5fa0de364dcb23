import { describe, expect, it } from 'vitest'
import { estimateSize } from '../../../src/tiers/memory/estimate-size.js'

describe('estimateSize', () => {
  it('counts a flat value by its parts', () => {
    expect(estimateSize('abc')).toBe(16 + 6)
    expect(estimateSize(1)).toBe(8)
    expect(estimateSize({ a: 1 })).toBe(32 + 8 + 16 + 2 + 8)
    expect(estimateSize(new Uint8Array(100))).toBe(32 + 100)
  })

  it('counts a widely shared object once, in time linear in the objects', () => {
    let node: unknown = { leaf: 'x'.repeat(100) }
    for (let i = 0; i < 40; i++) node = { a: node, b: node, c: node }
    const start = process.cpuUsage()
    const size = estimateSize(node)
    const used = process.cpuUsage(start)
    expect(size).toBeLessThan(100_000)
    expect((used.user + used.system) / 1000).toBeLessThan(50)
  })

  it('stops counting past the limit, with a count over it', () => {
    const huge = Array.from({ length: 1_000_000 }, (_, i) => ({ i }))
    const size = estimateSize(huge, 1000)
    expect(size).toBeGreaterThan(1000)
    expect(size).toBeLessThan(2000)
  })
})
