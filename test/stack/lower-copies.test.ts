import { describe, expect, it } from 'vitest'
import { LowerCopies } from '../../src/stack/lower-copies.js'
import type { LowerTier } from '../../src/tiers/lower-tier.js'

/** A lower tier that records the calls LowerCopies makes, holding `held` and answering a delete with `removed`. */
function fakeTier(calls: string[], name: string, held: boolean, removed: Promise<boolean> | undefined): LowerTier {
  const tier: Partial<LowerTier> = {
    holds: (key) => (calls.push(`${name}.holds(${key})`), held),
    invalidate: (key) => (calls.push(`${name}.invalidate(${key})`), removed),
    mask: (key) => void calls.push(`${name}.mask(${key})`),
    released: (key) => void calls.push(`${name}.released(${key})`),
    clear: () => (calls.push(`${name}.clear()`), Promise.resolve()),
  }
  return tier as LowerTier
}

function copies(tiers: (calls: string[]) => LowerTier[]): { copies: LowerCopies; calls: string[] } {
  const calls: string[] = []
  const reads = { supersede: (key: string) => void calls.push(`reads.supersede(${key})`), supersedeAll: () => void calls.push('reads.supersedeAll()') }
  return { copies: new LowerCopies(tiers(calls), reads), calls }
}

describe('LowerCopies', () => {
  it('masks every tier’s copy of a written key, after overtaking a read under way', () => {
    const { copies: below, calls } = copies((calls) => [fakeTier(calls, 'cold', false, undefined), fakeTier(calls, 'remote', false, undefined)])
    below.mask('k')
    expect(calls).toEqual(['reads.supersede(k)', 'cold.mask(k)', 'remote.mask(k)'])
  })

  it('invalidates a deleted key in every tier: held if any tier held it, one tombstone that resolves true if any removal did', async () => {
    const { copies: below, calls } = copies((calls) => [
      fakeTier(calls, 'cold', true, Promise.resolve(false)),
      fakeTier(calls, 'remote', false, Promise.resolve(true)),
    ])
    const invalidation = below.invalidate('k', 0)
    expect(calls).toEqual(['reads.supersede(k)', 'cold.holds(k)', 'cold.invalidate(k)', 'remote.holds(k)', 'remote.invalidate(k)'])
    expect(invalidation.held).toBe(true)
    expect(await invalidation.tombstone).toBe(true)
  })

  it('has no tombstone when no tier writes one', () => {
    const { copies: below } = copies((calls) => [fakeTier(calls, 'cold', false, undefined)])
    expect(below.invalidate('k', 0)).toEqual({ held: false, tombstone: undefined })
  })

  it('clears every tier after overtaking every read under way, and releases a key to every tier', async () => {
    const { copies: below, calls } = copies((calls) => [fakeTier(calls, 'cold', false, undefined), fakeTier(calls, 'remote', false, undefined)])
    await below.clear()
    below.released('k')
    expect(calls).toEqual(['reads.supersedeAll()', 'cold.clear()', 'remote.clear()', 'cold.released(k)', 'remote.released(k)'])
  })
})
