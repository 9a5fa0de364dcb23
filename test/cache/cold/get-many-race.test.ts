import { describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../../src/index.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-get-many-race-')

const KEYS = 300
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** A cache whose memory holds 10 entries, over a disk that holds `old:i` for every key (written, closed, reopened). */
async function onDisk(): Promise<Cache<string>> {
  const dir = await tempDir()
  const writer = createCache<string>({ hot: { maxEntries: 10 }, cold: { dir } })
  await writer.setMany(keys.map((key, i) => ({ key, value: `old:${i}` })))
  await writer.close()
  const cache = createCache<string>({ hot: { maxEntries: 10 }, cold: { dir } })
  await cache.ready
  return cache
}

describe('getMany of keys on disk, racing writes of the same keys', () => {
  it('issued after a set, delete or clear whose disk work is under way (staged, tombstone or clear in flight), it never returns the older value', async () => {
    for (const change of ['set', 'delete', 'clear'] as const) {
      for (let turns = 0; turns <= 4; turns++) {
        const cache = await onDisk()
        // A getMany under way from before, racing too.
        const before = cache.getMany(keys)
        const written: Promise<unknown>[] =
          change === 'clear' ? [cache.clear()] : keys.map((key, i) => (change === 'set' ? cache.set(key, `new:${i}`) : cache.delete(key)))
        for (let t = 0; t < turns; t++) await nextTurn()
        const current = keys.map((_, i) => (change === 'set' ? `new:${i}` : undefined))
        expect(await cache.getMany(keys), `${change}, ${turns} turns`).toEqual(current)
        await Promise.all(written)
        await before
        // Nothing a read under way found was moved up over the newer state.
        expect(await cache.getMany(keys), `${change}, ${turns} turns, after`).toEqual(current)
        await cache.close()
      }
    }
  }, 30_000)

  it('under way when a set or delete comes (0-6 turns in, the disk mid-answer): each key reads as a value it had, and no later read returns the older one', async () => {
    for (let turns = 0; turns <= 6; turns++) {
      const cache = await onDisk()
      const many = cache.getMany(keys)
      for (let t = 0; t < turns; t++) await nextTurn()
      // Even keys are written, odd ones deleted.
      const written = keys.map((key, i) => (i % 2 === 0 ? cache.set(key, `new:${i}`) : cache.delete(key)))
      const found = await many
      await Promise.all(written)
      // Concurrent with the write, a read may return the value before it, the one after it, or a miss (it was overtaken).
      found.forEach((value, i) => expect([`old:${i}`, i % 2 === 0 ? `new:${i}` : undefined, undefined]).toContain(value))
      const after = keys.map((_, i) => (i % 2 === 0 ? `new:${i}` : undefined))
      expect(await cache.getMany(keys), `${turns} turns`).toEqual(after)
      expect(await Promise.all(keys.map((key) => cache.get(key))), `${turns} turns`).toEqual(after)
      await cache.close()
    }
  }, 30_000)

  it('a key asked twice, and by a get under way, is read from disk once and counted per caller', async () => {
    const cache = await onDisk()
    const single = cache.get('key:5')
    const many = await cache.getMany(['key:5', 'key:6', 'key:5', 'absent', 'key:6'])
    expect(many).toEqual(['old:5', 'old:6', 'old:5', undefined, 'old:6'])
    expect(await single).toBe('old:5')
    const stats = cache.stats()
    expect({ hits: stats.hits, misses: stats.misses, diskHits: stats.tiers.cold.hits, promotions: stats.promotions }).toEqual({
      hits: 5,
      misses: 1,
      diskHits: 2,
      promotions: 2,
    })
    await cache.close()
  })

  it('a get of a key that a getMany is reading joins that read', async () => {
    const cache = await onDisk()
    const many = cache.getMany(['key:7', 'key:8'])
    const single = cache.get('key:8')
    expect(await many).toEqual(['old:7', 'old:8'])
    expect(await single).toBe('old:8')
    const stats = cache.stats()
    expect({ hits: stats.hits, diskHits: stats.tiers.cold.hits, promotions: stats.promotions }).toEqual({ hits: 3, diskHits: 2, promotions: 2 })
    await cache.close()
  })
})
