import { describe, expect, it } from 'vitest'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../src/index.js'
import { deferred } from '../helpers/deferred.js'
import { testScheduler } from '../helpers/marbles.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { VirtualClock } from '../helpers/virtual-time.js'

const tempDir = tempDirs('strata-cache-stats-')

const configurations: [string, () => Promise<CacheOptions<string>>][] = [
  ['hot only', async () => ({})],
  ['hot and warm', async () => ({ warm: { maxBytes: 1 << 20 } })],
  ['hot, warm and cold', async () => ({ warm: { maxBytes: 1 << 20 }, cold: { dir: await tempDir() } })],
]

/** Three concurrent calls of `read` for a key no tier holds, the source answering once: what they resolved to. */
async function threeCoalesced(read: (source: () => Promise<string>) => Promise<string | undefined>): Promise<(string | undefined)[]> {
  const gate = deferred<string>()
  const calls = [read(() => gate.promise), read(() => gate.promise), read(() => gate.promise)]
  gate.resolve('v')
  return Promise.all(calls)
}

describe('stats', () => {
  it('counts exactly', async () => {
    const cache = createCache<string>({ hot: { maxEntries: 2, policy: 'lru' }, warm: { maxBytes: 1 << 20 } })
    await cache.set('a', 'x')
    await cache.set('b', 'y')
    await cache.set('c', 'z') // a demoted
    await cache.get('a') // warm hit, promoted, b demoted
    await cache.get('a') // hot hit
    await cache.get('nope')
    await cache.delete('c')
    await cache.delete('nope')
    expect(cache.stats()).toEqual({
      hits: 2,
      misses: 1,
      hitRatio: 2 / 3,
      sets: 3,
      deletes: 1,
      evictions: 0,
      expirations: 0,
      promotions: 1,
      demotions: 2,
      loads: 0,
      prefetches: 0,
      prefetchHits: 0,
      prefetchAccuracy: 0,
      tiers: {
        hot: { entries: 1, bytes: 0, hits: 1 },
        warm: { entries: 1, bytes: expect.any(Number), hits: 1 },
        cold: { entries: 0, bytes: 0, diskBytes: 0, hits: 0, state: 'ok' },
        remote: { hits: 0, state: 'ok' },
      },
      dirty: 0,
      written: 0,
      coalesced: 0,
      writeRetries: 0,
      writeErrors: 0,
    })
    expect(cache.stats().tiers.warm.bytes).toBeGreaterThan(0)
    await cache.close()
  })

  it('has a hit ratio of 0 before the first read', () => {
    expect(createCache().stats().hitRatio).toBe(0)
  })

  it('samples stats$ on its interval, shared among subscribers, completing on close', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<number>({ scheduler, statsInterval: 3 })
      scheduler.schedule(() => void cache.set('a', 1), 1)
      scheduler.schedule(() => void cache.set('b', 2), 4)
      scheduler.schedule(() => void cache.close(), 8)
      const sets = (n: number) => expect.objectContaining({ sets: n })
      expectObservable(cache.stats$).toBe('---a--b-|', { a: sets(1), b: sets(2) })
      expectObservable(cache.stats$).toBe('---a--b-|', { a: sets(1), b: sets(2) })
    })
  })

  it('stops its timer when the last subscriber leaves', () => {
    const scheduler = testScheduler()
    scheduler.run(({ flush }) => {
      const cache = createCache({ scheduler, statsInterval: 5 })
      const subscription = cache.stats$.subscribe()
      expect(scheduler.actions.length).toBe(1)
      subscription.unsubscribe()
      flush()
      expect(scheduler.actions.length).toBe(0)
    })
  })

  it('reads the hot tier’s bytes as 0 unless hot.maxBytes is set: values are measured only for that bound', async () => {
    const unbounded = createCache<string>()
    const bounded = createCache<string>({ hot: { maxBytes: 1 << 20 } })
    for (const cache of [unbounded, bounded]) await cache.set('k', 'a value')
    expect(unbounded.stats().tiers.hot.bytes).toBe(0)
    expect(bounded.stats().tiers.hot.bytes).toBeGreaterThan(0)
    await Promise.all([unbounded.close(), bounded.close()])
  })
})

describe.each(configurations)('stats with %s: one miss per call that found no value, one load per source call', (_, options) => {
  let cache: Cache<string>
  const open = async (extra: Partial<CacheOptions<string>> = {}): Promise<Cache<string>> => {
    cache = createCache<string>({ ...(await options()), ...extra })
    await cache.ready
    return cache
  }

  it('get without a loader', async () => {
    await open()
    expect(await Promise.all([cache.get('k'), cache.get('k'), cache.get('k')])).toEqual([undefined, undefined, undefined])
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3, loads: 0, sets: 0 })
    await cache.close()
  })

  it('get with a loader, three calls coalesced onto one load', async () => {
    let source: () => Promise<string> = () => Promise.reject(new Error('unset'))
    await open({ loader: () => source() })
    expect(await threeCoalesced((next) => ((source = next), cache.get('k')))).toEqual(['v', 'v', 'v'])
    expect(await cache.get('k')).toBe('v')
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3, loads: 1, sets: 1 })
    await cache.close()
  })

  it('getOrSet, three calls coalesced onto one factory call', async () => {
    await open()
    expect(await threeCoalesced((factory) => cache.getOrSet('k', factory))).toEqual(['v', 'v', 'v'])
    expect(await cache.getOrSet('k', () => 'unused')).toBe('v')
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3, loads: 1, sets: 1 })
    await cache.close()
  })

  it('a source that finds nothing or fails still counts its load, and no set', async () => {
    await open({ loader: () => undefined })
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.getOrSet('b', () => undefined)).toBeUndefined()
    await expect(cache.getOrSet('c', () => Promise.reject(new Error('down')))).rejects.toMatchObject({ code: 'E_LOADER' })
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3, loads: 3, sets: 0 })
    await cache.close()
  })
})

describe('load events', () => {
  it('tells a getOrSet factory call as a load, with its duration on the scheduler’s clock', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => event.type === 'load' && events.push(event))
    const gate = deferred<string>()
    const pending = cache.getOrSet('k', () => gate.promise)
    clock.advance(7)
    gate.resolve('v')
    await pending
    expect(events).toEqual([{ type: 'load', key: 'k', ms: 7, at: 7 }])
    expect(cache.stats().loads).toBe(1)
    await cache.close()
  })
})
