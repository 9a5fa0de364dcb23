import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type CacheEvent, createCache } from '../../../src/index.js'
import { ColdStore } from '../../../src/tiers/cold/index.js'

let dir = ''
afterEach(async () => {
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

const until = async (condition: () => boolean, ms = 5000): Promise<void> => {
  for (const start = Date.now(); !condition(); ) {
    if (Date.now() - start > ms) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('a disk that fails to write', () => {
  it('reports E_IO, refuses demotions while it fails, keeps memory serving, and takes demotions again once writes succeed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-cache-faults-'))
    const cache = createCache<string>({ hot: { maxEntries: 4 }, cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    await cache.ready
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.set('durable', 'before the fault')
    await cache.checkpoint()

    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const putMany = vi.spyOn(ColdStore.prototype, 'putMany').mockRejectedValue(enospc)
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, `v${i}`)
    await until(() => events.some((event) => event.type === 'error'))
    expect(events.find((event) => event.type === 'error')).toMatchObject({ error: { code: 'E_IO' } })

    // While refusing, what falls out of memory leaves the cache instead of queueing.
    for (let i = 10; i < 20; i++) await cache.set(`k${i}`, `v${i}`)
    expect(events).toContainEqual(expect.objectContaining({ type: 'evict', tier: 'hot', reason: 'io' }))
    expect(await cache.get('k19')).toBe('v19')
    expect(await cache.get('durable')).toBe('before the fault')

    // The tier is degraded, and retried (1 s after the failure, then 2 s after each failed attempt...) until it works.
    expect(cache.stats().tiers.cold.state).toBe('degraded')
    putMany.mockRestore()
    await until(() => cache.stats().tiers.cold.state === 'ok', 10_000)
    const refused = () => events.filter((event) => event.type === 'evict' && event.reason === 'io').length
    const refusedBefore = refused()
    const diskBefore = cache.stats().tiers.cold.diskBytes
    for (let i = 20; i < 30; i++) await cache.set(`k${i}`, `v${i}`)
    await until(() => cache.stats().tiers.cold.diskBytes > diskBefore)
    expect(refused()).toBe(refusedBefore)
    expect(await cache.get('k20')).toBe('v20')
    await cache.close()
  })

  it('reports every overwrite it could not take, and never serves the older value, before or after a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-cache-faults-'))
    const options = { hot: { maxEntries: 4 }, cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } }
    const cache = createCache<string>(options)
    await cache.ready
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
    for (const key of keys) await cache.set(key, `old ${key}`)
    await cache.checkpoint()
    const evicted = new Set<string>()
    cache.events$.subscribe((event) => event.type === 'evict' && evicted.add(event.key))

    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const putMany = vi.spyOn(ColdStore.prototype, 'putMany').mockRejectedValue(enospc)
    for (const key of keys) await cache.set(key, `new ${key}`)
    // The demotions fail in the background: wait for the first to be told, however busy the machine is.
    await vi.waitFor(() => expect(evicted.size).toBeGreaterThan(0), { timeout: 10_000, interval: 10 })
    const read = await cache.getMany(keys)
    for (let i = 0; i < keys.length; i++) {
      if (read[i] === undefined) expect(evicted.has(keys[i]), keys[i]).toBe(true)
      else expect(read[i]).toBe(`new ${keys[i]}`)
    }
    expect(evicted.size).toBeGreaterThan(0)
    await expect(cache.checkpoint()).rejects.toMatchObject({ code: 'E_IO' })

    putMany.mockRestore()
    await cache.close()
    const reopened = createCache<string>(options)
    const after = await reopened.getMany(keys)
    for (let i = 0; i < keys.length; i++) {
      if (after[i] !== undefined) expect(after[i]).toBe(`new ${keys[i]}`)
      else expect(evicted.has(keys[i]), keys[i]).toBe(true)
    }
    await reopened.close()
  })

  it('a clear the disk refuses degrades it, and leaves the older disk copies of rewritten keys hidden once it recovers', async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-cache-faults-'))
    const cache = createCache<string>({ hot: { maxEntries: 100 }, cold: { dir, segmentBytes: 64 * 1024 } })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.ready
    await cache.set('k', 'v1')
    await cache.set('same', 'kept')
    await cache.checkpoint()
    await cache.set('k', 'v2')
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    vi.spyOn(ColdStore.prototype, 'clear').mockRejectedValueOnce(enospc)
    // Memory is cleared: the clear resolves, and the disk, degraded, owes it.
    await cache.clear()
    expect(events).toContainEqual(expect.objectContaining({ type: 'degraded', tier: 'cold' }))
    // Retried 1 s on: the owed clear goes down before the disk is read again.
    await until(() => cache.stats().tiers.cold.state === 'ok', 5000)
    expect(events).toContainEqual(expect.objectContaining({ type: 'recovered', tier: 'cold' }))
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    // Memory and tags are cleared: what the disk still holds reads as cleared too, until written anew.
    expect(await cache.get('same')).toBeUndefined()
    expect(await cache.delete('same')).toBe(false)
    await cache.set('same', 'new')
    expect(await cache.get('same')).toBe('new')
    await cache.close()
  })

  it('a read the disk fails (EIO) is a miss, not a rejection: the tier degrades, and reads reach the disk again once it recovers', async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-cache-faults-'))
    const cache = createCache<string>({ hot: { maxEntries: 1 }, cold: { dir, segmentBytes: 64 * 1024 } })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.ready
    await cache.set('on disk', 'v1')
    await cache.set('other', 'v1')
    await cache.checkpoint()
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' })
    const get = vi.spyOn(ColdStore.prototype, 'get').mockRejectedValue(eio)
    expect(await cache.get('on disk')).toBeUndefined()
    expect(events.filter((event) => event.type === 'degraded')).toMatchObject([{ tier: 'cold', error: { code: 'E_IO' } }])
    expect(cache.stats().tiers.cold.state).toBe('degraded')
    get.mockRestore()
    await until(() => cache.stats().tiers.cold.state === 'ok', 5000)
    expect(await cache.get('on disk')).toBe('v1')
    await cache.close()
  })

  it('a delete whose tombstone the disk refuses resolves, degrades the tier, and its tombstone is written once it recovers: the older value never comes back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-cache-faults-'))
    const options = { hot: { maxEntries: 1 }, cold: { dir, segmentBytes: 64 * 1024 } }
    const cache = createCache<string>(options)
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.ready
    await cache.set('gone', 'v1')
    await cache.set('other', 'v1')
    await cache.checkpoint()
    const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })
    vi.spyOn(ColdStore.prototype, 'delete').mockRejectedValueOnce(eio)
    expect(await cache.delete('gone')).toBe(true)
    expect(events).toContainEqual(expect.objectContaining({ type: 'degraded', tier: 'cold' }))
    expect(await cache.get('gone')).toBeUndefined()
    await until(() => cache.stats().tiers.cold.state === 'ok', 5000)
    expect(await cache.get('gone')).toBeUndefined()
    expect(await cache.get('other')).toBe('v1')
    await cache.close()
    const reopened = createCache<string>(options)
    expect(await reopened.getMany(['gone', 'other'])).toEqual([undefined, 'v1'])
    await reopened.close()
  })

  it('a read that begins while a clear runs finds nothing on disk, and promotes nothing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-cache-faults-'))
    const cache = createCache<string>({ hot: { maxEntries: 1 }, cold: { dir, segmentBytes: 64 * 1024 } })
    await cache.ready
    await cache.set('a', 'old a')
    await cache.set('b', 'old b')
    await cache.checkpoint()
    const cleared = cache.clear()
    const during = cache.get('a')
    await cleared
    expect(await during).toBeUndefined()
    expect(await cache.get('a')).toBeUndefined()
    expect(cache.stats().tiers.hot.entries).toBe(0)
    await cache.close()
  })
})
