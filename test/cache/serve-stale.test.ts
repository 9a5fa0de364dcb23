import { describe, expect, it } from 'vitest'
import { BreakerOpenError, type CacheError, type CacheEvent, createCache, isCacheError } from '../../src/index.js'
import { deferred } from '../helpers/deferred.js'
import { VirtualClock } from '../helpers/virtual-time.js'

/** Lets every promise chain that can move on do so (virtual time does not move). */
const settle = () => new Promise((resolve) => setImmediate(resolve))

/** A loader whose calls are counted and answered by the test, one deferred per call. */
function scriptedLoader() {
  const calls: { key: string; signal: AbortSignal; answer: ReturnType<typeof deferred<string>> }[] = []
  const loader = (key: string, { signal }: { signal: AbortSignal }) => {
    const answer = deferred<string>()
    calls.push({ key, signal, answer })
    return answer.promise
  }
  return { calls, loader, last: () => calls[calls.length - 1] }
}

/** The state of a promise now: its value, its error, or 'pending'. */
async function peekPromise<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let state: { value: T } | { error: unknown } | 'pending' = 'pending'
  promise.then(
    (value) => (state = { value }),
    (error: unknown) => (state = { error }),
  )
  await settle()
  return state
}

/** A cache whose 'k' holds 'v1', loaded at time 0 with a ttl of 100. */
async function loadedCache(options: Parameters<typeof createCache<string>>[0]) {
  const clock = new VirtualClock()
  const source = scriptedLoader()
  const cache = createCache<string>({ scheduler: clock, loader: source.loader, ttl: 100, ...options })
  const first = cache.get('k')
  source.last().answer.resolve('v1')
  expect(await first).toBe('v1')
  return { clock, source, cache }
}

describe('stale-while-revalidate', () => {
  it('returns the stale value at once and refreshes it in the background, one refresh per key', async () => {
    const { clock, source, cache } = await loadedCache({ staleWhileRevalidate: 50 })
    clock.advance(100)
    expect(await peekPromise(cache.get('k'))).toEqual({ value: 'v1' })
    expect(await peekPromise(cache.get('k'))).toEqual({ value: 'v1' })
    expect(source.calls).toHaveLength(2) // the first load and one refresh
    source.last().answer.resolve('v2')
    await settle()
    expect(await cache.get('k')).toBe('v2')
    expect(source.calls).toHaveLength(2)
    await cache.close()
  })

  it('stops at the end of its window: then a read waits for the load', async () => {
    const { clock, source, cache } = await loadedCache({ staleWhileRevalidate: 50 })
    clock.advance(149)
    expect(await peekPromise(cache.get('k'))).toEqual({ value: 'v1' })
    source.last().answer.reject(new Error('down')) // the refresh fails: v1 stays stale
    await settle()
    clock.advance(1)
    const read = cache.get('k')
    expect(await peekPromise(read)).toBe('pending')
    source.last().answer.resolve('v3')
    expect(await read).toBe('v3')
    await cache.close()
  })

  it('leaves has, peek, watch and a get without a loader as they were: an expired entry is absent to them', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, ttl: 100, staleWhileRevalidate: 1000, grace: 1000 })
    await cache.set('k', 'v')
    const seen: (string | undefined)[] = []
    const watching = cache.watch('k').subscribe((value) => seen.push(value))
    const events: CacheEvent[] = []
    const listening = cache.events$.subscribe((event) => events.push(event))
    clock.advance(100)
    expect(seen).toEqual(['v', undefined])
    expect(await cache.has('k')).toBe(false)
    expect(cache.peek('k')).toBeUndefined()
    expect(await cache.get('k')).toBeUndefined()
    // `expire` is told when the kept entry is dropped: at the first sweep after its window.
    expect(events.filter((event) => event.type === 'expire')).toEqual([])
    clock.advance(2000)
    expect(events.filter((event) => event.type === 'expire').map((event) => event.key)).toEqual(['k'])
    watching.unsubscribe()
    listening.unsubscribe()
    await cache.close()
  })
})

describe('grace', () => {
  it('serves the stale value when the loader fails, and stops after the window', async () => {
    const { clock, source, cache } = await loadedCache({ grace: 1000 })
    const errors: CacheEvent[] = []
    cache.events$.subscribe((event) => event.type === 'error' && errors.push(event))
    clock.advance(500)
    const read = cache.get('k')
    expect(await peekPromise(read)).toBe('pending') // no stale-while-revalidate: the load is waited for
    source.last().answer.reject(new Error('down'))
    expect(await read).toBe('v1')
    expect(errors).toHaveLength(1)
    clock.advance(600) // 1100 after expiry... past 100 + 1000
    const late = cache.get('k')
    source.last().answer.reject(new Error('down'))
    await expect(late).rejects.toMatchObject({ code: 'E_LOADER' })
    await cache.close()
  })

  it('is not served once the key is deleted', async () => {
    const { clock, source, cache } = await loadedCache({ grace: 1000 })
    clock.advance(200)
    expect(await cache.delete('k')).toBe(false) // expired: not live
    const read = cache.get('k')
    source.last().answer.reject(new Error('down'))
    await expect(read).rejects.toMatchObject({ code: 'E_LOADER' })
    await cache.close()
  })

  it('is not served once the tag is deleted, nor after clear', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, grace: 1000 })
    await cache.set('tagged', 'v', { ttl: 100, tags: ['t'] })
    await cache.set('other', 'v', { ttl: 100 })
    clock.advance(200)
    expect(await cache.deleteByTag('t')).toBe(0) // expired: not live, but no longer kept either
    await cache.clear()
    const failing = () => Promise.reject(new Error('down'))
    await expect(cache.getOrSet('tagged', failing)).rejects.toMatchObject({ code: 'E_LOADER' })
    await expect(cache.getOrSet('other', failing)).rejects.toMatchObject({ code: 'E_LOADER' })
    await cache.close()
  })

  it('a kept entry deleted by its tag is gone before any clear', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, grace: 1000 })
    await cache.set('tagged', 'v', { ttl: 100, tags: ['t'] })
    clock.advance(200)
    await cache.deleteByTag('t')
    await expect(cache.getOrSet('tagged', () => Promise.reject(new Error('down')))).rejects.toMatchObject({ code: 'E_LOADER' })
    await cache.close()
  })

  it('is served from warm when the stale entry went down there', async () => {
    const { clock, source, cache } = await loadedCache({ grace: 1000, hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('other', 'x', { ttl: Infinity }) // k down to warm, with its keeping
    clock.advance(300)
    const read = cache.get('k')
    source.last().answer.reject(new Error('down'))
    expect(await read).toBe('v1')
    await cache.close()
  })
})

describe('keeping across moves between hot and warm', () => {
  it('an entry keeps its keeping down to warm and back up to hot', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, grace: 1000, hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('a', 'v', { ttl: 100 })
    await cache.set('b', 'w', { ttl: Infinity }) // a down to warm
    expect(await cache.get('a')).toBe('v') // a back up to hot, b down
    await cache.set('c', 'x', { ttl: Infinity }) // a down again
    expect(await cache.get('a')).toBe('v') // and up again
    clock.advance(500)
    expect(await cache.getOrSet('a', () => Promise.reject(new Error('down')))).toBe('v')
    await cache.close()
  })
})

describe('timeouts', () => {
  it('hard: aborts the load’s signal and rejects E_TIMEOUT; no timer is left', async () => {
    const clock = new VirtualClock()
    const source = scriptedLoader()
    const cache = createCache<string>({ scheduler: clock, loader: source.loader, timeout: { hard: 50 } })
    const read = cache.get('k')
    await settle()
    clock.advance(49)
    expect(await peekPromise(read)).toBe('pending')
    expect(source.last().signal.aborted).toBe(false)
    clock.advance(1)
    const error = (await read.catch((e: unknown) => e)) as CacheError
    expect(isCacheError(error, 'E_TIMEOUT')).toBe(true)
    expect(source.last().signal.aborted).toBe(true)
    expect(source.last().signal.reason).toBe(error)
    source.last().answer.resolve('late') // too late: not stored
    await settle()
    expect(cache.peek('k')).toBeUndefined()
    expect(clock.pending).toBe(0)
    await cache.close()
  })

  it('hard: a load that ends in time clears its timer', async () => {
    const clock = new VirtualClock()
    const source = scriptedLoader()
    const cache = createCache<string>({ scheduler: clock, loader: source.loader, timeout: { hard: 50 } })
    const read = cache.get('k')
    await settle()
    expect(clock.pending).toBe(1)
    source.last().answer.resolve('v')
    expect(await read).toBe('v')
    expect(clock.pending).toBe(0)
    await cache.close()
  })

  it('hard: a stale value within grace stands in for the timed-out load', async () => {
    const { clock, source, cache } = await loadedCache({ grace: 1000, timeout: { hard: 50 } })
    clock.advance(200)
    const read = cache.get('k')
    await settle()
    clock.advance(50)
    expect(await read).toBe('v1')
    expect(source.last().signal.aborted).toBe(true)
    await cache.close()
  })

  it('soft: returns the stale value past soft ms, and the load goes on and fills the cache', async () => {
    const { clock, source, cache } = await loadedCache({ grace: 1000, timeout: { soft: 20, hard: 500 } })
    clock.advance(200)
    const read = cache.get('k')
    await settle()
    clock.advance(19)
    expect(await peekPromise(read)).toBe('pending')
    clock.advance(1)
    expect(await read).toBe('v1')
    expect(source.last().signal.aborted).toBe(false)
    source.last().answer.resolve('v2')
    await settle()
    expect(cache.peek('k')).toBe('v2')
    expect(source.calls).toHaveLength(2)
    expect(clock.pending).toBe(1) // the expiry sweep only: both timeouts' timers are gone
    await cache.close()
    expect(clock.pending).toBe(0)
  })

  it('soft: without a stale value the read waits for the load', async () => {
    const clock = new VirtualClock()
    const source = scriptedLoader()
    const cache = createCache<string>({ scheduler: clock, loader: source.loader, timeout: { soft: 20 } })
    const read = cache.get('k')
    await settle()
    clock.advance(100)
    expect(await peekPromise(read)).toBe('pending')
    source.last().answer.resolve('v')
    expect(await read).toBe('v')
    await cache.close()
  })

  it('close aborts a load under a hard timeout and leaves no timer', async () => {
    const clock = new VirtualClock()
    const source = scriptedLoader()
    const cache = createCache<string>({ scheduler: clock, loader: source.loader, timeout: { hard: 50 } })
    const read = cache.get('k')
    await settle()
    await cache.close()
    await expect(read).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(source.last().signal.aborted).toBe(true)
    expect(clock.pending).toBe(0)
  })
})

describe('breaker', () => {
  it('opens after consecutive failures, fails fast without calling the loader, lets one probe through after the cooldown', async () => {
    const clock = new VirtualClock()
    let calls = 0
    let up = false
    const cache = createCache<string>({
      scheduler: clock,
      breaker: { failures: 2, cooldown: 100 },
      loader: (key) => {
        calls++
        if (up) return `${key}!`
        throw new Error('down')
      },
    })
    const errors: unknown[] = []
    cache.events$.subscribe((event) => event.type === 'error' && errors.push(event.error))
    await expect(cache.get('a')).rejects.toMatchObject({ code: 'E_LOADER' })
    await expect(cache.get('b')).rejects.toMatchObject({ code: 'E_LOADER' })
    const fast = (await cache.get('c').catch((e: unknown) => e)) as CacheError
    expect(fast.code).toBe('E_LOADER')
    expect(fast.cause).toBeInstanceOf(BreakerOpenError)
    expect(errors).toHaveLength(3)
    expect(errors[2]).toBe(fast)
    expect(fast.message).toMatch(/circuit breaker is open/)
    expect(calls).toBe(2)
    clock.advance(100)
    await expect(cache.get('d')).rejects.toMatchObject({ code: 'E_LOADER' }) // the probe fails: open again
    expect(calls).toBe(3)
    await expect(cache.get('e')).rejects.toMatchObject({ cause: expect.any(BreakerOpenError) })
    expect(calls).toBe(3)
    clock.advance(100)
    up = true
    expect(await cache.get('f')).toBe('f!') // the probe succeeds: closed
    expect(await cache.get('g')).toBe('g!')
    expect(calls).toBe(5)
    await cache.close()
  })

  it('an open breaker serves a stale value within grace instead of failing', async () => {
    const { clock, source, cache } = await loadedCache({ grace: 1000, breaker: { failures: 1, cooldown: 1000 } })
    const fail = cache.get('x')
    source.last().answer.reject(new Error('down'))
    await expect(fail).rejects.toMatchObject({ code: 'E_LOADER' })
    clock.advance(200)
    const calls = source.calls.length
    expect(await cache.get('k')).toBe('v1')
    expect(source.calls).toHaveLength(calls)
    await cache.close()
  })

  it('a hard timeout counts as a failure', async () => {
    const clock = new VirtualClock()
    const source = scriptedLoader()
    const cache = createCache<string>({ scheduler: clock, loader: source.loader, timeout: { hard: 10 }, breaker: { failures: 1, cooldown: 50 } })
    const read = cache.get('k')
    await settle()
    clock.advance(10)
    await expect(read).rejects.toMatchObject({ code: 'E_TIMEOUT' })
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_LOADER', cause: expect.any(BreakerOpenError) })
    expect(source.calls).toHaveLength(1)
    await cache.close()
  })
})

describe('getOrSet, with options per call', () => {
  it('serves grace and stale-while-revalidate from the call’s options over the cache’s', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, grace: 0 })
    expect(await cache.getOrSet('k', () => 'v1', { ttl: 100, grace: 500 })).toBe('v1')
    clock.advance(200)
    const failing = () => Promise.reject(new Error('down'))
    expect(await cache.getOrSet('k', failing, { grace: 500 })).toBe('v1')
    // The cache's options (no grace) for this call: the failure reaches the caller.
    await expect(cache.getOrSet('k', failing)).rejects.toMatchObject({ code: 'E_LOADER' })
    const refresh = deferred<string>()
    expect(await peekPromise(cache.getOrSet('k', () => refresh.promise, { staleWhileRevalidate: 500 }))).toEqual({ value: 'v1' })
    refresh.resolve('v2')
    await settle()
    expect(cache.peek('k')).toBe('v2')
    await cache.close()
  })

  it('a call’s timeout.hard wins over the cache’s, and its breaker: false turns the cache’s off', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, timeout: { hard: 1000 }, breaker: { failures: 1, cooldown: 1000 } })
    const never = ({ signal }: { signal: AbortSignal }) => new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    const read = cache.getOrSet('k', never, { timeout: { hard: 10 } })
    await settle()
    clock.advance(10)
    await expect(read).rejects.toMatchObject({ code: 'E_TIMEOUT' })
    // The factories' breaker for this setting is open now; a call without a breaker still runs its factory.
    await expect(cache.getOrSet('k', () => 'x', { timeout: { hard: 10 } })).rejects.toMatchObject({ cause: expect.any(BreakerOpenError) })
    expect(await cache.getOrSet('k', () => 'x', { breaker: false })).toBe('x')
    await cache.close()
  })

  it('refuses bad options with E_INVALID_OPTIONS naming the option', async () => {
    const cache = createCache<string>()
    await expect(cache.getOrSet('k', () => 'v', { grace: -1 })).rejects.toThrow(/option 'grace'/)
    await expect(cache.getOrSet('k', () => 'v', { timeout: { soft: 10, hard: 5 } })).rejects.toThrow(/option 'timeout.soft'/)
    await expect(cache.getOrSet('k', () => 'v', { breaker: { failures: 0 } })).rejects.toThrow(/option 'breaker.failures'/)
    await expect(cache.set('k', 'v', { grace: 5 } as never)).rejects.toThrow(/option 'grace' is not a known option/)
    await cache.close()
  })
})

describe('serve options, cache-wide', () => {
  it.each([
    [{ staleWhileRevalidate: Number.NaN }, 'staleWhileRevalidate'],
    [{ grace: Infinity }, 'grace'],
    [{ timeout: { hard: 0 } }, 'timeout.hard'],
    [{ timeout: { soft: 'x' } }, 'timeout.soft'],
    [{ timeout: { late: 1 } }, 'timeout.late'],
    [{ timeout: 5 }, 'timeout'],
    [{ breaker: { cooldown: -1 } }, 'breaker.cooldown'],
    [{ breaker: true }, 'breaker'],
  ])('refuses %o naming %s', (options, name) => {
    let error: unknown
    try {
      createCache(options as never)
    } catch (e) {
      error = e
    }
    expect(isCacheError(error, 'E_INVALID_OPTIONS')).toBe(true)
    expect((error as Error).message).toContain(`option '${name}'`)
  })
})
