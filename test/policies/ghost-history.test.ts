import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GhostHistory } from '../../src/policies/ghost-history.js'

describe('GhostHistory', () => {
  it('drops the oldest ghost when it reaches its limit', () => {
    const ghosts = new GhostHistory(2)
    ghosts.add(10, 1, 3, 3)
    ghosts.add(11, 2, 4, 3)
    ghosts.add(12, 3, 5, 3)
    ghosts.add(13, 4, 6, 3)
    expect([...ghosts.hashes()]).toEqual([11, 12, 13])
    const at = ghosts.indexOf(12)
    expect([ghosts.evictedAt(at), ghosts.countAt(at)]).toEqual([3, 5])
    expect(ghosts.indexOf(10)).toBe(-1)
  })

  it('reuses a forgotten ghost and drops several when the limit shrinks', () => {
    const ghosts = new GhostHistory(4)
    for (const hash of [1, 2, 3, 4]) ghosts.add(hash, hash, 1, 4)
    ghosts.forget(ghosts.indexOf(2))
    ghosts.add(5, 5, 1, 4) // room left by 2: nothing dropped
    expect([...ghosts.hashes()]).toEqual([1, 3, 4, 5])
    ghosts.add(6, 6, 1, 2)
    expect([...ghosts.hashes()]).toEqual([5, 6])
    expect(ghosts.size).toBe(2)
  })

  it('replaces a hash already present and keeps full 32-bit hashes', () => {
    const ghosts = new GhostHistory(1)
    ghosts.add(0xffffffff, 1, 1, 8)
    ghosts.add(7, 2, 1, 8)
    ghosts.add(0xffffffff, 3, 2, 8)
    expect([...ghosts.hashes()]).toEqual([7, 0xffffffff])
    expect(ghosts.evictedAt(ghosts.indexOf(0xffffffff))).toBe(3)
  })

  it('agrees with an array model on any sequence', () => {
    type Step = { op: 'add'; hash: number; limit: number } | { op: 'forget'; hash: number } | { op: 'clear' }
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), hash: fc.nat(40), limit: fc.integer({ min: 1, max: 24 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('forget' as const), hash: fc.nat(40) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300, size: 'max' }), (steps) => {
        const ghosts = new GhostHistory(2)
        let model: { hash: number; time: number; count: number; chance: number }[] = []
        steps.forEach((s, time) => {
          if (s.op === 'clear') {
            ghosts.clear()
            model = []
          } else if (s.op === 'forget') {
            const at = ghosts.indexOf(s.hash)
            expect(at === -1).toBe(!model.some((g) => g.hash === s.hash))
            if (at !== -1) ghosts.forget(at)
            model = model.filter((g) => g.hash !== s.hash)
          } else {
            ghosts.add(s.hash, time, time % 16, s.limit, 1 / (time + 1))
            model = model.filter((g) => g.hash !== s.hash)
            while (model.length >= s.limit) model.shift()
            model.push({ hash: s.hash, time, count: time % 16, chance: 1 / (time + 1) })
          }
          expect([...ghosts.hashes()]).toEqual(model.map((g) => g.hash))
          expect(ghosts.size).toBe(model.length)
          for (const g of model) {
            const at = ghosts.indexOf(g.hash)
            expect([ghosts.evictedAt(at), ghosts.countAt(at), ghosts.chanceAt(at)]).toEqual([g.time, g.count, g.chance])
          }
        })
      }),
    )
  })
})
