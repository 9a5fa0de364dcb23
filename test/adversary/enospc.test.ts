// A disk that fills up: a real 2 MiB tmpfs under a cache whose disk budget is
// larger, so writes fail with ENOSPC as they would in production.
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../src/index.js'
import { type Stamped, stamped, versionOf } from './helpers/stamped.js'
import { mountTmpfs, type Tmpfs } from './helpers/tmpfs.js'

const FS_BYTES = 2 << 20
let fs: Tmpfs
let n = 0
beforeAll(async () => {
  fs = await mountTmpfs(FS_BYTES)
})
afterAll(async () => {
  await fs?.unmount()
})

/** A fresh store directory on the small filesystem, the previous ones removed so each test has the room to itself. */
async function storeDir(): Promise<string> {
  await rm(join(fs.dir, `store-${n}`), { recursive: true, force: true })
  const dir = join(fs.dir, `store-${++n}`)
  await mkdir(dir)
  return dir
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** How long a write that fails in the background may take to say so, on a loaded machine. */
const FAILED_WRITE = { timeout: 10_000, interval: 10 }

const options = (dir: string, fsync: 'always' | 'interval' | 'never' = 'interval'): CacheOptions<Stamped> => ({
  hot: { maxEntries: 4 },
  warm: { maxBytes: 16 * 1024 },
  cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20, fsync, fsyncInterval: 50 },
})

interface Watched {
  cache: Cache<Stamped>
  events: CacheEvent[]
}

function open(dir: string, fsync?: 'always' | 'interval' | 'never'): Watched {
  const cache = createCache<Stamped>(options(dir, fsync))
  const events: CacheEvent[] = []
  cache.events$.subscribe((e) => events.push(e))
  return { cache, events }
}

const version = (key: string, value: Stamped | undefined): number | undefined => (value === undefined ? undefined : versionOf(key, value))

describe('the adversary: a disk that fills up (ENOSPC on a 2 MiB tmpfs)', () => {
  it('a newer value lost to a failed write never lets the older disk copy come back after a restart', async () => {
    const dir = await storeDir()
    const lru = (): CacheOptions<Stamped> => ({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    let cache = createCache<Stamped>(lru())
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.ready
    await cache.set('k', stamped('k', 1, 5000))
    await cache.checkpoint() // v1 durable on disk
    // Leave the filesystem no room, then push v2 out of memory: its demotion fails with ENOSPC.
    const filler = join(fs.dir, 'filler')
    await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
    await cache.set('k', stamped('k', 2, 5000)) // more than a page: its write needs room the filesystem no longer has
    await cache.set('a', stamped('a', 1))
    await cache.set('b', stamped('b', 1))
    // The demotion fails in the background: wait for it however busy the machine is.
    const errorCodes = (): string[] => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []))
    await vi.waitFor(() => expect(errorCodes().length, 'the write of v2 failed').toBeGreaterThan(0), FAILED_WRITE)
    expect(errorCodes().filter((code) => code !== 'E_IO')).toEqual([])
    const now = version('k', await cache.get('k'))
    expect(now === undefined || now === 2, `read v${now} after v2 was written`).toBe(true)
    await rm(filler)
    await cache.close()
    cache = createCache<Stamped>(lru())
    const after = version('k', await cache.get('k'))
    expect(after === undefined || after === 2, `after a restart: read v${after}, older than the acknowledged v2`).toBe(true)
    await cache.close()
  }, 30_000)

  it('a clear() that fails on a full disk never brings an older disk copy back', async () => {
    const dir = await storeDir()
    const cache = createCache<Stamped>({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 512, maxBytes: 4096 } })
    await cache.ready
    await cache.set('k', stamped('k', 1))
    await cache.checkpoint() // v1 on disk
    const filler = join(fs.dir, 'filler')
    await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
    try {
      await cache.set('k', stamped('k', 2))
      const cleared = await cache.clear().then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      )
      const after = version('k', await cache.get('k'))
      expect(after, `clear() ${cleared}; then get(k) read v${after}, older than the acknowledged v2`).not.toBe(1)
    } finally {
      await rm(filler)
      await cache.close().catch(() => undefined)
    }
  }, 30_000)

  it('a clear owed at close, on a disk with no room even for its reserve: the disk is emptied, and no older value comes back after a restart', async () => {
    const dir = await storeDir()
    const lru = (): CacheOptions<Stamped> => ({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 512, maxBytes: 4096, fsync: 'always' } })
    let cache = createCache<Stamped>(lru())
    await cache.ready
    await cache.set('k', stamped('k', 1, 300))
    await cache.checkpoint() // v1 on disk
    // As when the disk was too full to keep the reserve at open.
    await rm(join(dir, 'RESERVE'))
    const filler = join(fs.dir, 'filler')
    await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
    await cache.set('k', stamped('k', 2, 300))
    await cache.clear().catch(() => undefined) // the barrier needs a new segment: refused, and owed
    const closed = await cache.close().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    )
    await rm(filler)
    cache = createCache<Stamped>(lru())
    await cache.ready
    const after = version('k', await cache.get('k'))
    expect(after, `close ${closed}; after a restart: read v${after}, from before the clear`).toBeUndefined()
    await cache.close()
  }, 30_000)

  it('tombstones owed at close, on a disk with no room even for its reserve: the disk is emptied, what it held reported gone, and no older value comes back', async () => {
    const dir = await storeDir()
    const lru = (): CacheOptions<Stamped> => ({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 512, maxBytes: 1 << 20, fsync: 'always' } })
    let cache = createCache<Stamped>(lru())
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.ready
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
    for (const key of [...keys, 'other']) await cache.set(key, stamped(key, 1, 100))
    await cache.checkpoint() // every v1 on disk
    await rm(join(dir, 'RESERVE'))
    const filler = join(fs.dir, 'filler')
    await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
    // The v2s cannot reach the disk: each leaves memory (evict, io) or is lost at close, and the disk owes a tombstone for each v1.
    for (const key of keys) await cache.set(key, stamped(key, 2, 100))
    const closed = await cache.close().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    )
    expect(closed, 'the checkpoint cannot write the v2s').toBe('E_IO')
    const gone = new Set(events.flatMap((e) => (e.type === 'evict' ? [e.key] : [])))
    await rm(filler)
    cache = createCache<Stamped>(lru())
    await cache.ready
    for (const key of keys) {
      const after = version(key, await cache.get(key))
      expect(after, `after a restart: ${key} read v${after}, older than the acknowledged v2`).not.toBe(1)
    }
    const other = version('other', await cache.get('other'))
    expect(other === 1 || gone.has('other'), 'other: kept, or reported gone').toBe(true)
    await cache.close()
  }, 30_000)

  it('a newer value refused by the disk after a failed checkpoint (evict, reason io) never lets the older disk copy come back after a restart', async () => {
    const dir = await storeDir()
    const lru = (): CacheOptions<Stamped> => ({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 512, maxBytes: 4096 } })
    let cache = createCache<Stamped>(lru())
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.ready
    await cache.set('k', stamped('k', 1, 100))
    await cache.checkpoint() // v1 on disk
    const filler = join(fs.dir, 'filler')
    await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
    await cache.set('k', stamped('k', 2, 300))
    const checkpointed = await cache.checkpoint().then(
      () => 'resolved',
      (error: { code?: string }) => error.code,
    )
    expect(checkpointed, 'the checkpoint cannot write v2').toBe('E_IO')
    await rm(filler)
    // The disk refuses demotions until its next maintenance tick: v2 leaves the cache, reported.
    await cache.set('x', stamped('x', 1))
    await cache.set('y', stamped('y', 1))
    expect(events.filter((e) => e.type === 'evict' && e.key === 'k')).toMatchObject([{ reason: 'io' }])
    await cache.close()
    cache = createCache<Stamped>(lru())
    const after = version('k', await cache.get('k'))
    expect(after, `after a restart: read v${after}, older than the acknowledged v2`).toBeUndefined()
    await cache.close()
  }, 30_000)

  it('an entry whose demotion failed leaves with an evict event (reason io), so that a watcher or a counter knows it is gone', async () => {
    const dir = await storeDir()
    const cache = createCache<Stamped>({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
    const events: CacheEvent[] = []
    cache.events$.subscribe((e) => events.push(e))
    await cache.ready
    const filler = join(fs.dir, 'filler')
    await writeFile(filler, Buffer.alloc(FS_BYTES)).catch(() => undefined)
    const heard: (number | undefined)[] = []
    try {
      await cache.set('k', stamped('k', 1, 5000))
      cache.watch('k').subscribe((value) => heard.push(version('k', value)))
      await cache.set('a', stamped('a', 1))
      await cache.set('b', stamped('b', 1))
      await vi.waitFor(() => {
        expect(events.some((e) => e.type === 'error' && e.error.code === 'E_IO')).toBe(true)
        expect(events.filter((e) => e.type === 'evict' && e.key === 'k')).toMatchObject([{ tier: 'cold', reason: 'io' }])
      }, FAILED_WRITE)
      expect(await cache.get('k')).toBeUndefined()
      expect(cache.stats().evictions).toBe(1)
      expect(heard, 'a watcher of k hears that it is gone').toEqual([1, undefined])
    } finally {
      await rm(filler)
      await cache.close()
    }
  }, 30_000)

  it('fill, overwrite, delete, checkpoint, close, reopen: no value older than the last acknowledged write; every missing entry was reported', async () => {
    const dir = await storeDir()
    // Room held back, given back before close: the cache fills the rest, and its close can then succeed.
    const reserve = join(fs.dir, 'reserve')
    await writeFile(reserve, Buffer.alloc(512 * 1024))
    let { cache, events } = open(dir)
    /** Keys the cache reported gone (an evict event) since their last write. */
    const gone = new Set<string>()
    const follow = (): void => void cache.events$.subscribe((e) => e.type === 'evict' && gone.add(e.key))
    follow()
    await cache.ready
    const KEYS = 160
    /** Per key: its last acknowledged write, a version or 'deleted'. */
    const acked = new Map<string, number | 'deleted'>()
    /** Per key: the version a rejected delete may have left. */
    const uncertainDelete = new Map<string, number>()
    /** Per key: every version acknowledged since the last completed checkpoint, and the one it made durable. */
    const sinceCheckpoint = new Map<string, Set<number | 'deleted' | undefined>>()
    const note = (key: string, v: number | 'deleted'): void => {
      if (!sinceCheckpoint.has(key)) sinceCheckpoint.set(key, new Set([acked.get(key)]))
      sinceCheckpoint.get(key)?.add(v)
    }
    let writes = 0
    let checkpointsRejected = 0
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < KEYS; i++) {
        const key = `k${(i * 7 + round * 13) % KEYS}`
        if ((i + round) % 23 === 0 && acked.has(key)) {
          const prev = acked.get(key)
          const done = await cache.delete(key).then(
            () => true,
            () => false,
          )
          if (done) {
            note(key, 'deleted')
            acked.set(key, 'deleted')
          } else if (typeof prev === 'number') uncertainDelete.set(key, prev)
          continue
        }
        await cache.set(key, stamped(key, ++writes, 3000))
        note(key, writes)
        acked.set(key, writes)
        gone.delete(key)
        uncertainDelete.delete(key)
        if (i % 16 === 15) await sleep(12) // demotion batches go out
      }
      const checkpointed = await cache.checkpoint().then(
        () => true,
        () => false,
      )
      if (checkpointed) sinceCheckpoint.clear()
      else checkpointsRejected++
    }
    // A failed write is told by an error event, or, when a checkpoint's write failed first (its rejection told it), by the degradation it caused.
    const ioErrors = (): number => events.filter((e) => (e.type === 'error' || e.type === 'degraded') && e.error.code === 'E_IO').length
    await vi.waitFor(() => expect(ioErrors(), 'the filesystem filled up').toBeGreaterThan(0), FAILED_WRITE)

    /**
     * A read is the last acknowledged write (or what a rejected delete left),
     * or a miss that is excused; `sinceDurable` also allows what a crash
     * would: the value at the last completed checkpoint, or one acknowledged after it.
     */
    const check = async (where: string, excused: (key: string) => boolean, sinceDurable = false): Promise<string[]> => {
      const wrong: string[] = []
      for (const [key, v] of acked) {
        const got = version(key, await cache.get(key))
        const older = uncertainDelete.get(key)
        const allowed = sinceDurable ? (sinceCheckpoint.get(key) ?? new Set([v])) : new Set([v])
        if (got === undefined) {
          if (!allowed.has('deleted') && !allowed.has(undefined) && older === undefined && !excused(key)) {
            wrong.push(`${key}: missing, v${v} unreported (${where})`)
          }
        } else if (!allowed.has(got) && got !== older) wrong.push(`${key}: read v${got}, last acknowledged ${v} (${where})`)
      }
      return wrong
    }
    // While running, a missing entry is excused by an evict event only.
    expect(await check('running', (key) => gone.has(key))).toEqual([])

    await rm(reserve)
    const closed = await cache.close().then(
      () => true,
      () => false,
    )
    ;({ cache, events } = open(dir))
    follow()
    await cache.ready
    // After reopening, by an evict event, or by a rejected close (then as after a crash, back to the last completed checkpoint).
    const excused = (key: string): boolean => gone.has(key) || !closed
    expect(await check('reopened', excused, !closed), `close ${closed ? 'resolved' : 'rejected'}, ${checkpointsRejected} checkpoints rejected`).toEqual([])
    expect(events.filter((e) => e.type === 'error' && e.error.code === 'E_CORRUPT')).toEqual([])
    await cache.close()
  }, 60_000)
})
