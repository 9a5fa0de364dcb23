import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LruPolicy } from '../../src/policies/lru.js'
import { NO_SLOT } from '../../src/policies/policy.js'
import { policyCommands, runAgainstModel } from './policy-model.js'

describe('LruPolicy', () => {
  it('evicts the least recently touched slot first', () => {
    const lru = new LruPolicy(4)
    for (const slot of [0, 1, 2, 3]) lru.insert(slot)
    lru.touch(0)
    lru.touch(2)
    expect([lru.evict(), lru.evict(), lru.evict(), lru.evict(), lru.evict()]).toEqual([1, 3, 0, 2, NO_SLOT])
  })

  it('forgets a removed slot', () => {
    const lru = new LruPolicy(3)
    for (const slot of [0, 1, 2]) lru.insert(slot)
    lru.remove(0)
    lru.remove(2)
    expect([lru.evict(), lru.evict()]).toEqual([1, NO_SLOT])
  })

  it('keeps its order across growth', () => {
    const lru = new LruPolicy(2)
    lru.insert(0)
    lru.insert(1)
    lru.grow(8)
    for (let slot = 2; slot < 8; slot++) lru.insert(slot)
    lru.touch(0)
    expect(lru.evict()).toBe(1)
  })

  it('agrees with a list model on any sequence of operations', () => {
    fc.assert(
      fc.property(policyCommands(16), (commands) => {
        runAgainstModel(new LruPolicy(16), commands, (order) => order[0])
      }),
    )
  })
})
