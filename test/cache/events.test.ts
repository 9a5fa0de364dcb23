import { describe, expect, it } from 'vitest'
import { type CacheEvent, createCache } from '../../src/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'

describe('events$', () => {
  it('tells every step of an entry’s life, stamped with the scheduler’s time', async () => {
    const clock = new VirtualClock()
    const cache = createCache<number>({ scheduler: clock, hot: { maxEntries: 1 }, warm: { maxBytes: 1024 } })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    clock.advance(10)
    await cache.set('a', 1)
    await cache.set('b', 2)
    clock.advance(5)
    await cache.get('a')
    await cache.get('a')
    await cache.get('x')
    await cache.delete('b')
    await cache.set('t', 3, { ttl: 1 })
    clock.advance(1)
    await cache.get('t')
    await cache.clear()
    expect(events).toEqual([
      { type: 'set', key: 'a', at: 10 },
      { type: 'demote', key: 'a', from: 'hot', to: 'warm', at: 10 },
      { type: 'set', key: 'b', at: 10 },
      { type: 'hit', key: 'a', tier: 'warm', at: 15 },
      { type: 'demote', key: 'b', from: 'hot', to: 'warm', at: 15 },
      { type: 'promote', key: 'a', from: 'warm', to: 'hot', at: 15 },
      { type: 'hit', key: 'a', tier: 'hot', at: 15 },
      { type: 'miss', key: 'x', at: 15 },
      { type: 'delete', key: 'b', at: 15 },
      { type: 'demote', key: 'a', from: 'hot', to: 'warm', at: 15 },
      { type: 'set', key: 't', at: 15 },
      { type: 'expire', key: 't', at: 16 },
      { type: 'miss', key: 't', at: 16 },
      { type: 'clear', at: 16 },
    ])
    await cache.close()
  })

  it('reports an eviction from the last tier with its tier and reason', async () => {
    const cache = createCache<number>({ hot: { maxEntries: 1 } })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.set('a', 1)
    await cache.set('b', 2)
    expect(events).toContainEqual(expect.objectContaining({ type: 'evict', key: 'a', tier: 'hot', reason: 'capacity' }))
    await cache.close()
  })

  it('reports a value that cannot be decoded as an error event and a miss', async () => {
    let broken = false
    const codec = {
      name: 'flaky',
      encode: (value: unknown) => Buffer.from(JSON.stringify(value)),
      decode: (bytes: Uint8Array) => {
        if (broken) throw new Error('bad bytes')
        return JSON.parse(Buffer.from(bytes).toString()) as unknown
      },
    }
    const cache = createCache<number>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 }, codec })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.set('a', 1)
    await cache.set('b', 2)
    // Enough others down to warm that the value of 'a' is no longer known as an object: its bytes must be decoded.
    for (let i = 0; i < 300; i++) await cache.set(`c${i}`, i)
    broken = true
    expect(await cache.get('a')).toBeUndefined()
    const error = events.find((event) => event.type === 'error')
    expect(error).toMatchObject({ key: 'a', error: { code: 'E_CODEC' } })
    expect(events.at(-1)).toMatchObject({ type: 'miss', key: 'a' })
    expect(cache.stats().tiers.warm.entries).toBe(300)
    await cache.close()
  })

  it('is hot: a late subscriber sees only what follows, and all complete on close', async () => {
    const cache = createCache<number>()
    await cache.set('early', 1)
    const seen: string[] = []
    let completed = false
    cache.events$.subscribe({ next: (event) => seen.push(event.type), complete: () => (completed = true) })
    await cache.set('late', 2)
    await cache.close()
    expect(seen).toEqual(['set'])
    expect(completed).toBe(true)
  })
})
