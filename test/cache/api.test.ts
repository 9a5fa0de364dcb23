import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { noise } from '../helpers/noise.js'

describe('cache basics', () => {
  it('sets, gets, checks and deletes', async () => {
    const cache = createCache<string>()
    expect(await cache.get('a')).toBeUndefined()
    await cache.set('a', 'one')
    expect(await cache.get('a')).toBe('one')
    expect(await cache.has('a')).toBe(true)
    expect(await cache.delete('a')).toBe(true)
    expect(await cache.delete('a')).toBe(false)
    expect(await cache.has('a')).toBe(false)
    await cache.close()
  })

  it('keeps live objects by reference in the hot tier', async () => {
    const cache = createCache<object>()
    const value = { n: 1 }
    await cache.set('a', value)
    expect(await cache.get('a')).toBe(value)
    expect(cache.peek('a')).toBe(value)
    await cache.close()
  })

  it('reads, writes and deletes many', async () => {
    const cache = createCache<number>()
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ])
    expect(await cache.getMany(['a', 'x', 'c'])).toEqual([1, undefined, 3])
    expect(await cache.deleteMany(['a', 'b', 'x'])).toBe(2)
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([undefined, undefined, 3])
    await cache.close()
  })

  it("evicts the least recently used hot entry with policy 'lru', and peek does not count as a use", async () => {
    const cache = createCache<number>({ hot: { maxEntries: 2, policy: 'lru' } })
    await cache.set('a', 1)
    await cache.set('b', 2)
    expect(cache.peek('a')).toBe(1)
    await cache.set('c', 3)
    expect(await cache.has('a')).toBe(false)
    await cache.get('b')
    await cache.set('d', 4)
    expect(await cache.getMany(['b', 'c', 'd'])).toEqual([2, undefined, 4])
    expect(cache.stats().evictions).toBe(2)
    await cache.close()
  })

  it('evicts by W-TinyLFU by default: a key read often outlives a burst of one-time keys that LRU lets through', async () => {
    const burst = async (cache: ReturnType<typeof createCache<number>>) => {
      await cache.set('often', 0)
      for (let i = 0; i < 8; i++) await cache.get('often')
      for (let i = 0; i < 300; i++) await cache.set(`once-${i}`, i)
      const kept = await cache.has('often')
      await cache.close()
      return kept
    }
    expect(await burst(createCache<number>({ hot: { maxEntries: 100 } }))).toBe(true)
    expect(await burst(createCache<number>({ hot: { maxEntries: 100, policy: 'lru' } }))).toBe(false)
  })

  it('peek reads the warm tier without promoting', async () => {
    const cache = createCache<number>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('a', 1)
    await cache.set('b', 2)
    expect(cache.peek('a')).toBe(1)
    expect(cache.stats().promotions).toBe(0)
    expect(cache.stats().tiers.warm.entries).toBe(1)
    await cache.close()
  })

  it('deletes by tag, in every tier, and forgets the tags of entries that are gone', async () => {
    const cache = createCache<number>({ hot: { maxEntries: 2 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('u1', 1, { tags: ['users'] })
    await cache.set('u2', 2, { tags: ['users', 'admins'] })
    await cache.set('p1', 3, { tags: ['posts'] })
    await cache.set('u3', 4, { tags: ['users'] })
    await cache.set('u3', 5) // rewritten without tags
    expect(cache.stats().tiers.warm.entries).toBeGreaterThan(0)
    expect(await cache.deleteByTag('users')).toBe(2)
    expect(await cache.getMany(['u1', 'u2', 'p1', 'u3'])).toEqual([undefined, undefined, 3, 5])
    expect(await cache.deleteByTag('admins')).toBe(0)
    expect(await cache.deleteByTag('nothing')).toBe(0)
    await cache.close()
  })

  it('clears every tier', async () => {
    const cache = createCache<number>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('a', 1)
    await cache.set('b', 2, { tags: ['t'] })
    await cache.clear()
    expect(await cache.getMany(['a', 'b'])).toEqual([undefined, undefined])
    expect(cache.stats().tiers).toEqual({
      hot: { entries: 0, bytes: 0, hits: 0 },
      warm: { entries: 0, bytes: 0, hits: 0 },
      cold: { entries: 0, bytes: 0, diskBytes: 0, hits: 0, state: 'ok' },
      remote: { hits: 0, state: 'ok' },
    })
    expect(await cache.deleteByTag('t')).toBe(0)
    await cache.set('c', 3)
    expect(await cache.get('c')).toBe(3)
    await cache.close()
  })

  it('is AsyncDisposable', async () => {
    const cache = createCache()
    await cache[Symbol.asyncDispose]()
    await expect(cache.get('a')).rejects.toMatchObject({ code: 'E_CLOSED' })
  })
})

describe('tiers', () => {
  const twoTier = () => createCache<unknown>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } })

  it('demotes hot evictions into warm and promotes warm hits back', async () => {
    const cache = twoTier()
    await cache.set('a', { n: 1 })
    await cache.set('b', { n: 2 })
    expect(cache.stats()).toMatchObject({ demotions: 1, tiers: { hot: { entries: 1 }, warm: { entries: 1 } } })
    expect(await cache.get('a')).toEqual({ n: 1 })
    expect(cache.stats()).toMatchObject({
      hits: 1,
      promotions: 1,
      demotions: 2,
      tiers: { hot: { entries: 1, hits: 0 }, warm: { entries: 1, hits: 1 } },
    })
    expect(await cache.get('a')).toEqual({ n: 1 })
    expect(cache.stats().tiers.hot.hits).toBe(1)
    await cache.close()
  })

  it.each([
    ['object', { a: 1, nested: { list: [1, 'x', null] } }],
    ['array', [1, [2, [3]]]],
    ['Date', new Date(86_400_000)],
    [
      'Map',
      new Map<unknown, unknown>([
        ['k', new Date(5)],
        [2, [1]],
      ]),
    ],
    ['Set', new Set(['a', 1])],
    ['Uint8Array', new Uint8Array([1, 2, 3])],
    ['Float32Array', new Float32Array([0.5, 2])],
    ['Buffer', Buffer.from('bytes')],
    ['BigInt', 12345678901234567890n],
    ['null', null],
  ])('keeps a %s with its type through warm and back', async (_, value) => {
    const cache = twoTier()
    await cache.set('v', value)
    await cache.set('push', 0)
    expect(cache.stats().tiers.warm.entries).toBe(1)
    const back = await cache.get('v')
    expect(back).toEqual(value)
    expect(Object.prototype.toString.call(back)).toBe(Object.prototype.toString.call(value))
    if (value !== null) expect((back as object).constructor).toBe((value as object).constructor)
    await cache.close()
  })

  it('drops the lower copy on write, so no read returns an older value', async () => {
    const cache = twoTier()
    await cache.set('a', 'old')
    await cache.set('b', 'x') // 'a' now in warm
    await cache.set('a', 'new') // 'b' to warm, the warm 'a' dropped
    expect(cache.stats().tiers.warm.entries).toBe(1)
    await cache.set('c', 'y') // 'a' demoted again
    expect(await cache.get('a')).toBe('new')
    await cache.close()
  })

  it('lets warm evictions leave the cache', async () => {
    const cache = createCache<string>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1200, policy: 'lru' } })
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, `value-${i}`)
    const stats = cache.stats()
    expect(stats.tiers.warm.bytes).toBeLessThanOrEqual(1200)
    expect(stats.evictions).toBe(10 - 1 - stats.tiers.warm.entries)
    expect(await cache.get('k0')).toBeUndefined()
    expect(await cache.get('k9')).toBe('value-9')
    await cache.close()
  })

  it('puts a value too large for hot straight into warm', async () => {
    const cache = createCache<string>({ hot: { maxBytes: 100 }, warm: { maxBytes: 1 << 20 } })
    await cache.set('big', 'x'.repeat(1000))
    expect(cache.stats().tiers).toMatchObject({ hot: { entries: 0 }, warm: { entries: 1 } })
    expect(await cache.get('big')).toBe('x'.repeat(1000))
    await cache.close()
  })

  it('refuses a value too large for every tier, and keeps the old value', async () => {
    const cache = createCache<Uint8Array>({ hot: { maxBytes: 100 }, warm: { maxBytes: 200 } })
    const events: string[] = []
    cache.events$.subscribe((e) => events.push(e.type === 'evict' ? `evict:${e.reason}` : e.type))
    await cache.set('k', new Uint8Array(10))
    await expect(cache.set('k', noise(5000))).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.get('k')).toEqual(new Uint8Array(10))
    expect(events).toEqual(['set', 'hit'])
    await cache.close()
  })

  it('refuses a value too large for hot alone, and keeps the old value', async () => {
    const cache = createCache<string>({ hot: { maxBytes: 1000 } })
    await cache.set('k', 'small')
    await expect(cache.set('k', 'x'.repeat(10_000))).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await expect(cache.setMany([{ key: 'k', value: 'x'.repeat(10_000) }])).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.get('k')).toBe('small')
    expect(cache.stats().sets).toBe(1)
    await cache.close()
  })

  it('lets the hot tier use lfu', async () => {
    const cache = createCache<number>({ hot: { maxEntries: 2, policy: 'lfu' } })
    await cache.set('a', 1)
    await cache.set('b', 2)
    await cache.get('a')
    await cache.get('a')
    await cache.get('b')
    await cache.set('c', 3)
    await cache.get('c')
    await cache.set('d', 4)
    expect(await cache.has('a')).toBe(true)
    expect(await cache.has('b')).toBe(false)
    await cache.close()
  })
})

describe('a batch with a value no tier can hold', () => {
  it('stores none of it', async () => {
    const cache = createCache<string>({ hot: { maxBytes: 1000 } })
    await expect(
      cache.setMany([
        { key: 'a', value: 'small' },
        { key: 'b', value: 'x'.repeat(10_000) },
      ]),
    ).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.has('a')).toBe(false)
    await cache.close()
  })
})
