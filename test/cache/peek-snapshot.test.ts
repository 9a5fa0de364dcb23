import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { PEEK_SNAPSHOTS } from '../../src/stack/peek-snapshots.js'
import { noise } from '../helpers/noise.js'
import { VirtualClock } from '../helpers/virtual-time.js'

// Hot holds one entry: every key but the last one written sits in warm.
const warmHeld = (clock = new VirtualClock(), warmBytes = 1 << 20) =>
  createCache<{ v: number }>({ scheduler: clock, hot: { maxEntries: 1 }, warm: { maxBytes: warmBytes } })

describe('peek of a warm-held key, a stable snapshot', () => {
  it('returns the same object until the value changes, touching neither recency nor counters', async () => {
    const cache = warmHeld()
    await cache.set('k', { v: 1 })
    await cache.set('push', { v: 0 })
    const before = cache.stats()
    const first = cache.peek('k')
    expect(first).toEqual({ v: 1 })
    expect(cache.peek('k')).toBe(first)
    expect(cache.peek('k')).toBe(first)
    expect(cache.stats()).toEqual(before)
    await cache.close()
  })

  it('returns the new value once it is written, and keeps that one stable in turn', async () => {
    const cache = warmHeld()
    await cache.set('k', { v: 1 })
    await cache.set('push', { v: 0 })
    const first = cache.peek('k')
    await cache.set('k', { v: 2 })
    await cache.set('push', { v: 0 }) // k back down to warm
    const second = cache.peek('k')
    expect(second).toEqual({ v: 2 })
    expect(second).not.toBe(first)
    expect(cache.peek('k')).toBe(second)
    await cache.close()
  })

  it('returns a new object once the key is deleted and written again, even with an equal value', async () => {
    const cache = warmHeld()
    await cache.set('k', { v: 1 })
    await cache.set('push', { v: 0 })
    const first = cache.peek('k')
    await cache.delete('k')
    expect(cache.peek('k')).toBeUndefined()
    await cache.set('k', { v: 1 })
    await cache.set('push', { v: 0 })
    expect(cache.peek('k')).toEqual(first)
    expect(cache.peek('k')).not.toBe(first)
    await cache.close()
  })

  it('returns nothing once the key expires, and a new object once it is written again', async () => {
    const clock = new VirtualClock()
    const cache = warmHeld(clock)
    await cache.set('k', { v: 1 }, { ttl: 50 })
    await cache.set('push', { v: 0 })
    const first = cache.peek('k')
    expect(cache.peek('k')).toBe(first)
    clock.advance(50)
    expect(cache.peek('k')).toBeUndefined()
    await cache.set('k', { v: 1 })
    await cache.set('push', { v: 0 })
    expect(cache.peek('k')).not.toBe(first)
    await cache.close()
  })

  it(`keeps the snapshots of at most ${PEEK_SNAPSHOTS} keys, the ones peeked last`, async () => {
    const cache = warmHeld()
    const keys = Array.from({ length: PEEK_SNAPSHOTS + 1 }, (_, i) => `k${i}`)
    for (const [i, key] of keys.entries()) await cache.set(key, { v: i })
    await cache.set('push', { v: 0 })
    const first = cache.peek('k0')
    const second = cache.peek('k1')
    for (const key of keys.slice(2, PEEK_SNAPSHOTS)) cache.peek(key)
    expect(cache.peek('k1')).toBe(second) // still among the last peeked
    cache.peek('k1')
    cache.peek(keys[PEEK_SNAPSHOTS])
    expect(cache.peek('k0')).not.toBe(first) // pushed out: decoded afresh
    expect(cache.peek('k0')).toEqual(first)
    await cache.close()
  })

  it('keeps snapshots of at most a sixteenth of warm’s bytes, but always the last one peeked', async () => {
    const big = (v: number) => ({ v, pad: noise(2500, v) })
    const cache = createCache<ReturnType<typeof big>>({ hot: { maxEntries: 1 }, warm: { maxBytes: 32 * 1024 } })
    await cache.set('a', big(1))
    await cache.set('b', big(2))
    await cache.set('push', big(0))
    // Each encoding is over 2 KiB (noise does not compress), a sixteenth of 32 KiB: alone past the budget.
    const a = cache.peek('a')
    expect(cache.peek('a')).toBe(a)
    const b = cache.peek('b')
    expect(cache.peek('b')).toBe(b)
    expect(cache.peek('a')).not.toBe(a)
    await cache.close()
  })
})

describe('a snapshot across moves between tiers', () => {
  it('is the same object in hot, after it went down to warm, and after a get brought it back up', async () => {
    const cache = createCache<{ n: number }>({ hot: { maxEntries: 1, policy: 'lru' }, warm: { maxBytes: 1 << 20 } })
    await cache.set('k', { n: 1 })
    const inHot = cache.peek('k')
    await cache.set('other', { n: 2 }) // k goes down to warm
    expect(cache.stats().tiers.warm.entries).toBe(1)
    expect(cache.peek('k')).toBe(inHot)
    expect(await cache.get('k')).toBe(inHot) // back up to hot
    expect(cache.peek('k')).toBe(inHot)
    await cache.close()
  })
})
