import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { testScheduler } from '../helpers/marbles.js'

describe('watch', () => {
  it('emits the current value, then each new one, then undefined on delete', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<string>({ scheduler })
      void cache.set('k', 'a')
      scheduler.schedule(() => void cache.set('k', 'b'), 2)
      scheduler.schedule(() => void cache.set('k', 'b'), 3) // equal: not repeated
      scheduler.schedule(() => void cache.delete('k'), 5)
      scheduler.schedule(() => void cache.set('k', 'c'), 7)
      expectObservable(cache.watch('k'), '^--------!').toBe('a-b--u-c-', { a: 'a', b: 'b', c: 'c', u: undefined })
    })
  })

  it('emits undefined on subscribe for an absent key', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<string>({ scheduler })
      expectObservable(cache.watch('nothing'), '^-!').toBe('u-', { u: undefined })
    })
  })

  it('emits undefined at the frame a TTL of 5 frames runs out, and get agrees', () => {
    const scheduler = testScheduler()
    const reads: [number, string | undefined][] = []
    scheduler.run(({ expectObservable, flush }) => {
      const cache = createCache<string>({ scheduler })
      void cache.set('k', 'v', { ttl: 5 })
      for (const frame of [4, 5]) scheduler.schedule(() => reads.push([frame, cache.peek('k')]), frame)
      expectObservable(cache.watch('k'), '^-------!').toBe('v----u--', { v: 'v', u: undefined })
      flush()
      expect(cache.stats().expirations).toBe(1)
      void cache.close()
    })
    expect(reads).toEqual([
      [4, 'v'],
      [5, undefined],
    ])
  })

  it('follows a TTL renewed by a later write', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<string>({ scheduler })
      void cache.set('k', 'v', { ttl: 5 })
      scheduler.schedule(() => void cache.set('k', 'w', { ttl: 5 }), 3)
      expectObservable(cache.watch('k'), '^---------!').toBe('v--w----u-', { v: 'v', w: 'w', u: undefined })
    })
  })

  it('emits nothing when the entry only moves between tiers', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<object>({ scheduler, hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
      const value = { n: 1 }
      void cache.set('k', value)
      scheduler.schedule(() => void cache.set('other', { n: 2 }), 2) // demotes k
      scheduler.schedule(() => void cache.get('k'), 4) // promotes k
      expectObservable(cache.watch('k'), '^-----!').toBe('v-----', { v: value })
    })
  })

  it('emits undefined on clear and on eviction from the last tier', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<number>({ scheduler, hot: { maxEntries: 1 } })
      void cache.set('a', 1)
      void cache.set('b', 2)
      scheduler.schedule(() => void cache.set('a', 3), 2) // evicts b
      scheduler.schedule(() => void cache.clear(), 4)
      expectObservable(cache.watch('a'), '^-----!').toBe('u-x-u-', { u: undefined, x: 3 })
      expectObservable(cache.watch('b'), '^-----!').toBe('y-u---', { u: undefined, y: 2 })
    })
  })

  it('shares one watch among subscribers and completes them all on close', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const cache = createCache<number>({ scheduler })
      void cache.set('k', 1)
      scheduler.schedule(() => void cache.set('k', 2), 1)
      scheduler.schedule(() => void cache.close(), 3)
      expectObservable(cache.watch('k')).toBe('ab-|', { a: 1, b: 2 })
      expectObservable(cache.watch('k')).toBe('ab-|', { a: 1, b: 2 })
    })
  })

  it('leaves no timer behind when the last subscriber of a key with a TTL leaves', () => {
    const scheduler = testScheduler()
    scheduler.run(({ flush }) => {
      const cache = createCache<number>({ scheduler })
      void cache.set('k', 1, { ttl: 100 })
      const subscription = cache.watch('k').subscribe()
      subscription.unsubscribe()
      void cache.close()
      flush()
      expect(scheduler.actions.length).toBe(0)
    })
  })

  it('arms no timer longer than Node can hold for an entry that lives 30 days (no TimeoutOverflowWarning)', async () => {
    const warnings: string[] = []
    const listen = (warning: Error): void => void warnings.push(warning.name)
    process.on('warning', listen)
    const cache = createCache<number>()
    try {
      await cache.set('k', 1, { ttl: 30 * 24 * 60 * 60 * 1000 })
      const seen: (number | undefined)[] = []
      const subscription = cache.watch('k').subscribe((value) => seen.push(value))
      await sleep(30)
      subscription.unsubscribe()
      expect(seen).toEqual([1])
    } finally {
      await cache.close()
      await sleep(1) // warnings are emitted on the next tick
      process.off('warning', listen)
    }
    expect(warnings).toEqual([])
  })
})
