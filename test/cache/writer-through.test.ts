import { describe, expect, it } from 'vitest'
import { type CacheEvent, createCache, isCacheError } from '../../src/index.js'
import { RecordingSource } from './writer-helpers.js'

describe('write-through', () => {
  it('resolves a set and a delete once the source took them and the cache holds the new state', async () => {
    const source = new RecordingSource<number>()
    const cache = createCache<number>({ writer: { write: source.write } })
    let gate!: () => void
    source.gate = new Promise((resolve) => (gate = resolve))
    const set = cache.set('a', 1)
    await new Promise((resolve) => setImmediate(resolve))
    // The source has not answered: the cache does not hold the value yet.
    expect(cache.peek('a')).toBeUndefined()
    gate()
    await set
    source.gate = undefined
    expect(cache.peek('a')).toBe(1)
    expect(await cache.delete('a')).toBe(true)
    expect(source.written).toEqual([['a=1'], ['-a']])
    expect(source.data.has('a')).toBe(false)
    expect(cache.stats()).toMatchObject({ written: 2, dirty: 0 })
    await cache.close()
  })

  it('rejects E_WRITER with the source’s error as cause, and drops the key’s cached value from every tier', async () => {
    const source = new RecordingSource<number>()
    const cache = createCache<number>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 }, writer: { write: source.write } })
    const errors: CacheEvent[] = []
    cache.events$.subscribe((e) => e.type === 'write-error' && errors.push(e))
    await cache.set('a', 1)
    await cache.set('b', 2)
    source.failures = 1
    const error = await cache.set('a', 3).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isCacheError(error, 'E_WRITER')).toBe(true)
    expect((error as Error).cause).toEqual(new Error('source down'))
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('b')).toBe(2)
    expect(errors).toMatchObject([{ type: 'write-error', keys: ['a'] }])
    expect(cache.stats().writeErrors).toBe(1)
    await cache.close()
  })

  it('makes one write call per batchSize ops for setMany and deleteMany', async () => {
    const source = new RecordingSource<number>()
    const cache = createCache<number>({ writer: { write: source.write, batchSize: 100 } })
    await cache.setMany(Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, value: i })))
    expect(source.calls.map((ops) => ops.length)).toEqual([100, 100, 50])
    expect(await cache.get('k249')).toBe(249)
    expect(await cache.deleteMany(Array.from({ length: 150 }, (_, i) => `k${i}`))).toBe(150)
    expect(source.calls.map((ops) => ops.length)).toEqual([100, 100, 50, 100, 50])
    expect(source.data.size).toBe(100)
    await cache.close()
  })

  it('sends a key’s ops one call at a time, in call order, and never writes a loaded or factory value back', async () => {
    const source = new RecordingSource<number>()
    source.data.set('loaded', 9)
    const delays = [30, 0]
    const write = async (ops: Parameters<typeof source.write>[0], context: { signal: AbortSignal }) => {
      await new Promise((resolve) => setTimeout(resolve, delays.shift() ?? 0))
      return source.write(ops, context)
    }
    const cache = createCache<number>({ writer: { write }, loader: (key) => source.data.get(key) })
    await Promise.all([cache.set('a', 1), cache.set('a', 2)])
    expect(source.written).toEqual([['a=1'], ['a=2']])
    expect(await cache.get('a')).toBe(2)
    expect(await cache.get('loaded')).toBe(9)
    expect(await cache.getOrSet('made', () => 5)).toBe(5)
    expect(source.calls).toHaveLength(2)
    await cache.close()
  })
})
