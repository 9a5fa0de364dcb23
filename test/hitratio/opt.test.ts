import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NEVER, nextUses, optHits } from '../../bench/hitratio/opt.js'

/**
 * The true optimum by exhaustive search: at every miss in a full cache, try
 * every possible victim (and, with bypass, not admitting at all) and keep the
 * best. Exponential, so only for tiny traces; keys below 8, the cache a bitmask.
 */
function bruteForce(trace: number[], capacity: number, bypass: boolean): number {
  const memo = new Map<number, number>()
  const best = (i: number, cached: number, size: number): number => {
    if (i === trace.length) return 0
    const memoKey = i * 256 + cached
    const known = memo.get(memoKey)
    if (known !== undefined) return known
    const bit = 1 << trace[i]
    let result: number
    if (cached & bit) result = 1 + best(i + 1, cached, size)
    else if (size < capacity) result = best(i + 1, cached | bit, size + 1)
    else {
      result = bypass ? best(i + 1, cached, size) : -1
      for (let key = 0; key < 8; key++) {
        if (cached & (1 << key)) result = Math.max(result, best(i + 1, (cached & ~(1 << key)) | bit, size))
      }
    }
    memo.set(memoKey, result)
    return result
  }
  return capacity <= 0 ? 0 : best(0, 0, 0)
}

const opt = (trace: number[], capacity: number, bypass = false) => optHits(Int32Array.from(trace), Math.max(0, ...trace) + 1, capacity, { bypass })

/** A plain LRU, to check OPT is never below it. */
function lruHits(trace: number[], capacity: number): number {
  const order: number[] = []
  let hits = 0
  for (const key of trace) {
    const at = order.indexOf(key)
    if (at !== -1) {
      hits++
      order.splice(at, 1)
    } else if (order.length === capacity) order.shift()
    order.push(key)
  }
  return hits
}

const smallTraces = fc.record({
  trace: fc.array(fc.nat(7), { maxLength: 24 }),
  capacity: fc.integer({ min: 1, max: 5 }),
})

describe("Bélády's OPT", () => {
  it('next-use indices: the next request of the same key, or NEVER', () => {
    expect([...nextUses(Int32Array.from([0, 1, 0, 2, 1, 0]), 3)]).toEqual([2, 4, 5, NEVER, NEVER, NEVER])
  })

  it('matches an exhaustive search on small random traces, admitting every miss', () => {
    fc.assert(
      fc.property(smallTraces, ({ trace, capacity }) => {
        expect(opt(trace, capacity)).toBe(bruteForce(trace, capacity, false))
      }),
      { numRuns: 500 },
    )
  })

  it('matches an exhaustive search on small random traces, with bypass', () => {
    fc.assert(
      fc.property(smallTraces, ({ trace, capacity }) => {
        expect(opt(trace, capacity, true)).toBe(bruteForce(trace, capacity, true))
      }),
      { numRuns: 500 },
    )
  })

  it('is never below LRU, never above bypass, and never falls as the cache grows', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(30), { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (trace, capacity) => {
        const hits = opt(trace, capacity)
        expect(hits).toBeGreaterThanOrEqual(lruHits(trace, capacity))
        expect(hits).toBeLessThanOrEqual(opt(trace, capacity, true))
        expect(opt(trace, capacity + 1)).toBeGreaterThanOrEqual(hits)
      }),
    )
  })

  it('hand-checked: the textbook reference string with 3 frames has 9 faults (Silberschatz)', () => {
    const trace = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1]
    expect(opt(trace, 3)).toBe(trace.length - 9)
  })

  it('hand-checked: 1 2 3 4 1 2 5 1 2 3 4 5 has 7 faults with 3 frames, 6 with 4', () => {
    const trace = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
    expect(opt(trace, 3)).toBe(5)
    expect(opt(trace, 4)).toBe(6)
  })

  it('hand-checked: a loop of 4 keys in a cache of 3', () => {
    // Each miss in the full cache evicts the key whose next use is farthest:
    // 0m 1m 2m 3m(evict 2, next at 6) 0h 1h 2m(evict 1, next at 9) 3h 0h 1m(evict 0, never) 2h 3h → 6 hits.
    expect(opt([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], 3)).toBe(6)
  })

  it('hand-checked: admission matters only with bypass', () => {
    // Capacity 1, A B A: demand paging must load B and lose A; bypass keeps A.
    expect(opt([0, 1, 0], 1)).toBe(0)
    expect(opt([0, 1, 0], 1, true)).toBe(1)
  })

  it('hand-checked: a cache as large as the key set misses only first uses', () => {
    const trace = [3, 1, 4, 1, 5, 2, 6, 5, 3, 5]
    expect(opt(trace, 6)).toBe(trace.length - new Set(trace).size)
    expect(opt(trace, 0)).toBe(0)
  })
})
