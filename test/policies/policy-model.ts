import fc from 'fast-check'
import { expect } from 'vitest'
import type { EvictionPolicy } from '../../src/policies/policy.js'
import { NO_SLOT } from '../../src/policies/policy.js'

export type PolicyCommand = { op: 'insert' | 'touch' | 'remove'; pick: number } | { op: 'evict' }

export const policyCommands = (capacity: number): fc.Arbitrary<PolicyCommand[]> =>
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constantFrom('insert' as const, 'touch' as const, 'remove' as const), pick: fc.nat(capacity * 4) }),
      fc.constant({ op: 'evict' as const }),
    ),
    { maxLength: 200, size: 'max' },
  )

/**
 * Replays commands on a policy and on a recency list of the live slots;
 * `expectedVictim` names the slot the policy must give up, from that list.
 * Inserts take a free slot, touches and removes pick a live one.
 */
export function runAgainstModel(
  policy: EvictionPolicy,
  commands: PolicyCommand[],
  expectedVictim: (recency: number[]) => number,
  onTouch: (slot: number) => void = () => {},
  onInsert: (slot: number) => void = () => {},
): void {
  const capacity = 16
  let recency: number[] = []
  for (const command of commands) {
    if (command.op === 'evict') {
      const expected = recency.length === 0 ? NO_SLOT : expectedVictim(recency)
      expect(policy.evict(0)).toBe(expected)
      recency = recency.filter((slot) => slot !== expected)
      continue
    }
    if (command.op === 'insert') {
      const free = [...Array(capacity).keys()].filter((slot) => !recency.includes(slot))
      if (free.length === 0) continue
      const slot = free[command.pick % free.length]
      policy.insert(slot, 0)
      onInsert(slot)
      recency.push(slot)
      continue
    }
    if (recency.length === 0) continue
    const slot = recency[command.pick % recency.length]
    recency = recency.filter((s) => s !== slot)
    if (command.op === 'touch') {
      policy.touch(slot)
      onTouch(slot)
      recency.push(slot)
    } else policy.remove(slot)
  }
}
