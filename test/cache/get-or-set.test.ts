import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
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
    gate.reject(new Error('source down'))
    for (const waiter of waiters) await expect(waiter).rejects.toThrow('source down')
    expect(await cache.has('k')).toBe(false)
    expect(await cache.getOrSet('k', () => (calls++, 'ok'))).toBe('ok')
    expect(calls).toBe(2)
    await cache.close()
  })

  it('turns a factory that throws synchronously into a rejection', async () => {
    const cache = createCache<string>()
    await expect(
      cache.getOrSet('k', () => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    await cache.close()
  })

  it('rejects a factory result the cache cannot hold, and stores nothing', async () => {
    const cache = createCache<unknown>()
    await expect(cache.getOrSet('k', () => undefined)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
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
