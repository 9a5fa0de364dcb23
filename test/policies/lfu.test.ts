import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LfuPolicy } from '../../src/policies/lfu.js'
import { NO_SLOT } from '../../src/policies/policy.js'
import { policyCommands, runAgainstModel } from './policy-model.js'

describe('LfuPolicy', () => {
  it('evicts the least frequently touched slot, the oldest among equals', () => {
    const lfu = new LfuPolicy(4)
    for (const slot of [0, 1, 2, 3]) lfu.insert(slot)
    lfu.touch(0)
    lfu.touch(0)
    lfu.touch(1)
    lfu.touch(3)
    expect([lfu.evict(), lfu.evict(), lfu.evict(), lfu.evict(), lfu.evict()]).toEqual([2, 1, 3, 0, NO_SLOT])
  })

  it('ages counts so that old popularity fades', () => {
    const lfu = new LfuPolicy(4, { agingPeriod: 8 })
    lfu.insert(0)
    for (let i = 0; i < 7; i++) lfu.touch(0) // seven touches: one short of the aging period
    expect(lfu.countOf(0)).toBe(8)
    lfu.insert(1)
    lfu.touch(1) // the 8th touch halves every count
    expect(lfu.countOf(0)).toBe(4)
    expect(lfu.countOf(1)).toBe(1)
    for (let i = 0; i < 8 * 3; i++) lfu.touch(1)
    // Three more halvings: slot 0 falls to 0 while slot 1 keeps being touched.
    expect(lfu.countOf(0)).toBe(0)
    expect(lfu.evict()).toBe(0)
  })

  it('saturates counts at 15', () => {
    const lfu = new LfuPolicy(2, { agingPeriod: 1_000_000 })
    lfu.insert(0)
    for (let i = 0; i < 100; i++) lfu.touch(0)
    expect(lfu.countOf(0)).toBe(15)
  })

  it('without aging, agrees with a count-then-recency model on any sequence', () => {
    fc.assert(
      fc.property(policyCommands(16), (commands) => {
        const counts = new Map<number, number>()
        runAgainstModel(
          new LfuPolicy(16, { agingPeriod: 1_000_000 }),
          commands,
          (recency) => {
            // Lowest count wins; among equals, the slot that reached that count first.
            const lowest = Math.min(...recency.map((slot) => counts.get(slot) as number))
            return recency.find((slot) => counts.get(slot) === lowest) as number
          },
          (slot) => counts.set(slot, Math.min(15, (counts.get(slot) as number) + 1)),
          (slot) => counts.set(slot, 1),
        )
      }),
    )
  })

  it('with aging, always evicts a slot of the lowest current count', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(7), { minLength: 1, maxLength: 300 }), (touches) => {
        const lfu = new LfuPolicy(8, { agingPeriod: 5 })
        for (let slot = 0; slot < 8; slot++) lfu.insert(slot)
        for (const slot of touches) lfu.touch(slot)
        const lowest = Math.min(...[...Array(8).keys()].map((slot) => lfu.countOf(slot)))
        expect(lfu.countOf(lfu.evict())).toBe(lowest)
      }),
    )
  })
})
