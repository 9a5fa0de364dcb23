import { describe, expect, it } from 'vitest'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../../src/index.js'
import { noise } from '../../helpers/noise.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-evict-')

const SEG = 4096
const MAX = 16 * 1024
/** About 430 bytes on disk each (incompressible): nine to a segment. */
const value = (i: number, v = 1): Uint8Array => noise(400, i * 7919 + v)

/** hot of 2 entries, warm of about 4 values: everything else is on a disk of four segments. */
const options = (dir: string): CacheOptions<Uint8Array> => ({
  hot: { maxEntries: 2 },
  warm: { maxBytes: 2000 },
  cold: { dir, segmentBytes: SEG, maxBytes: MAX },
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits (real time: the maintenance flow ticks every second) until the disk is back under its eviction mark. */
async function untilEvicted(cache: Cache<Uint8Array>): Promise<void> {
  const started = Date.now()
  while (cache.stats().tiers.cold.diskBytes > MAX - SEG) {
    expect(Date.now() - started).toBeLessThan(10_000)
    await sleep(50)
  }
  // The rewrite forgets the entries it let go right after deleting the file, a slice at a time.
  await sleep(100)
}

const coldEvictions = (events: CacheEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'evict' && e.tier === 'cold' && e.reason === 'capacity' ? [e.key] : []))

/** The keys no tier can answer for any more (`has` reads the disk's index only: nothing is promoted). */
async function goneKeys(cache: Cache<Uint8Array>, keys: string[]): Promise<string[]> {
  const gone: string[] = []
  for (const key of keys) if (!(await cache.has(key))) gone.push(key)
  await sleep(0) // the disk's losses are judged at the end of the run that noticed them
  return gone
}

describe('entries the disk evicts for room', () => {
  it("leave with one 'evict' event each (tier cold, reason capacity), counted in stats().evictions; entries read since written, rewritten or in memory do not", async () => {
    const cache = createCache<Uint8Array>(options(await tempDir()))
    await cache.ready
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    const keys: string[] = []
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        keys.push(`k${i}`)
        await cache.set(`k${i}`, value(i))
        if (i % 4 === 3) await sleep(15) // let the demotion flow write its batch
      }
      await sleep(30)
    }

    await write(0, 10) // k0 … k9: the oldest segment
    expect(await cache.get('k1')).toEqual(value(1)) // read from disk: copied forward when its segment is evicted
    // Rewritten before the disk can evict (maintenance may run at any point from here on, in real time):
    // its first disk copy is old, and goes with its segment; the key does not.
    await cache.set('k2', value(2, 2))
    await write(10, 36) // k1 leaves memory again; the disk goes over maxBytes minus one segment
    expect(cache.stats().tiers.cold.diskBytes).toBeLessThanOrEqual(MAX + SEG)
    await untilEvicted(cache)

    const gone = await goneKeys(cache, keys)
    expect(gone.length).toBeGreaterThan(3)
    expect(gone).not.toContain('k1')
    expect(gone).not.toContain('k2')
    // Exactly one event per key that left, none for any other key.
    expect(coldEvictions(events).sort()).toEqual([...gone].sort())
    expect(events.filter((e) => e.type === 'evict').length).toBe(gone.length)
    expect(cache.stats().evictions).toBe(gone.length)
    for (const key of gone) expect(await cache.get(key), key).toBeUndefined()
    expect(await cache.get('k1')).toEqual(value(1))
    expect(await cache.get('k2')).toEqual(value(2, 2))
    await cache.close()
  })

  it('count evictions whether anyone listens or not, and whichever path drops the segment', async () => {
    // Written faster than maintenance runs: the writer's hard bound drops whole segments too.
    const cache = createCache<Uint8Array>(options(await tempDir()))
    await cache.ready
    const keys: string[] = []
    for (let i = 0; i < 120; i++) {
      keys.push(`k${i}`)
      await cache.set(`k${i}`, value(i))
      if (i % 8 === 7) await sleep(12)
    }
    await sleep(30)
    expect(cache.stats().tiers.cold.diskBytes).toBeLessThanOrEqual(MAX + SEG)
    await untilEvicted(cache)
    await sleep(1100) // one more tick: entries of segments the hard bound dropped are forgotten in the next slice
    const gone = await goneKeys(cache, keys)
    expect(gone.length).toBeGreaterThan(60)
    expect(cache.stats().evictions).toBe(gone.length)
    await cache.close()
  })

  it('a key still in memory when its disk copy is evicted stays, with no event; keys only the disk held leave with one', async () => {
    const cache = createCache<Uint8Array>({ hot: { maxEntries: 10, policy: 'lru' }, cold: { dir: await tempDir(), segmentBytes: SEG, maxBytes: MAX } })
    await cache.ready
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, value(i))
    await cache.checkpoint() // k0 … k9 in hot and in the oldest segments
    for (let j = 0; j < 5; j++) expect(await cache.get(`k${j}`)).toEqual(value(j)) // hot hits, never read from disk
    for (let i = 10; i < 40; i++) {
      await cache.set(`k${i}`, value(i))
      for (let j = 0; j < 5; j++) expect(await cache.get(`k${j}`)).toEqual(value(j)) // k0 … k4 stay in hot
      if (i % 4 === 3) await sleep(15)
    }
    await sleep(30)
    await untilEvicted(cache)
    const gone = await goneKeys(cache, keys)
    expect(gone.length).toBeGreaterThan(3)
    for (let j = 0; j < 5; j++) expect(gone).not.toContain(`k${j}`)
    expect(coldEvictions(events).sort()).toEqual([...gone].sort())
    expect(cache.stats().evictions).toBe(gone.length)
    expect(events.filter((e) => e.type === 'hit' && e.tier === 'cold')).toEqual([]) // so none was copied forward for being read
    for (let j = 0; j < 5; j++) expect(await cache.get(`k${j}`)).toEqual(value(j))
    await cache.close()
  })
})
