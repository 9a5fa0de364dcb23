import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { testScheduler } from '../helpers/marbles.js'

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
        cold: { entries: 0, bytes: 0, diskBytes: 0, hits: 0 },
      },
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
})
