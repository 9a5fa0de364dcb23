import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey } from '../../../src/policies/key-hash.js'
import { KeyIndex } from '../../../src/tiers/memory/key-index.js'

/** An index with its slots' keys, as `SlotTable` keeps them: slots handed out from a free stack. */
function indexed(entries: number) {
  const index = new KeyIndex(entries)
  const keys: (string | undefined)[] = []
  const free: number[] = []
  return {
    index,
    keys,
    add(key: string): number {
      const slot = free.pop() ?? keys.length
      keys[slot] = key
      index.add(hashKey(key), slot)
      return slot
    },
    remove(key: string): void {
      const slot = index.get(key, keys)
      index.remove(hashKey(key), slot)
      keys[slot] = undefined
      free.push(slot)
    },
  }
}

describe('KeyIndex', () => {
  it('finds what a Map finds, through adds, removes and growth, with keys that share cells', () => {
    // 40 keys over a 16-cell start: probes wrap around the end, clusters form, and the index doubles.
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 39 }))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 }), fc.array(op, { maxLength: 300 }), (entries, ops) => {
        const table = indexed(entries)
        const model = new Map<string, number>()
        for (const [adds, n] of ops) {
          const key = `key-${n}`
          if (adds && !model.has(key)) model.set(key, table.add(key))
          else if (!adds && model.has(key)) {
            table.remove(key)
            model.delete(key)
          }
          expect(table.index.size).toBe(model.size)
        }
        for (let n = 0; n < 40; n++) expect(table.index.get(`key-${n}`, table.keys)).toBe(model.get(`key-${n}`) ?? -1)
      }),
      { numRuns: 300 },
    )
  })

  it('grows past the keys it was made for', () => {
    const table = indexed(0)
    for (let i = 0; i < 1000; i++) table.add(`k${i}`)
    for (let i = 0; i < 1000; i++) expect(table.index.get(`k${i}`, table.keys)).toBe(i)
    expect(table.index.size).toBe(1000)
  })

  it('compares the key itself, not its hash alone: a key of the same hash is not found for another', () => {
    const table = indexed(16)
    const slot = table.add('held')
    table.index.add(hashKey('absent'), 7)
    table.keys[7] = 'other'
    expect(table.index.get('held', table.keys)).toBe(slot)
    expect(table.index.get('absent', table.keys)).toBe(-1)
  })

  it('removes and clears without allocating: nothing shrinks, nothing is rehashed', () => {
    const table = indexed(1 << 12)
    for (let i = 0; i < 1 << 12; i++) table.add(`k${i}`)
    const Int32 = globalThis.Int32Array
    let made = 0
    globalThis.Int32Array = class extends Int32 {
      constructor(...args: unknown[]) {
        super(...(args as [number]))
        made++
      }
    } as Int32ArrayConstructor
    try {
      for (let i = 0; i < 1 << 12; i += 2) table.remove(`k${i}`)
      expect(table.index.get('k1', table.keys)).toBe(1)
      table.index.clear()
    } finally {
      globalThis.Int32Array = Int32
    }
    expect(made).toBe(0)
    expect(table.index.size).toBe(0)
    expect(table.index.get('k1', table.keys)).toBe(-1)
  })
})
