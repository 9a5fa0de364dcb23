// A disk tier that fails degrades: the cache serves from memory, says so
// (`degraded`, stats state), retries, and says when the disk works again
// (`recovered`). Real filesystems on real mounts (we run as root, which
// permissions do not stop): a tmpfs remounted read-only, and one filled up.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../../src/index.js'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import { mountTmpfs, type Tmpfs } from '../../adversary/helpers/tmpfs.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const run = promisify(execFile)
const FS_BYTES = 2 << 20
let fs: Tmpfs
let n = 0
beforeAll(async () => {
  fs = await mountTmpfs(FS_BYTES)
})
afterAll(async () => {
  await fs?.unmount()
})
afterEach(() => {
  vi.restoreAllMocks()
})

/** A fresh store directory on the small filesystem, the previous ones removed so each test has the room to itself. */
async function storeDir(): Promise<string> {
  await rm(join(fs.dir, `store-${n}`), { recursive: true, force: true })
  const dir = join(fs.dir, `store-${++n}`)
  await mkdir(dir)
  return dir
}

const remount = (mode: 'ro' | 'rw'): Promise<unknown> => run('mount', ['-o', `remount,${mode}`, fs.dir])
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const until = async (what: string, condition: () => boolean, ms = 10_000): Promise<void> => {
  for (const start = Date.now(); !condition(); await sleep(5)) if (Date.now() - start > ms) throw new Error(`not in ${ms} ms: ${what}`)
}

const bigs = new Map<string, string>()
/** More than a page even compressed: a write of it needs room that a full filesystem no longer has. */
const big = (label: string): string => {
  let value = bigs.get(label)
  if (value === undefined) bigs.set(label, (value = `${label} ${randomBytes(4500).toString('base64')}`))
  return value
}

interface Watched {
  cache: Cache<string>
  events: CacheEvent[]
}

function open(options: CacheOptions<string>): Watched {
  const cache = createCache<string>(options)
  const events: CacheEvent[] = []
  cache.events$.subscribe((event) => events.push(event))
  return { cache, events }
}

const kinds = (events: CacheEvent[]): string[] => events.flatMap((e) => (e.type === 'degraded' || e.type === 'recovered' ? [e.type] : []))

describe('a disk tier that fails degrades, and recovers', () => {
  it('a first open refused (read-only filesystem): ready rejects, memory serves, and once writable the disk opens with every key written or deleted meanwhile masking its older copy', async () => {
    const dir = await storeDir()
    const options: CacheOptions<string> = { hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 64 * 1024 } }
    const before = createCache<string>(options)
    for (const key of ['k', 'd', 'kept']) await before.set(key, `${key} v1`)
    await before.close() // all three on disk
    await remount('ro')
    let reopened: Cache<string> | undefined
    const { cache, events } = open(options)
    try {
      await expect(cache.ready).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining(dir) })
      expect(cache.stats().tiers.cold.state).toBe('degraded')
      expect(events.filter((e) => e.type === 'degraded')).toMatchObject([{ tier: 'cold', error: { code: 'E_IO' } }])
      // Memory serves; the disk is skipped.
      expect(await cache.get('kept')).toBeUndefined()
      await cache.set('k', 'k v2')
      expect(await cache.get('k')).toBe('k v2')
      expect(await cache.delete('d')).toBe(false)
      await cache.set('x', 'x v1')
      await cache.set('y', 'y v1') // k v2 leaves memory: the disk cannot take it
      expect(events.filter((e) => e.type === 'evict' && e.key === 'k')).toMatchObject([{ tier: 'hot', reason: 'io' }])
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.has('d')).toBe(false)
      await expect(cache.checkpoint()).rejects.toMatchObject({ code: 'E_IO' })

      await remount('rw')
      await until('recovered', () => cache.stats().tiers.cold.state === 'ok')
      expect(kinds(events)).toEqual(['degraded', 'recovered'])
      // k's v1 and d's v1 are on disk, older than what was acknowledged since: never read again.
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.get('d')).toBeUndefined()
      expect(await cache.get('kept')).toBe('kept v1')
      // Writes reach the disk again.
      await cache.set('z', 'z v1')
      await cache.set('w', 'w v1') // x goes down to the disk
      await cache.checkpoint()
      await cache.close()
      reopened = createCache<string>(options)
      expect(await reopened.getMany(['k', 'd', 'kept', 'x', 'y', 'z', 'w'])).toEqual([undefined, undefined, 'kept v1', 'x v1', 'y v1', 'z v1', 'w v1'])
    } finally {
      await remount('rw').catch(() => undefined)
      await cache.close().catch(() => undefined)
      await reopened?.close()
    }
  }, 30_000)

  it('a disk that fills up mid-run: degraded while full (memory serves, and the disk what it holds; evictions leave with reason io), recovered once room is freed, and no read older than the last acknowledged write, then or after a restart', async () => {
    const dir = await storeDir()
    const options: CacheOptions<string> = { hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } }
    const { cache, events } = open(options)
    const filler = join(fs.dir, 'filler')
    let reopened: Cache<string> | undefined
    try {
      await cache.ready
      expect(cache.stats().tiers.cold.state).toBe('ok')
      for (const key of ['k', 'd', 'kept']) await cache.set(key, big(`${key} v1`))
      await cache.checkpoint() // all three on disk
      await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
      for (let i = 0; i < 4; i++) await cache.set(`a${i}`, big(`a${i} v1`))
      await until('degraded', () => cache.stats().tiers.cold.state === 'degraded')
      expect(events.filter((e) => e.type === 'degraded')).toMatchObject([{ tier: 'cold', error: { code: 'E_IO' } }])

      // While full: writes and deletes succeed in memory, memory serves, what leaves memory leaves the cache.
      await cache.set('k', big('k v2'))
      expect(await cache.delete('d')).toBe(true) // its disk copy was its value
      expect(await cache.get('k')).toBe(big('k v2'))
      // What the disk holds it still serves: a full disk reads as well as ever.
      expect(await cache.get('kept')).toBe(big('kept v1'))
      await cache.set('b0', 'b0 v1')
      await cache.set('b1', 'b1 v1') // k v2 leaves memory
      expect(events.filter((e) => e.type === 'evict' && e.key === 'k')).toMatchObject([{ reason: 'io' }])
      expect(await cache.get('k')).toBeUndefined()
      // The retry 1 s after the failure finds the filesystem still full.
      await sleep(1500)
      expect(cache.stats().tiers.cold.state).toBe('degraded')

      await rm(filler)
      await until('recovered', () => cache.stats().tiers.cold.state === 'ok')
      expect(kinds(events)).toEqual(['degraded', 'recovered'])
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.get('d')).toBeUndefined()
      const disk = cache.stats().tiers.cold.diskBytes
      await cache.set('c0', big('c0 v1'))
      await cache.set('c1', big('c1 v1'))
      await cache.set('c2', big('c2 v1'))
      await cache.checkpoint()
      expect(cache.stats().tiers.cold.diskBytes).toBeGreaterThan(disk)
      await cache.close()
      reopened = createCache<string>(options)
      expect(await reopened.getMany(['k', 'd', 'kept', 'c0', 'b1'])).toEqual([undefined, undefined, big('kept v1'), big('c0 v1'), 'b1 v1'])
    } finally {
      await rm(filler, { force: true })
      await cache.close().catch(() => undefined)
      await reopened?.close()
    }
  }, 30_000)

  it('a clear while the first open is refused is owed: once the disk opens, nothing from before the clear is read, then or after a restart', async () => {
    const dir = await storeDir()
    const options: CacheOptions<string> = { hot: { maxEntries: 4 }, cold: { dir, segmentBytes: 64 * 1024 } }
    const before = createCache<string>(options)
    await before.set('old', 'old v1')
    await before.set('also', 'also v1')
    await before.close()
    await remount('ro')
    const { cache } = open(options)
    let reopened: Cache<string> | undefined
    try {
      await expect(cache.ready).rejects.toMatchObject({ code: 'E_IO' })
      await cache.clear()
      await cache.set('new', 'new v1')
      expect(await cache.deleteByTag('any')).toBe(0)
      await remount('rw')
      await until('recovered', () => cache.stats().tiers.cold.state === 'ok')
      expect(await cache.getMany(['old', 'also', 'new'])).toEqual([undefined, undefined, 'new v1'])
      await cache.close()
      reopened = createCache<string>(options)
      expect(await reopened.getMany(['old', 'also', 'new'])).toEqual([undefined, undefined, 'new v1'])
    } finally {
      await remount('rw').catch(() => undefined)
      await cache.close().catch(() => undefined)
      await reopened?.close()
    }
  }, 30_000)

  it('retries a refused open after 1 s, then 2, 4, 8, 16 and 30 s at most between attempts, in virtual time, and recovers when the directory is free', async () => {
    const dir = await storeDir()
    const holder = createCache<string>({ cold: { dir } })
    await holder.ready
    const clock = new VirtualClock()
    const opens = vi.spyOn(ColdStore, 'open')
    const { cache, events } = open({ scheduler: clock, cold: { dir } })
    try {
      await expect(cache.ready).rejects.toMatchObject({ code: 'E_LOCKED' })
      expect(opens).toHaveBeenCalledTimes(1)
      let now = 0
      const attempts = [1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000]
      for (const [i, at] of attempts.entries()) {
        clock.advance(at - 1 - now)
        expect(opens, `no attempt before ${at} ms`).toHaveBeenCalledTimes(i + 1)
        clock.advance(1)
        now = at
        expect(opens, `attempt at ${at} ms`).toHaveBeenCalledTimes(i + 2)
        // It fails (E_LOCKED) and the next attempt is put on the clock.
        await until(`attempt at ${at} failed`, () => clock.pending === 1)
      }
      expect(cache.stats().tiers.cold.state).toBe('degraded')
      await holder.close()
      clock.advance(30_000)
      await until('recovered', () => cache.stats().tiers.cold.state === 'ok')
      expect(events.filter((e) => e.type === 'degraded' || e.type === 'recovered')).toMatchObject([
        { type: 'degraded', tier: 'cold', error: { code: 'E_LOCKED' }, at: 0 },
        { type: 'recovered', tier: 'cold', at: 121_000 },
      ])
      await cache.set('k', 'v')
      await cache.checkpoint()
      await cache.close()
      expect(clock.pending).toBe(0)
    } finally {
      await holder.close()
      await cache.close().catch(() => undefined)
    }
  }, 30_000)

  it('closed while degraded, it leaves nothing open: no action on the scheduler, the directory released', async () => {
    const dir = await storeDir()
    const clock = new VirtualClock()
    const options: CacheOptions<string> = { scheduler: clock, hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 64 * 1024 } }
    const { cache } = open(options)
    const filler = join(fs.dir, 'filler')
    try {
      await cache.ready
      await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
      for (let i = 0; i < 4; i++) await cache.set(`a${i}`, big(`a${i} v1`))
      for (let i = 0; i < 50 && cache.stats().tiers.cold.state !== 'degraded'; i++) {
        clock.advance(10) // the demotion batch goes out, and fails
        await sleep(10)
      }
      expect(cache.stats().tiers.cold.state).toBe('degraded')
      // Its checkpoint cannot write memory's entries down: the close says so, and still releases everything.
      await expect(cache.close()).rejects.toMatchObject({ code: 'E_IO' })
      expect(clock.pending).toBe(0)
      await rm(filler)
      const next = createCache<string>({ cold: { dir } })
      await next.ready
      await next.close()
    } finally {
      await rm(filler, { force: true })
      await cache.close().catch(() => undefined)
    }
  }, 30_000)
})
