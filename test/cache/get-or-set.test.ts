import { describe, expect, expectTypeOf, it } from 'vitest'
import { type Cache, type CacheEvent, createCache, isCacheError } from '../../src/index.js'
import { deferred } from '../helpers/deferred.js'

describe('getOrSet', () => {
  it('returns the cached value without calling the factory', async () => {
    const cache = createCache<number>()
    await cache.set('k', 1)
    let calls = 0
    expect(await cache.getOrSet('k', () => ++calls)).toBe(1)
    expect(calls).toBe(0)
    await cache.close()
  })

  it('stores what the factory returns, with its options', async () => {
    const cache = createCache<number>()
    expect(await cache.getOrSet('k', async () => 7, { tags: ['t'] })).toBe(7)
    expect(await cache.get('k')).toBe(7)
    expect(await cache.deleteByTag('t')).toBe(1)
    await cache.close()
  })

  it('shares one factory call among concurrent callers', async () => {
    const cache = createCache<string>()
    const gate = deferred<string>()
    let calls = 0
    const factory = () => {
      calls++
      return gate.promise
    }
    const waiters = [cache.getOrSet('k', factory), cache.getOrSet('k', factory), cache.getOrSet('k', factory)]
    gate.resolve('v')
    expect(await Promise.all(waiters)).toEqual(['v', 'v', 'v'])
    expect(calls).toBe(1)
    await cache.close()
  })

  it('rejects every waiter on a factory rejection, caches nothing, and runs the factory again next time', async () => {
    const cache = createCache<string>()
    const gate = deferred<string>()
    let calls = 0
    const failing = () => {
      calls++
      return gate.promise
    }
    const waiters = [cache.getOrSet('k', failing), cache.getOrSet('k', failing)]
    const cause = new Error('source down')
    gate.reject(cause)
    for (const waiter of waiters) await expect(waiter).rejects.toMatchObject({ code: 'E_LOADER', cause })
    expect(await cache.has('k')).toBe(false)
    expect(await cache.getOrSet('k', () => (calls++, 'ok'))).toBe('ok')
    expect(calls).toBe(2)
    await cache.close()
  })

  it('turns a factory that throws synchronously into a rejection', async () => {
    const cache = createCache<string>()
    const cause = new Error('sync')
    await expect(
      cache.getOrSet('k', () => {
        throw cause
      }),
    ).rejects.toMatchObject({ code: 'E_LOADER', cause })
    await cache.close()
  })

  it('rejects a factory failure as the loader’s are: E_LOADER naming the key, the cause kept, an error event', async () => {
    const cache = createCache<string>()
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    const cause = new Error('source down')
    const error = await cache.getOrSet('user:1', () => Promise.reject(cause)).catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'CacheError', code: 'E_LOADER', cause, message: expect.stringContaining("factory failed for 'user:1'") })
    expect(events).toContainEqual(expect.objectContaining({ type: 'error', key: 'user:1', error }))
    await cache.close()
  })

  it('rejects a factory result the cache cannot hold, and stores nothing', async () => {
    const cache = createCache<unknown>()
    await expect(cache.getOrSet('k', () => () => 1)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.has('k')).toBe(false)
    await cache.close()
  })

  it('lets a write that comes while the factory runs win', async () => {
    const cache = createCache<string>()
    const gate = deferred<string>()
    const waiter = cache.getOrSet('k', () => gate.promise)
    await cache.set('k', 'written')
    gate.resolve('from factory')
    expect(await waiter).toBe('from factory')
    expect(await cache.get('k')).toBe('written')
    await cache.close()
  })

  it('does not resurrect a key deleted while the factory runs', async () => {
    const cache = createCache<string>()
    const gate = deferred<string>()
    const waiter = cache.getOrSet('k', () => gate.promise)
    await cache.delete('k')
    gate.resolve('stale')
    await waiter
    expect(await cache.has('k')).toBe(false)
    await cache.close()
  })

  it('does not store a result that a clear overtook', async () => {
    const cache = createCache<string>()
    const gate = deferred<string>()
    const waiter = cache.getOrSet('k', () => gate.promise)
    await cache.clear()
    gate.resolve('stale')
    await waiter
    expect(await cache.has('k')).toBe(false)
    await cache.close()
  })

  it('aborts the factory and rejects its waiters with E_CLOSED on close', async () => {
    const cache = createCache<string>()
    let signal: AbortSignal | undefined
    const waiter = cache.getOrSet('k', (context) => {
      signal = context.signal
      return new Promise<string>(() => {}) // a factory that never settles
    })
    await cache.close()
    await expect(waiter).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(signal?.aborted).toBe(true)
  })
})

describe('getOrSet after a write overtook its flight', () => {
  it('starts a new flight for callers that come after a delete, instead of waiting for the stale one', async () => {
    const cache = createCache<string>()
    const first = deferred<string>()
    const calls: string[] = []
    const a = cache.getOrSet('k', () => (calls.push('first'), first.promise))
    await cache.delete('k')
    const b = cache.getOrSet('k', () => (calls.push('second'), 'fresh'))
    expect(await b).toBe('fresh')
    first.resolve('stale')
    expect(await a).toBe('stale')
    expect(calls).toEqual(['first', 'second'])
    expect(await cache.get('k')).toBe('fresh')
    await cache.close()
  })

  it('still aborts an overtaken flight on close', async () => {
    const cache = createCache<string>()
    let signal: AbortSignal | undefined
    const waiter = cache.getOrSet('k', (context) => ((signal = context.signal), new Promise<string>(() => {})))
    await cache.set('k', 'written')
    await cache.close()
    await expect(waiter).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(signal?.aborted).toBe(true)
  })
})

describe('getOrSet with a factory that finds nothing', () => {
  it('resolves undefined when the factory returns undefined, and caches and counts no set', async () => {
    const cache = createCache<string>()
    expect(await cache.getOrSet('k', () => undefined)).toBeUndefined()
    expect(await cache.getOrSet('k', async () => undefined)).toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    expect(cache.stats().sets).toBe(0)
    await cache.close()
  })

  it('gives undefined to every coalesced caller, and runs the factory again next time', async () => {
    const cache = createCache<string>()
    const gate = deferred<string | undefined>()
    let calls = 0
    const factory = () => (calls++, gate.promise)
    const waiters = [cache.getOrSet('k', factory), cache.getOrSet('k', factory)]
    gate.resolve(undefined)
    expect(await Promise.all(waiters)).toEqual([undefined, undefined])
    expect(await cache.getOrSet('k', () => (calls++, 'found'))).toBe('found')
    expect(calls).toBe(2)
    await cache.close()
  })

  it('types the result by what the factory may return', () => {
    const cache = createCache<number>()
    expectTypeOf(cache.getOrSet('k', () => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSet('k', async () => 1)).toEqualTypeOf<Promise<number>>()
    expectTypeOf(cache.getOrSet('k', () => undefined)).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(cache.getOrSet('k', async (): Promise<number | undefined> => undefined)).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf(cache.getOrSet('k', (): number | undefined => 1)).toEqualTypeOf<Promise<number | undefined>>()
    expectTypeOf<Cache<string>['getOrSet']>().toBeCallableWith('k', () => 'v')
    // @ts-expect-error a factory must return the cache's value type
    void cache.getOrSet('k', () => 'not a number').catch(() => undefined)
    void cache.close()
  })
})

describe('getOrSet called from its own factory', () => {
  it('rejects the inner call with E_REENTRANT instead of waiting for itself; the factory decides what the outer call gets', async () => {
    const cache = createCache<string>()
    let inner: unknown
    const outer = cache.getOrSet('k', async () => {
      await Promise.resolve()
      inner = await cache.getOrSet('k', () => 'never used').catch((e: unknown) => e)
      return 'fallback'
    })
    expect(await outer).toBe('fallback')
    expect(inner).toMatchObject({ name: 'CacheError', code: 'E_REENTRANT', message: expect.stringContaining("'k'") })
    await cache.close()
  })

  it('detects a call made synchronously, before the factory’s first await', async () => {
    const cache = createCache<string>()
    let inner: Promise<string> | undefined
    const outer = cache.getOrSet('k', () => {
      inner = cache.getOrSet('k', () => 'never used')
      return inner
    })
    await expect(inner).rejects.toMatchObject({ code: 'E_REENTRANT' })
    await expect(outer).rejects.toMatchObject({ code: 'E_LOADER', cause: expect.objectContaining({ code: 'E_REENTRANT' }) })
    await cache.close()
  })

  it('detects a cycle through other keys', async () => {
    const cache = createCache<string>()
    const a = cache.getOrSet('a', async () => {
      await Promise.resolve()
      return cache.getOrSet('b', async () => {
        await Promise.resolve()
        return cache.getOrSet('a', () => 'never used').catch((e: unknown) => (isCacheError(e, 'E_REENTRANT') ? 'cut' : 'other'))
      })
    })
    expect(await a).toBe('cut')
    expect(await cache.get('b')).toBe('cut')
    await cache.close()
  })

  it('lets a factory read other keys, and callers from outside join the running flight', async () => {
    const cache = createCache<string>()
    await cache.set('other', 'o')
    const gate = deferred<string>()
    let calls = 0
    const factory = async () => {
      calls++
      const other = await cache.getOrSet('other', () => 'never used')
      return other + (await gate.promise)
    }
    const first = cache.getOrSet('k', factory)
    await Promise.resolve()
    const second = cache.getOrSet('k', factory)
    gate.resolve('k')
    expect(await Promise.all([first, second])).toEqual(['ok', 'ok'])
    expect(calls).toBe(1)
    await cache.close()
  })

  it('lets work that an earlier, finished factory started join a flight it is not part of', async () => {
    const cache = createCache<string>()
    const later = deferred<void>()
    const gate = deferred<string>()
    let calls = 0
    let joined: Promise<string> | undefined
    const started = deferred<void>()
    await cache.getOrSet('seed', () => {
      // Outlives this factory: its context still descends from the 'seed' flight.
      void (async () => {
        await later.promise
        joined = cache.getOrSet('k', () => (calls++, 'second flight'))
        started.resolve()
      })()
      return 'seeded'
    })
    const first = cache.getOrSet('k', () => (calls++, gate.promise))
    later.resolve()
    await started.promise
    gate.resolve('v')
    expect(await Promise.all([first, joined])).toEqual(['v', 'v'])
    expect(calls).toBe(1)
    await cache.close()
  })
})
