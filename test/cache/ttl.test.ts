import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'

describe('time to live', () => {
  it('is measured on the scheduler’s clock, whatever the wall clock says', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock })
    await cache.set('k', 'v', { ttl: 1000 })
    await new Promise((resolve) => setTimeout(resolve, 20)) // wall time passes; virtual time does not
    clock.advance(999)
    expect(await cache.get('k')).toBe('v')
    clock.advance(1)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    await cache.close()
  })

  it('uses the default ttl unless the entry gives its own, and Infinity for none', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, ttl: 100 })
    await cache.set('default', 'a')
    await cache.set('own', 'b', { ttl: 300 })
    await cache.set('forever', 'c', { ttl: Infinity })
    clock.advance(100)
    expect(await cache.getMany(['default', 'own', 'forever'])).toEqual([undefined, 'b', 'c'])
    clock.advance(200)
    expect(await cache.getMany(['default', 'own', 'forever'])).toEqual([undefined, undefined, 'c'])
    clock.advance(1e9)
    expect(await cache.get('forever')).toBe('c')
    await cache.close()
  })

  it('never returns an expired entry from the warm tier, nor promotes it', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('k', 'v', { ttl: 50 })
    await cache.set('push', 'x')
    clock.advance(50)
    expect(cache.peek('k')).toBeUndefined()
    expect(await cache.get('k')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ promotions: 0, expirations: 1 })
    await cache.close()
  })

  it('keeps the remaining ttl when an entry moves between tiers', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('k', 'v', { ttl: 100 })
    clock.advance(40)
    await cache.set('push', 'x') // k to warm
    clock.advance(40)
    expect(await cache.get('k')).toBe('v') // k back to hot
    clock.advance(19)
    expect(await cache.get('k')).toBe('v')
    clock.advance(1)
    expect(await cache.get('k')).toBeUndefined()
    await cache.close()
  })

  it('drops an entry that expires on its way down instead of demoting it', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ scheduler: clock, hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('k', 'v', { ttl: 10 })
    clock.advance(10)
    await cache.set('other', 'x')
    expect(cache.stats()).toMatchObject({ demotions: 0, expirations: 1, tiers: { warm: { entries: 0 } } })
    await cache.close()
  })

  it('sweeps expired entries on the sweep’s tick, without any read, then stops its timer', async () => {
    const clock = new VirtualClock()
    const cache = createCache<number>({ scheduler: clock, hot: { maxEntries: 10 }, warm: { maxBytes: 1 << 20 } })
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, i, { ttl: 10 + i })
    await cache.set('kept', 1)
    clock.advance(999)
    expect(cache.stats().expirations).toBe(0)
    clock.advance(1)
    expect(cache.stats()).toMatchObject({
      expirations: 20,
      tiers: { hot: { entries: 1 }, warm: { entries: 0 } },
    })
    clock.advance(1000) // the next tick finds nothing that can expire and ends the sweep
    expect(clock.pending).toBe(0)
    await cache.set('again', 1, { ttl: 5 }) // and a new expiry starts it again
    expect(clock.pending).toBe(1)
    clock.advance(1000)
    expect(cache.stats().expirations).toBe(21)
    await cache.close()
    expect(clock.pending).toBe(0)
  })
})
