import { describe, expect, it } from 'vitest'
import { BreakerOpenError, createCache, isCacheError } from '../../src/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'
import { RecordingSource, settle } from './writer-helpers.js'

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

describe('the breaker in front of the writer', () => {
  it('write-through: after `failures` failed writes, a set fails fast with E_WRITER, the source is not called and the cache keeps its value; one probe after the cooldown closes it', async () => {
    const clock = new VirtualClock()
    const source = new RecordingSource<number>()
    const cache = createCache<number>({ scheduler: clock, breaker: { failures: 2, cooldown: 1000 }, writer: { write: source.write } })
    await cache.set('kept', 1)
    source.failures = 2
    expect(isCacheError(await rejection(cache.set('a', 1)), 'E_WRITER')).toBe(true)
    expect(isCacheError(await rejection(cache.set('a', 2)), 'E_WRITER')).toBe(true)
    const calls = source.calls.length
    const refused = await rejection(cache.set('kept', 2))
    expect(isCacheError(refused, 'E_WRITER')).toBe(true)
    expect((refused as Error).cause).toBeInstanceOf(BreakerOpenError)
    expect(source.calls.length).toBe(calls)
    // The source never saw the write: the cached value is still the source's.
    expect(await cache.get('kept')).toBe(1)
    clock.advance(1000)
    await cache.set('kept', 3)
    expect(source.data.get('kept')).toBe(3)
    await cache.set('b', 4)
    expect(source.calls.length).toBe(calls + 2)
    await cache.close()
  })

  it('write-back: while the breaker is open the source is not called and the ops stay dirty and readable; after the cooldown they are written', async () => {
    const clock = new VirtualClock()
    const source = new RecordingSource<number>()
    const cache = createCache<number>({
      scheduler: clock,
      breaker: { failures: 1, cooldown: 10_000 },
      writer: { write: source.write, mode: 'back', flushInterval: 100, retry: { attempts: 1, baseDelay: 10, maxDelay: 10 } },
    })
    source.failures = 1
    await cache.set('a', 1)
    clock.advance(100)
    await settle()
    expect(source.calls.length).toBe(1) // failed: the breaker opens
    for (let i = 0; i < 20; i++) {
      clock.advance(200)
      await settle()
    }
    expect(source.calls.length).toBe(1)
    expect(cache.stats().dirty).toBe(1)
    expect(await cache.get('a')).toBe(1)
    for (let i = 0; i < 40 && source.data.get('a') !== 1; i++) {
      clock.advance(500)
      await settle()
    }
    expect(source.data.get('a')).toBe(1)
    // The batch's completion is taken in a later turn.
    clock.advance(1)
    await settle()
    expect(cache.stats().dirty).toBe(0)
    await cache.close()
  })
})
