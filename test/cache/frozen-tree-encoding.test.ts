import { describe, expect, it } from 'vitest'
import { type CacheOptions, createCache } from '../../src/index.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-tree-')

/**
 * Hot small enough that three more keys push the first three down, to a tier that holds them only as bytes
 * (warm is left out: it keeps the object it was given beside its bytes, and hands that back).
 */
const configurations: [string, () => Promise<CacheOptions<unknown>>][] = [
  ['hot and cold', async () => ({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir: await tempDir() } })],
]

describe('values set, frozen, then encoded as they leave hot', () => {
  for (const [name, options] of configurations) {
    it(`${name}: a tree comes back equal, a value holding an object twice comes back sharing it, a cycle as a cycle`, async () => {
      const cache = createCache<unknown>(await options())
      const tree = {
        id: 1,
        lines: [
          { sku: 'a', qty: 2 },
          { sku: 'b', qty: 3 },
        ],
        vendor: { city: 'Lyon' },
      }
      const line = { sku: 'a', qty: 2 }
      const shared = { first: line, again: line, list: [line] }
      const cycle: Record<string, unknown> = { name: 'loop' }
      cycle.self = cycle
      await cache.set('tree', tree)
      await cache.set('shared', shared)
      await cache.set('cycle', cycle)
      await cache.set('x', 1)
      await cache.set('y', 2)
      await cache.set('z', 3)

      const treeBack = (await cache.get('tree')) as typeof tree
      expect(treeBack).not.toBe(tree)
      expect(treeBack).toEqual({
        id: 1,
        lines: [
          { sku: 'a', qty: 2 },
          { sku: 'b', qty: 3 },
        ],
        vendor: { city: 'Lyon' },
      })
      const sharedBack = (await cache.get('shared')) as typeof shared
      expect(sharedBack.first).toEqual(line)
      expect(sharedBack.again).toBe(sharedBack.first)
      expect(sharedBack.list[0]).toBe(sharedBack.first)
      const cycleBack = (await cache.get('cycle')) as Record<string, unknown>
      expect(cycleBack.self).toBe(cycleBack)
      await cache.close()
    })
  }
})
