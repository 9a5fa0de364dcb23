import { describe, expect, it } from 'vitest'
import { type CacheEvent, createCache } from '../../src/index.js'

const settle = () => new Promise((resolve) => setTimeout(resolve, 10))
/** Lets a load ahead by a synchronous loader land. */
const settle0 = () => new Promise((resolve) => setImmediate(resolve))

describe('prefetch', () => {
  it('loads the next key of a numeric walk ahead, and serves it without a read-through load', async () => {
    const loaded: string[] = []
    const cache = createCache<string>({ loader: (key) => (loaded.push(key), `value of ${key}`), prefetch: {} })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    for (const key of ['page:1', 'page:2', 'page:3']) await cache.get(key)
    await settle()
    expect(loaded).toEqual(['page:1', 'page:2', 'page:3', 'page:4'])
    expect(events).toContainEqual(expect.objectContaining({ type: 'prefetch', key: 'page:4' }))
    expect(await cache.get('page:4')).toBe('value of page:4')
    await settle()
    expect(loaded).toEqual(['page:1', 'page:2', 'page:3', 'page:4', 'page:5'])
    expect(cache.stats()).toMatchObject({ loads: 3, prefetches: 2, prefetchHits: 1, prefetchAccuracy: 0.5, hits: 1, misses: 3 })
    await cache.close()
  })

  it('learns which key follows which', async () => {
    const loaded: string[] = []
    const cache = createCache<string>({ loader: (key) => (loaded.push(key), key.toUpperCase()), prefetch: {} })
    for (const key of ['user', 'settings', 'user', 'settings']) {
      await cache.delete(key)
      await cache.get(key)
    }
    await cache.delete('settings')
    loaded.length = 0
    await cache.get('user') // a hit or a load; either way 'settings' is predicted next
    await settle()
    expect(loaded).toContain('settings')
    expect(await cache.get('settings')).toBe('SETTINGS')
    expect(cache.stats().prefetchHits).toBe(1)
    await cache.close()
  })

  it('never loads ahead a key a write would refuse (a lone surrogate)', async () => {
    const loaded: string[] = []
    const cache = createCache<string>({ loader: (key) => (loaded.push(key), key.toUpperCase()), prefetch: {} })
    const illFormed = 'settings:\ud83d'
    for (let i = 0; i < 3; i++) {
      await cache.delete('user')
      await cache.get('user')
      await expect(cache.get(illFormed)).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    }
    await cache.delete('user')
    await cache.get('user')
    await settle()
    expect(loaded).not.toContain(illFormed)
    expect(cache.stats().prefetches).toBe(0)
    await cache.close()
  })

  it('learns which key follows which when other callers’ reads come in between', async () => {
    const loaded: string[] = []
    const cache = createCache<string>({ loader: (key) => (loaded.push(key), key.toUpperCase()), prefetch: {} })
    let other = 0
    const others = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) await cache.get(`other-${String.fromCharCode(97 + (other % 26))}${String.fromCharCode(97 + Math.floor(other++ / 26))}`)
    }
    for (let round = 0; round < 2; round++) {
      await cache.delete('settings:1')
      await cache.get('user:1')
      await others(3) // another client's reads
      await cache.get('settings:1')
      await others(2)
    }
    await cache.delete('settings:1')
    loaded.length = 0
    await cache.get('user:1')
    await settle()
    expect(loaded).toEqual(['settings:1'])
    await others(1)
    expect(await cache.get('settings:1')).toBe('SETTINGS:1')
    expect(cache.stats().prefetchHits).toBe(1)
    await cache.close()
  })

  it('never pushes a used entry out for a guess: what it loads waits outside the tiers', async () => {
    const cache = createCache<string>({ hot: { maxEntries: 4 }, loader: (key) => key, prefetch: { maxInFlight: 8 } })
    for (const key of ['walk:1', 'walk:2', 'walk:3']) await cache.get(key)
    const before = cache.stats()
    await settle() // the load of walk:4 lands
    const after = cache.stats()
    expect(after.prefetches).toBe(before.prefetches)
    expect(after.prefetches).toBe(1)
    expect(after.tiers.hot.entries).toBe(before.tiers.hot.entries)
    expect(after.evictions).toBe(before.evictions)
    expect(cache.peek('walk:4')).toBeUndefined()
    await cache.close()
  })

  it('does not serve a value loaded ahead once the key was written', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const cache = createCache<string>({
      loader: async (key) => {
        if (key === 'n:4') await gate
        return `loaded ${key}`
      },
      prefetch: {},
    })
    for (const key of ['n:1', 'n:2', 'n:3']) await cache.get(key)
    await cache.set('n:4', 'written')
    release()
    await settle()
    expect(await cache.get('n:4')).toBe('written')
    expect(cache.stats().prefetchHits).toBe(0)
    await cache.close()
  })

  it('makes a get of a key being loaded ahead wait for that load instead of loading it again', async () => {
    const calls: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const cache = createCache<string>({
      loader: async (key) => {
        calls.push(key)
        if (key === 'item:4') await gate
        return `value of ${key}`
      },
      prefetch: {},
    })
    for (const key of ['item:1', 'item:2', 'item:3']) await cache.get(key)
    const read = cache.get('item:4') // item:4 is being loaded ahead, and waits at the gate
    release()
    expect(await read).toBe('value of item:4')
    expect(calls.filter((key) => key === 'item:4')).toEqual(['item:4'])
    expect(cache.stats()).toMatchObject({ prefetchHits: 1, loads: 3 })
    await cache.close()
  })

  it('does not load ahead a key that a get is already loading', async () => {
    const calls: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let slow = false
    const cache = createCache<string>({
      loader: async (key) => {
        calls.push(key)
        if (slow && key === 'settings') await gate
        return key
      },
      prefetch: {},
    })
    for (const key of ['user', 'settings', 'user', 'settings']) {
      await cache.delete(key)
      await cache.get(key)
    }
    await cache.delete('settings')
    await cache.delete('user')
    await settle()
    calls.length = 0
    slow = true
    const settings = cache.get('settings') // loads, slowly
    await cache.get('user') // predicts 'settings', which is already being loaded
    release()
    await settings
    expect(calls.filter((key) => key === 'settings')).toEqual(['settings'])
    await cache.close()
  })

  it('pauses loading ahead when what it loads is never read, judged by the values left unread', async () => {
    const cache = createCache<string>({ loader: (key) => key, prefetch: { maxInFlight: 4 } })
    const prefetchesAfter: number[] = []
    // Walks of three keys: w<i>:4 is loaded ahead each time, and never read.
    for (let walk = 0; walk < 120; walk++) {
      for (const n of [1, 2, 3]) await cache.get(`w${walk}:${n}`)
      await settle0()
      prefetchesAfter.push(cache.stats().prefetches)
    }
    // The buffer holds 64 values; each later load pushes one out unread (a wrong verdict): after 16
    // of them the accuracy (0) is below minConfidence, and loading stops, 80 loads in.
    expect(prefetchesAfter[79]).toBe(80)
    expect(prefetchesAfter[119]).toBe(80)
    expect(cache.stats().prefetchHits).toBe(0)
    await cache.close()
  })

  it('counts a value loaded ahead as wasted when its key is written before it is read, and resumes once predictions would be used', async () => {
    const cache = createCache<string>({ loader: (key) => `loaded ${key}`, prefetch: { maxInFlight: 4, minConfidence: 0.5 } })
    // Walks w<i>:1..3, then the client writes w<i>:4 and reads it: the key is read, but the value
    // loaded ahead is stale and dropped. Judged on access, each of these would count as right.
    for (let walk = 0; walk < 40; walk++) {
      for (const n of [1, 2, 3]) await cache.get(`w${walk}:${n}`)
      await settle0()
      await cache.set(`w${walk}:4`, 'written')
      expect(await cache.get(`w${walk}:4`)).toBe('written')
    }
    const paused = cache.stats()
    // Each walk loads w<i>:4 ahead (stale: a wrong verdict at once) and, after the read of w<i>:4, w<i>:5
    // (never read: it waits in the buffer, no verdict yet). The 16th stale value, in walk 15, pauses loading.
    expect(paused.prefetches).toBe(31)
    expect(paused.prefetchHits).toBe(0)
    // Long walks, read to the end: held predictions come true in the shadow, and loading resumes.
    for (let walk = 0; walk < 12; walk++) {
      for (let n = 1; n <= 12; n++) await cache.get(`g${walk}:${n}`)
      await settle0()
    }
    const resumed = cache.stats()
    expect(resumed.prefetches).toBeGreaterThan(paused.prefetches + 40)
    expect(resumed.prefetchHits).toBeGreaterThan(40)
    await cache.close()
  })

  it('counts a load ahead that fails or finds nothing as wasted', async () => {
    const cache = createCache<string>({
      loader: (key) => {
        if (!key.endsWith(':4')) return key
        if (key.startsWith('odd')) return undefined // nothing there
        throw new Error('no such key')
      },
      prefetch: { maxInFlight: 4 },
    })
    cache.events$.subscribe(() => undefined) // the failures are reported as events
    for (let walk = 0; walk < 40; walk++) {
      for (const n of [1, 2, 3]) await cache.get(`${walk % 2 === 1 ? 'odd' : 'even'}${walk}:${n}`)
      await settle0()
    }
    // Each walk's load of <walk>:4 comes to nothing: a wrong verdict at once. After 16, loading pauses.
    expect(cache.stats().prefetches).toBe(16)
    await cache.close()
  })

  it('needs a loader, and checks its options', () => {
    expect(() => createCache({ prefetch: {} })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining("'prefetch'") }))
    expect(() => createCache({ loader: () => 1, prefetch: { maxInFlight: 0 } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("'prefetch.maxInFlight'") }),
    )
    expect(() => createCache({ loader: () => 1, prefetch: { minConfidence: 2 } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("'prefetch.minConfidence'") }),
    )
    expect(() => createCache({ loader: () => 1, prefetch: { depth: 2 } as never })).toThrow(
      expect.objectContaining({ message: expect.stringContaining("'prefetch.depth'") }),
    )
  })
})
