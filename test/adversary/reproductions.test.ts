// Minimal reproductions of stale reads, lost deletes and wrong counts found by
// the adversary's model runs. Each is in virtual time: the clock moves only by
// `advance`, and `settle` lets real disk I/O finish.
import { describe, expect, it } from 'vitest'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../src/index.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { VirtualClock } from '../helpers/virtual-time.js'
import { type Stamped, stamped, versionOf } from './helpers/stamped.js'

const tempDir = tempDirs('strata-adversary-repro-')

/** Real time for the disk: demotion batches, tombstones and their writes to land. */
const settle = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** hot of 2, no warm, tiny segments: a third key pushes the first to disk. */
const options = (dir: string, scheduler: VirtualClock): CacheOptions<Stamped> => ({
  hot: { maxEntries: 2, policy: 'lru' },
  cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20, fsync: 'never' },
  scheduler,
})

async function opened(dir: string, clock: VirtualClock): Promise<Cache<Stamped>> {
  const cache = createCache<Stamped>(options(dir, clock))
  await cache.ready
  return cache
}

const read = async (cache: Cache<Stamped>, key: string): Promise<number | undefined> => {
  const value = await cache.get(key)
  return value === undefined ? undefined : versionOf(key, value)
}

const deletes = (events: CacheEvent[], key: string): number => events.filter((e) => e.type === 'delete' && e.key === key).length

describe('the adversary: reproductions', () => {
  it('(a) a write with a TTL over a checkpointed value: once it expired, the old value is gone, after a restart too', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    let cache = await opened(dir, clock)
    await cache.set('k', stamped('k', 1))
    await cache.checkpoint()
    await cache.set('k', stamped('k', 2), { ttl: 100 })
    clock.advance(150)
    expect(await read(cache, 'k')).toBeUndefined()
    await cache.close()
    cache = await opened(dir, clock)
    expect(await read(cache, 'k'), 'v1 was overwritten by v2, which expired').toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    await cache.close()
  })

  it('(b1) a delete racing the demotion write of an older value: a second delete finds nothing, with no second delete event', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const cache = await opened(dir, clock)
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.set('k', stamped('k', 1))
    await cache.set('x', stamped('x', 1))
    await cache.set('y', stamped('y', 1)) // k leaves hot: staged for the disk
    clock.advance(10) // its batch leaves: the write of v1 is now in flight
    const overwritten = cache.set('k', stamped('k', 2))
    const deleted = cache.delete('k')
    await overwritten
    expect(await deleted).toBe(true)
    await settle()
    expect(await cache.delete('k')).toBe(false)
    expect(deletes(events, 'k')).toBe(1)
    expect(await read(cache, 'k')).toBeUndefined()
    await cache.close()
  })

  it('(b2) a delete racing the demotion write of an older value: after close and reopen the older value is not read', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    let cache = await opened(dir, clock)
    await cache.set('k', stamped('k', 1))
    await cache.set('x', stamped('x', 1))
    await cache.set('y', stamped('y', 1))
    clock.advance(10)
    const overwritten = cache.set('k', stamped('k', 2))
    const deleted = cache.delete('k')
    await overwritten
    expect(await deleted).toBe(true)
    await settle()
    expect(await read(cache, 'k')).toBeUndefined()
    await cache.close()
    cache = await opened(dir, clock)
    expect(await read(cache, 'k'), 'k was deleted after its v1 was written').toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    await cache.close()
  })

  it('(b3) a delete alone racing the demotion write of the same value: after close and reopen it stays deleted', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    let cache = await opened(dir, clock)
    await cache.set('k', stamped('k', 1))
    await cache.set('x', stamped('x', 1))
    await cache.set('y', stamped('y', 1))
    clock.advance(10)
    expect(await cache.delete('k')).toBe(true)
    await settle()
    expect(await read(cache, 'k')).toBeUndefined()
    await cache.close()
    cache = await opened(dir, clock)
    expect(await read(cache, 'k')).toBeUndefined()
    await cache.close()
  })

  describe('(c) deleteByTag of a newer in-memory value over an older, differently tagged disk copy', () => {
    const cases = {
      'disk copy from a checkpoint': async (dir: string, clock: VirtualClock) => {
        const cache = await opened(dir, clock)
        await cache.set('k', stamped('k', 1), { tags: ['old'] })
        await cache.checkpoint()
        return cache
      },
      'disk copy from before a restart': async (dir: string, clock: VirtualClock) => {
        const first = await opened(dir, clock)
        await first.set('k', stamped('k', 1), { tags: ['old'] })
        await first.close()
        return opened(dir, clock)
      },
      'disk copy from before a restart, newer value written while the store opens': async (dir: string, clock: VirtualClock) => {
        const first = await opened(dir, clock)
        await first.set('k', stamped('k', 1), { tags: ['old'] })
        await first.close()
        return createCache<Stamped>(options(dir, clock))
      },
    }
    for (const [name, setUp] of Object.entries(cases)) {
      it(`leaves the key absent, before and after a restart (${name})`, async () => {
        const dir = await tempDir()
        const clock = new VirtualClock()
        let cache = await setUp(dir, clock)
        await cache.set('k', stamped('k', 2), { tags: ['new'] })
        expect(await cache.deleteByTag('new')).toBe(1)
        expect(await read(cache, 'k')).toBeUndefined()
        expect(await cache.has('k')).toBe(false)
        expect(await cache.deleteByTag('old')).toBe(0)
        await settle()
        await cache.close()
        cache = await opened(dir, clock)
        expect(await read(cache, 'k')).toBeUndefined()
        expect(await cache.has('k')).toBe(false)
        expect(await cache.deleteByTag('old')).toBe(0)
        await cache.close()
      })
    }

    it('leaves the key absent when the newer value was pushed out of memory before the delete (demotion in flight)', async () => {
      const dir = await tempDir()
      const clock = new VirtualClock()
      let cache = await opened(dir, clock)
      await cache.set('k', stamped('k', 1), { tags: ['old'] })
      await cache.checkpoint()
      await cache.set('k', stamped('k', 2), { tags: ['new'] })
      await cache.set('x', stamped('x', 1))
      await cache.set('y', stamped('y', 1))
      clock.advance(10)
      expect(await cache.deleteByTag('new')).toBe(1)
      await settle()
      expect(await read(cache, 'k')).toBeUndefined()
      expect(await cache.deleteByTag('old')).toBe(0)
      await cache.close()
      cache = await opened(dir, clock)
      expect(await read(cache, 'k')).toBeUndefined()
      expect(await cache.deleteByTag('old')).toBe(0)
      expect(await cache.deleteByTag('new')).toBe(0)
      await cache.close()
    })
  })

  it('(d) after a reopen, has() is false for an entry whose TTL had passed', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    let cache = await opened(dir, clock)
    await cache.set('k', stamped('k', 1), { ttl: 100 })
    await cache.set('j', stamped('j', 1), { ttl: 100 })
    await cache.checkpoint()
    await cache.close()
    clock.advance(150)
    cache = await opened(dir, clock)
    expect(await cache.has('k')).toBe(false)
    expect(await read(cache, 'k')).toBeUndefined()
    expect(await cache.get('j')).toBeUndefined()
    expect(await cache.has('j')).toBe(false)
    await cache.close()
  })

  it('(d2) after a reopen, has() is false for an entry that expires while the cache runs', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    let cache = await opened(dir, clock)
    await cache.set('k', stamped('k', 1), { ttl: 100 })
    await cache.close()
    cache = await opened(dir, clock)
    expect(await cache.has('k')).toBe(true)
    clock.advance(150)
    expect(await cache.has('k')).toBe(false)
    expect(await read(cache, 'k')).toBeUndefined()
    await cache.close()
  })

  it('(e) deleteMany does not count a key whose newer value expired over an older disk copy', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const cache = await opened(dir, clock)
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.set('k', stamped('k', 1))
    await cache.set('j', stamped('j', 1))
    await cache.checkpoint()
    await cache.set('k', stamped('k', 2), { ttl: 100 })
    await cache.set('j', stamped('j', 2), { ttl: 100 })
    clock.advance(150)
    expect(await cache.deleteMany(['k'])).toBe(0)
    expect(await cache.delete('j')).toBe(false)
    expect(deletes(events, 'k') + deletes(events, 'j')).toBe(0)
    await cache.close()
  })

  it('(f) a newer value too large for warm goes down to the disk: v2 before and after a restart, never the older disk copy', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const small = (): CacheOptions<Stamped> => ({
      hot: { maxEntries: 2, policy: 'lru' },
      warm: { maxBytes: 64, policy: 'lru' },
      cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 },
      scheduler: clock,
    })
    let cache = createCache<Stamped>(small())
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.set('k', stamped('k', 1))
    await cache.checkpoint()
    await cache.set('k', stamped('k', 2, 40)) // too large for a warm tier of 64 bytes
    await cache.set('x', stamped('x', 1))
    await cache.set('y', stamped('y', 1)) // k leaves hot, for the disk
    clock.advance(10)
    expect(events.filter((e) => e.type === 'evict' && e.key === 'k')).toEqual([])
    expect(await read(cache, 'k')).toBe(2)
    await cache.close()
    cache = createCache<Stamped>(small())
    expect(await read(cache, 'k'), 'v2 replaced v1 on disk').toBe(2)
    await cache.close()
  })

  for (const storeOpen of [true, false]) {
    it(`(g) two deletes of a disk-held key issued together: one finds it, the other does not (${storeOpen ? 'store open' : 'store still opening'})`, async () => {
      const dir = await tempDir()
      const clock = new VirtualClock()
      let cache = await opened(dir, clock)
      await cache.set('k', stamped('k', 1))
      await cache.close() // k is on disk only
      cache = createCache<Stamped>(options(dir, clock))
      if (storeOpen) await cache.ready
      const events: CacheEvent[] = []
      cache.events$.subscribe((e) => events.push(e))
      const results = await Promise.all([cache.delete('k'), cache.delete('k')])
      expect(results).toEqual([true, false])
      expect(deletes(events, 'k')).toBe(1)
      expect(cache.stats().deletes).toBe(1)
      await cache.close()
    })
  }
})
