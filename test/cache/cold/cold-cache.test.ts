import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type CacheEvent, type CacheOptions, createCache } from '../../../src/index.js'
import { noise } from '../../helpers/noise.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-cold-')

/** hot of 2 entries and warm of a few small entries: most entries end up on disk. */
const layered = <V>(dir: string, extra: Partial<CacheOptions<V>> = {}): CacheOptions<V> => ({
  hot: { maxEntries: 2 },
  warm: { maxBytes: 2000 },
  cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 },
  ...extra,
})

const values = (i: number) => ({ id: i, at: new Date(1_700_000_000_000 + i), tags: new Set([`t${i % 3}`]), big: BigInt(i) ** 3n })

describe('the cold tier in the cache', () => {
  it('takes what falls out of warm, and serves it back with its type', async () => {
    const cache = createCache<ReturnType<typeof values>>(layered(await tempDir()))
    await cache.ready
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, values(i))
    expect(cache.stats().tiers.cold.entries).toBeGreaterThan(30)
    expect(cache.stats().evictions).toBe(0)
    for (let i = 0; i < 50; i++) expect(await cache.get(`k${i}`)).toEqual(values(i))
    const stats = cache.stats()
    expect(stats.tiers.cold.hits).toBeGreaterThan(0)
    expect(stats.hits).toBe(50)
    await cache.close()
  })

  it('answers from memory and from entries on their way down before the disk has opened', async () => {
    const cache = createCache<number>(layered(await tempDir()))
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, i)
    expect(await cache.getMany(['k0', 'k10', 'k19'])).toEqual([0, 10, 19])
    await cache.ready
    await cache.close()
  })

  it('reopens with every entry, its value, its type and its remaining time to live', async () => {
    const dir = await tempDir()
    const first = createCache<ReturnType<typeof values>>(layered(dir))
    for (let i = 0; i < 40; i++) await first.set(`k${i}`, values(i), { ttl: i === 7 ? 1 : 3_600_000 })
    await first.close()
    const second = createCache<ReturnType<typeof values>>(layered(dir))
    await second.ready
    await new Promise((resolve) => setTimeout(resolve, 5))
    for (let i = 0; i < 40; i++) expect(await second.get(`k${i}`)).toEqual(i === 7 ? undefined : values(i))
    await second.close()
  })

  it('never returns a disk copy older than the last write or delete, before or after reopening', async () => {
    const dir = await tempDir()
    const cache = createCache<string>(layered(dir))
    for (let i = 0; i < 30; i++) await cache.set(`k${i}`, `old-${i}`)
    await cache.checkpoint()
    await cache.set('k0', 'new-0')
    await cache.delete('k1')
    expect(await cache.get('k0')).toBe('new-0')
    expect(await cache.get('k1')).toBeUndefined()
    expect(await cache.has('k1')).toBe(false)
    await cache.close()
    const reopened = createCache<string>(layered(dir))
    expect(await reopened.get('k0')).toBe('new-0')
    expect(await reopened.get('k1')).toBeUndefined()
    expect(await reopened.get('k2')).toBe('old-2')
    await reopened.close()
  })

  it('counts a disk copy in delete and has', async () => {
    const cache = createCache<number>(layered(await tempDir()))
    await cache.ready
    for (let i = 0; i < 30; i++) await cache.set(`k${i}`, i)
    await cache.checkpoint()
    expect(await cache.has('k0')).toBe(true)
    expect(await cache.delete('k0')).toBe(true)
    expect(await cache.delete('k0')).toBe(false)
    expect(await cache.deleteMany(['k1', 'k2', 'missing'])).toBe(2)
    await cache.close()
  })

  it('tells a delete of a key only the disk holds, issued before the disk has opened, on events$ and in stats', async () => {
    const dir = await tempDir()
    const first = createCache<number>(layered(dir))
    for (let i = 0; i < 10; i++) await first.set(`k${i}`, i)
    await first.close()
    const cache = createCache<number>(layered(dir))
    const deletes: string[] = []
    cache.events$.subscribe((event) => event.type === 'delete' && deletes.push(event.key))
    const deleting = cache.delete('k0') // the store is still opening: memory is empty
    expect(deletes).toEqual([])
    expect(await deleting).toBe(true)
    expect(deletes).toEqual(['k0'])
    expect(cache.stats().deletes).toBe(1)
    expect(await cache.delete('k0')).toBe(false)
    expect(cache.stats().deletes).toBe(1)
    await cache.close()
  })

  it('tells cold hits, demotions to cold and promotions from cold on events$', async () => {
    // LRU in memory: k0 must reach the disk, whatever the default policy's admission makes of 30 keys seen once.
    const cache = createCache<string>(layered(await tempDir(), { hot: { maxEntries: 2, policy: 'lru' }, warm: { maxBytes: 2000, policy: 'lru' } }))
    await cache.ready
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    for (let i = 0; i < 30; i++) await cache.set(`k${i}`, `value ${i} `.repeat(10))
    await cache.checkpoint()
    await cache.get('k0')
    expect(events).toContainEqual(expect.objectContaining({ type: 'demote', from: 'warm', to: 'cold' }))
    expect(events).toContainEqual(expect.objectContaining({ type: 'hit', key: 'k0', tier: 'cold' }))
    expect(events).toContainEqual(expect.objectContaining({ type: 'promote', key: 'k0', from: 'cold', to: 'hot' }))
    await cache.close()
  })

  it('persists what only memory held at checkpoint and close', async () => {
    const dir = await tempDir()
    const cache = createCache<string>({ cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    await cache.set('a', 'in hot only')
    expect(cache.stats().tiers.cold.entries).toBe(0)
    await cache.checkpoint()
    expect(cache.stats().tiers.cold.entries).toBe(1)
    await cache.set('b', 'written after the checkpoint')
    await cache.close()
    const reopened = createCache<string>({ cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    expect(await reopened.getMany(['a', 'b'])).toEqual(['in hot only', 'written after the checkpoint'])
    expect(reopened.stats().tiers.cold).toMatchObject({ entries: 2, hits: 2 })
    expect(reopened.stats().tiers.cold.diskBytes).toBeGreaterThan(0)
    await reopened.close()
  })

  it('clears the disk too', async () => {
    const dir = await tempDir()
    const cache = createCache<number>(layered(dir))
    for (let i = 0; i < 30; i++) await cache.set(`k${i}`, i)
    await cache.checkpoint()
    await cache.clear()
    expect(await cache.get('k5')).toBeUndefined()
    await cache.close()
    const reopened = createCache<number>(layered(dir))
    expect(await reopened.get('k5')).toBeUndefined()
    expect(reopened.stats().tiers.cold.entries).toBe(0)
    await reopened.close()
  })

  it('puts a value too large for hot and warm straight onto the disk', async () => {
    const cache = createCache<Uint8Array>({
      hot: { maxBytes: 1000 },
      warm: { maxBytes: 2000 },
      cold: { dir: await tempDir(), segmentBytes: 64 * 1024, maxBytes: 16 << 20 },
    })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    const big = noise(10_000)
    await cache.set('big', big)
    expect(events.filter((event) => event.type === 'evict')).toEqual([])
    expect(cache.stats().tiers).toMatchObject({ hot: { entries: 0 }, warm: { entries: 0 }, cold: { entries: 1 } })
    expect(await cache.get('big')).toEqual(big)
    await cache.close()
  })

  it('works without a warm tier: hot evictions go straight to disk', async () => {
    const cache = createCache<number>({ hot: { maxEntries: 2 }, cold: { dir: await tempDir(), segmentBytes: 4096, maxBytes: 1 << 20 } })
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, i)
    expect(cache.stats()).toMatchObject({ demotions: 8, evictions: 0 })
    for (let i = 0; i < 10; i++) expect(await cache.get(`k${i}`)).toBe(i)
    await cache.close()
  })
})

describe('watching a key that only the disk holds', () => {
  it('first emits the value read from disk, without counting a get or promoting it', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await first.set('k', 'on disk')
    await first.close()
    const cache = createCache<string>(layered(dir))
    const seen: (string | undefined)[] = []
    const subscription = cache.watch('k').subscribe((value) => seen.push(value))
    expect(seen).toEqual([]) // nothing until the disk has answered
    await cache.ready
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toEqual(['on disk'])
    // Read as peek reads memory: not a get, and not moved up.
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, promotions: 0, tiers: { hot: { entries: 0 } } })
    await cache.set('k', 'next')
    expect(seen).toEqual(['on disk', 'next'])
    subscription.unsubscribe()
    await cache.close()
  })

  it('emits the newer value when a write overtakes the disk read', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await first.set('k', 'on disk')
    await first.close()
    const cache = createCache<string>(layered(dir))
    const seen: (string | undefined)[] = []
    cache.watch('k').subscribe((value) => seen.push(value))
    await cache.set('k', 'written meanwhile')
    await cache.ready
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toEqual(['written meanwhile'])
    await cache.close()
  })
})

describe('bad input and faults with a cold tier', () => {
  it('rejects a value too large for a segment with E_INVALID_VALUE, keeping the old value', async () => {
    const cache = createCache<Uint8Array | string>({ cold: { dir: await tempDir(), segmentBytes: 4096, maxBytes: 1 << 20 } })
    await cache.set('k', 'small')
    await expect(cache.set('k', noise(10_000))).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.get('k')).toBe('small')
    await cache.close()
  })

  it('rejects ready with E_IO naming the directory when it cannot be created, and serves from memory without the disk', async () => {
    const parent = await tempDir()
    const file = join(parent, 'a-file')
    await writeFile(file, 'not a directory')
    const dir = join(file, 'store')
    const cache = createCache<number>({ cold: { dir } })
    await expect(cache.ready).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining(dir) })
    expect(cache.stats().tiers.cold.state).toBe('degraded')
    expect(await cache.get('k')).toBeUndefined()
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    await cache.close()
  })

  it('refuses a directory another cache holds with E_LOCKED', async () => {
    const dir = await tempDir()
    const first = createCache<number>({ cold: { dir } })
    await first.ready
    const second = createCache<number>({ cold: { dir } })
    await expect(second.ready).rejects.toMatchObject({ code: 'E_LOCKED' })
    await second.close()
    await first.close()
    const third = createCache<number>({ cold: { dir } })
    await third.ready
    await third.close()
  })

  it.each([
    ['cold.dir', { cold: { dir: '' } }],
    ['cold.fsync', { cold: { dir: '/tmp/x', fsync: 'sometimes' } }],
    ['cold.maxBytes', { cold: { dir: '/tmp/x', maxBytes: -1 } }],
    ['cold.fsyncInterval', { cold: { dir: '/tmp/x', fsyncInterval: 0 } }],
    ['cold.compactionThreshold', { cold: { dir: '/tmp/x', compactionThreshold: 2 } }],
    ['cold.size', { cold: { dir: '/tmp/x', size: 1 } }],
    ['cold', { cold: 'yes' }],
  ])('throws E_INVALID_OPTIONS naming %s', (name, options) => {
    expect(() => createCache(options as never)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'${name}'`) }))
  })

  it('reports a corrupt record as an E_CORRUPT error event and serves the rest', async () => {
    const dir = await tempDir()
    const cache = createCache<string>({ cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, `value-${i}-${'x'.repeat(100)}`)
    await cache.close()
    const segment = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort()[0]
    const { open } = await import('node:fs/promises')
    const handle = await open(join(dir, segment), 'r+')
    const { size } = await handle.stat()
    const at = Math.floor(size / 2)
    const byte = Buffer.alloc(1)
    await handle.read(byte, 0, 1, at)
    byte[0] ^= 0xff
    await handle.write(byte, 0, 1, at)
    await handle.close()
    for (const hint of (await readdir(dir)).filter((name) => name.endsWith('.hint'))) await rm(join(dir, hint))
    const reopened = createCache<string>({ cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    const errors: CacheEvent[] = []
    reopened.events$.subscribe((event) => event.type === 'error' && errors.push(event))
    await reopened.ready
    const answers = await reopened.getMany(Array.from({ length: 20 }, (_, i) => `k${i}`))
    const served = answers.filter((answer, i) => answer === `value-${i}-${'x'.repeat(100)}`).length
    expect(served).toBe(19)
    expect(answers.every((answer, i) => answer === undefined || answer === `value-${i}-${'x'.repeat(100)}`)).toBe(true)
    expect(errors).toContainEqual(expect.objectContaining({ error: expect.objectContaining({ code: 'E_CORRUPT' }) }))
    await reopened.close()
  })
})
