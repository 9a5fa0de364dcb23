import { describe, expect, it } from 'vitest'
import { type Cache, type CacheEvent, createCache } from '../../src/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'
import { deferred } from '../helpers/deferred.js'

describe('loader (read-through)', () => {
  it('loads a key that every tier missed, caches it, and serves it from memory next', async () => {
    const calls: string[] = []
    const cache = createCache<string>({ loader: (key) => (calls.push(key), `loaded ${key}`) })
    expect(await cache.get('a')).toBe('loaded a')
    expect(await cache.get('a')).toBe('loaded a')
    expect(calls).toEqual(['a'])
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 1, hits: 1 })
    await cache.close()
  })

  it('treats undefined from the loader as a miss and caches nothing', async () => {
    let calls = 0
    const cache = createCache<string>({ loader: () => (calls++, undefined) })
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('a')).toBeUndefined()
    expect(calls).toBe(2)
    expect(await cache.has('a')).toBe(false)
    await cache.close()
  })

  it('calls the loader once for concurrent gets of one key', async () => {
    const gate = deferred<string>()
    let calls = 0
    const cache = createCache<string>({ loader: () => (calls++, gate.promise) })
    const gets = [cache.get('k'), cache.get('k'), cache.get('k')]
    gate.resolve('v')
    expect(await Promise.all(gets)).toEqual(['v', 'v', 'v'])
    expect(calls).toBe(1)
    await cache.close()
  })

  it('getMany loads only the keys every tier missed, once per key, in their places', async () => {
    const calls: string[] = []
    const cache = createCache<string>({ loader: (key) => (calls.push(key), key === 'none' ? undefined : `loaded ${key}`) })
    await cache.set('held', 'cached')
    expect(await cache.getMany(['a', 'held', 'none', 'a', 'b'])).toEqual(['loaded a', 'cached', undefined, 'loaded a', 'loaded b'])
    expect(calls).toEqual(['a', 'none', 'b'])
    expect(await cache.getMany(['a', 'b'])).toEqual(['loaded a', 'loaded b'])
    expect(calls).toHaveLength(3)
    await cache.close()
  })

  it('rejects with E_LOADER carrying the cause, reports an error event, and caches nothing', async () => {
    const cause = new Error('source down')
    let fail = true
    const cache = createCache<string>({ loader: () => (fail ? Promise.reject(cause) : 'recovered') })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    const error = await cache.get('k').catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'CacheError', code: 'E_LOADER', cause })
    expect(events).toContainEqual(expect.objectContaining({ type: 'error', key: 'k', error }))
    expect(await cache.has('k')).toBe(false)
    fail = false
    expect(await cache.get('k')).toBe('recovered')
    await cache.close()
  })

  it('tells each load with its duration on the scheduler’s clock', async () => {
    const clock = new VirtualClock()
    const gate = deferred<string>()
    const cache = createCache<string>({ scheduler: clock, loader: () => gate.promise })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => event.type === 'load' && events.push(event))
    const pending = cache.get('k')
    clock.advance(7)
    gate.resolve('v')
    await pending
    expect(events).toEqual([{ type: 'load', key: 'k', ms: 7, at: 7 }])
    await cache.close()
  })

  it('lets a write during the load win', async () => {
    const gate = deferred<string>()
    const cache = createCache<string>({ loader: () => gate.promise })
    const pending = cache.get('k')
    await cache.set('k', 'written')
    gate.resolve('loaded')
    expect(await pending).toBe('loaded')
    expect(await cache.get('k')).toBe('written')
    await cache.close()
  })

  it('rejects a loaded value the cache cannot hold with E_INVALID_VALUE', async () => {
    const cache = createCache<unknown>({ warm: { maxBytes: 1 << 20 }, loader: () => ({ fn: () => 1 }) })
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await cache.close()
  })

  it('aborts a running load on close', async () => {
    let signal: AbortSignal | undefined
    const cache = createCache<string>({ loader: (_, context) => ((signal = context.signal), new Promise<string>(() => {})) })
    const pending = cache.get('k')
    await cache.close()
    await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(signal?.aborted).toBe(true)
  })

  it('refuses a loader that is not a function', () => {
    expect(() => createCache({ loader: 'fetch' as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining("'loader'") }),
    )
  })

  it('rejects a get of the key being loaded from inside its own loader with E_REENTRANT, instead of waiting for itself', async () => {
    let inner: unknown
    const cache: Cache<string> = createCache<string>({
      loader: async (key) => {
        await Promise.resolve()
        inner = await cache.get(key).catch((e: unknown) => e)
        return 'loaded'
      },
    })
    expect(await cache.get('k')).toBe('loaded')
    expect(inner).toMatchObject({ code: 'E_REENTRANT' })
    await cache.close()
  })
})
