import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type CacheEvent, createCache, isCacheError } from '../../src/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'
import { RecordingSource, settle } from './writer-helpers.js'

const dirs: string[] = []
const fresh = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-writeback-'))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  vi.restoreAllMocks()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A write-back cache in memory (no journal) on a virtual clock. */
function inMemory(source: RecordingSource<number>, over: Record<string, unknown> = {}, cacheOver: Record<string, unknown> = {}) {
  const clock = new VirtualClock()
  const cache = createCache<number>({
    scheduler: clock,
    writer: { mode: 'back', write: source.write, journal: false, flushInterval: 1000, ...over },
    ...cacheOver,
  })
  const advance = async (ms: number): Promise<void> => {
    clock.advance(ms)
    for (let i = 0; i < 5; i++) await settle()
  }
  return { cache, clock, advance }
}

describe('write-back', () => {
  it('acknowledges a set before the source has it, and writes each key’s last op once flushInterval has passed', async () => {
    const source = new RecordingSource<number>()
    const { cache, advance } = inMemory(source)
    const flushes: CacheEvent[] = []
    cache.events$.subscribe((e) => e.type === 'flush' && flushes.push(e))
    await cache.set('a', 1)
    await cache.set('a', 2)
    await cache.set('b', 3)
    expect(await cache.get('a')).toBe(2)
    expect(cache.stats()).toMatchObject({ dirty: 2, written: 0, coalesced: 1 })
    await advance(999)
    expect(source.calls).toEqual([])
    await advance(1)
    expect(source.written).toEqual([['a=2', 'b=3']])
    expect(cache.stats()).toMatchObject({ dirty: 0, written: 2, coalesced: 1 })
    expect(flushes).toEqual([{ type: 'flush', count: 2, ms: 0, at: 1000 }])
    await cache.close()
  })

  it('reads a dirty key the tiers let go from its dirty value, and a dirty delete as a miss, without calling the loader', async () => {
    const source = new RecordingSource<number>()
    source.data.set('a', 100)
    let loads = 0
    const loader = (key: string) => (loads++, source.data.get(key))
    const { cache, advance } = inMemory(source, {}, { hot: { maxEntries: 1 }, loader })
    await cache.set('a', 1)
    await cache.set('b', 2)
    await cache.set('c', 3)
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, 2, 3])
    expect(await cache.getOrSet('a', () => -1)).toBe(1)
    await cache.delete('a')
    expect(await cache.get('a')).toBeUndefined()
    expect(loads).toBe(0)
    await advance(1000)
    // Written: the key is clean, and the source is read again.
    source.data.set('a', 7)
    expect(await cache.get('a')).toBe(7)
    expect(loads).toBe(1)
    await cache.close()
  })

  it('waits, for a dirty value whose time to live has passed, until its write has ended, then reads through', async () => {
    const source = new RecordingSource<number>()
    const loader = (key: string) => source.data.get(key)
    const { cache, advance } = inMemory(source, {}, { loader })
    await cache.set('a', 1, { ttl: 100 })
    await advance(100)
    let read: number | undefined | 'pending' = 'pending'
    void cache.get('a').then((value) => (read = value))
    await advance(899)
    expect(read).toBe('pending')
    await advance(1)
    expect(read).toBe(1)
    await cache.close()
  })

  it('writes delete and deleteMany to the source; eviction, expiry, deleteByTag and loaded values stay in the cache', async () => {
    const source = new RecordingSource<number>()
    source.data.set('loaded', 5)
    const { cache, advance } = inMemory(source, {}, { hot: { maxEntries: 2 }, loader: (key: string) => source.data.get(key) })
    expect(await cache.get('loaded')).toBe(5)
    expect(await cache.getOrSet('made', () => 6)).toBe(6)
    await cache.set('t', 1, { tags: ['x'], ttl: 10 })
    await advance(1000)
    expect(source.written).toEqual([['t=1']])
    await cache.set('t', 2, { tags: ['x'] })
    await advance(1000)
    await cache.deleteByTag('x')
    await cache.set('u', 3)
    await cache.delete('u')
    await cache.set('v', 4)
    await cache.set('w', 5)
    await cache.deleteMany(['v', 'w', 'nothing'])
    await advance(1000)
    expect(source.written).toEqual([['t=1'], ['t=2'], ['-u', '-v', '-w', '-nothing']])
    await cache.close()
  })

  it('flushes on clear() before emptying the tiers, and on flush() at once', async () => {
    const source = new RecordingSource<number>()
    const { cache } = inMemory(source)
    await cache.set('a', 1)
    await cache.flush()
    expect(source.written).toEqual([['a=1']])
    await cache.set('b', 2)
    await cache.clear()
    expect(source.written).toEqual([['a=1'], ['b=2']])
    expect(await cache.get('b')).toBeUndefined()
    await cache.close()
  })

  it('rejects flush() with E_WRITER after the retries, reports write-error, keeps the op dirty and writes it at the next interval', async () => {
    const source = new RecordingSource<number>()
    source.failures = 2
    const { cache, advance } = inMemory(source, { retry: { attempts: 2, baseDelay: 10, maxDelay: 10 } })
    const errors: CacheEvent[] = []
    cache.events$.subscribe((e) => e.type === 'write-error' && errors.push(e))
    await cache.set('a', 1)
    const flushed = cache.flush()
    flushed.catch(() => undefined)
    await advance(0)
    await advance(10)
    const error = await flushed.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isCacheError(error, 'E_WRITER')).toBe(true)
    expect((error as Error).cause).toEqual(new Error('source down'))
    expect(errors).toMatchObject([{ type: 'write-error', keys: ['a'], error: { code: 'E_WRITER' } }])
    expect(cache.stats()).toMatchObject({ dirty: 1, writeRetries: 1, writeErrors: 1, written: 0 })
    expect(await cache.get('a')).toBe(1)
    await advance(1000)
    expect(source.written).toEqual([['a=1'], ['a=1'], ['a=1']])
    expect(cache.stats()).toMatchObject({ dirty: 0, written: 1 })
    await cache.close()
  })

  it('past maxDirty under onFull reject, refuses a write with E_BACKPRESSURE and changes nothing', async () => {
    const source = new RecordingSource<number>()
    const { cache } = inMemory(source, { maxDirty: 2, onFull: 'reject' })
    await cache.set('a', 1)
    await cache.set('b', 2)
    await expect(cache.set('c', 3)).rejects.toMatchObject({ code: 'E_BACKPRESSURE' })
    expect(await cache.get('c')).toBeUndefined()
    expect(cache.stats().dirty).toBe(2)
    await cache.close()
  })

  it('past maxDirty under onFull wait, makes a write wait until a batch written at once made room', async () => {
    const source = new RecordingSource<number>()
    let open!: () => void
    source.gate = new Promise((resolve) => (open = resolve))
    const { cache } = inMemory(source, { maxDirty: 2, flushInterval: 60_000 })
    await cache.set('a', 1)
    await cache.set('b', 2)
    let done = false
    const c = cache.set('c', 3).then(() => (done = true))
    for (let i = 0; i < 5; i++) await settle()
    expect(source.written).toEqual([['a=1', 'b=2']])
    expect(done).toBe(false)
    open()
    await c
    expect(await cache.get('c')).toBe(3)
    await cache.close()
  })

  it('close() writes what is dirty; with the source hanging past closeTimeout it aborts the write, and leaves no timer', async () => {
    const source = new RecordingSource<number>()
    const { cache: quick } = inMemory(source)
    await quick.set('a', 1)
    await quick.close()
    expect(source.written).toEqual([['a=1']])

    const hanging = new RecordingSource<number>()
    hanging.gate = new Promise(() => undefined)
    const { cache, clock, advance } = inMemory(hanging, {}, { closeTimeout: 500 })
    await cache.set('b', 2)
    let closed = false
    const closing = cache.close().then(() => (closed = true))
    await advance(0)
    await advance(499)
    expect(closed).toBe(false)
    await advance(1)
    await closing
    expect(hanging.signals[0]?.aborted).toBe(true)
    expect(clock.pending).toBe(0)
  })
})

describe('write-back with a journal', () => {
  it('replays at the next open what a close could not write: visible to reads, then written', async () => {
    const dir = await fresh()
    const down = new RecordingSource<number>()
    down.failures = Infinity
    const first = createCache<number>({ closeTimeout: 100, writer: { mode: 'back', write: down.write, journal: dir, retry: { attempts: 1 } } })
    await first.set('a', 1)
    await first.set('b', 2)
    await first.delete('b')
    await first.close()
    const source = new RecordingSource<number>()
    source.data.set('b', 99)
    const second = createCache<number>({ writer: { mode: 'back', write: source.write, journal: dir }, loader: (key) => source.data.get(key) })
    // Read at once: the read waits for the replay, and does not load the source's older value.
    expect(await second.get('a')).toBe(1)
    expect(await second.get('b')).toBeUndefined()
    expect(second.stats().dirty).toBe(2)
    await second.flush()
    expect(source.written).toEqual([['a=1', '-b']])
    await second.close()
    expect((await readdir(dir)).filter((name) => name.endsWith('.log'))).toEqual([])
  })

  it('rejects a set whose journal write fails with E_IO, and leaves the cache as it was', async () => {
    const dir = await fresh()
    const source = new RecordingSource<number>()
    const cache = createCache<number>({ writer: { mode: 'back', write: source.write, journal: dir } })
    await cache.set('a', 1)
    const { open } = await import('node:fs/promises')
    const probe = await open(join(dir, 'probe'), 'w')
    await probe.close()
    vi.spyOn(Object.getPrototypeOf(probe), 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))
    await expect(cache.set('a', 2)).rejects.toMatchObject({ code: 'E_IO' })
    await expect(cache.set('b', 2)).resolves.toBeUndefined()
    expect(await cache.get('a')).toBe(1)
    expect(cache.stats().dirty).toBe(2)
    await cache.close()
  })

  it('keeps its journal in cold.dir/journal by default, locked by one cache; the cold tier and the verify command ignore it', async () => {
    const dir = await fresh()
    const down = new RecordingSource<number>()
    down.failures = Infinity
    const options = { cold: { dir }, closeTimeout: 50, writer: { mode: 'back' as const, write: down.write, retry: { attempts: 1 } } }
    const cache = createCache<number>(options)
    await cache.set('a', 1)
    const other = createCache<number>({ writer: { mode: 'back', write: down.write, journal: join(dir, 'journal') } })
    await expect(other.ready).rejects.toMatchObject({ code: 'E_LOCKED' })
    await other.close().catch(() => undefined)
    await cache.close()
    expect((await readdir(join(dir, 'journal'))).some((name) => name.endsWith('.log'))).toBe(true)
    const { execFile } = await import('node:child_process')
    const root = join(import.meta.dirname, '../..')
    const verified = await new Promise<number>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify', dir], { cwd: root }, (error) =>
        resolve(error === null ? 0 : Number(error.code)),
      ),
    )
    expect(verified).toBe(0)
    const reopened = createCache<number>(options)
    expect(await reopened.get('a')).toBe(1)
    await reopened.close()
  })
})

describe('writer options', () => {
  it.each([
    [{ write: 1 }, 'writer.write'],
    [{ write: async () => {}, mode: 'later' }, 'writer.mode'],
    [{ write: async () => {}, batchSize: 0 }, 'writer.batchSize'],
    [{ write: async () => {}, flushInterval: -1 }, 'writer.flushInterval'],
    [{ write: async () => {}, maxDirty: 1.5 }, 'writer.maxDirty'],
    [{ write: async () => {}, onFull: 'drop' }, 'writer.onFull'],
    [{ write: async () => {}, retry: { attempts: 0 } }, 'writer.retry.attempts'],
    [{ write: async () => {}, retry: { baseDelay: 100, maxDelay: 10 } }, 'writer.retry.maxDelay'],
    [{ write: async () => {}, journal: 7 }, 'writer.journal'],
    [{ write: async () => {}, when: 1 }, 'writer.when'],
  ])('refuses %o naming %s', (writer, name) => {
    expect(() => createCache({ writer: writer as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'${name}'`) }),
    )
  })

  it('refuses a journal with values any: the journal holds values as bytes', () => {
    expect(() => createCache({ values: 'any', writer: { mode: 'back', write: async () => {}, journal: '/tmp/j' } })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'writer.journal'`) }),
    )
  })

  it('refuses a negative closeTimeout', () => {
    expect(() => createCache({ closeTimeout: -1 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'closeTimeout'`) }),
    )
  })
})
