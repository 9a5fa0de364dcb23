import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type CacheEvent, type CacheOptions, createCache } from '../../../src/index.js'
import { spawnScript } from '../../helpers/child-process.js'
import { tempDirs } from '../../helpers/temp-dirs.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const tempDir = tempDirs('strata-cache-supersede-')

/** hot of 2 entries and warm of ~200 bytes: most entries end up on disk. */
const layered = <V>(dir: string, extra: Partial<CacheOptions<V>> = {}): CacheOptions<V> => ({
  hot: { maxEntries: 2 },
  warm: { maxBytes: 1200 }, // about two small entries
  cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 },
  ...extra,
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Reopens the directory and reads the keys, then closes. */
async function afterRestart<V>(options: CacheOptions<V>, keys: string[]): Promise<(V | undefined)[]> {
  const cache = createCache<V>(options)
  const values = await cache.getMany(keys)
  await cache.close()
  return values
}

describe('an acknowledged write or delete supersedes the disk copy for good', () => {
  it('an overwrite that expired never brings back the checkpointed value after a restart', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const cache = createCache<string>(layered(dir, { scheduler: clock }))
    await cache.set('k', 'v1')
    await cache.checkpoint()
    await cache.set('k', 'v2', { ttl: 100 })
    clock.advance(300)
    expect(await cache.get('k')).toBeUndefined()
    await cache.close()
    expect(await afterRestart(layered<string>(dir), ['k'])).toEqual([undefined])
  })

  it('the same when the overwrite expired while it sat in warm', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const cache = createCache<string>(layered(dir, { scheduler: clock }))
    await cache.set('k', 'v1')
    await cache.checkpoint()
    await cache.set('k', 'v2', { ttl: 100 })
    await cache.set('a', 'a')
    await cache.set('b', 'b') // k goes down to warm
    clock.advance(300)
    await cache.checkpoint()
    expect(await cache.get('k')).toBeUndefined()
    await cache.close()
    expect(await afterRestart(layered<string>(dir), ['k', 'a', 'b'])).toEqual([undefined, 'a', 'b'])
  })

  it('an overwrite that is lost in a crash leaves the key absent, never the older value', async () => {
    const dir = await tempDir()
    const cache = createCache<string>(layered(dir))
    await cache.set('k', 'v1')
    await cache.checkpoint()
    await cache.set('k', 'v2')
    await sleep(30) // the supersession's batch is on disk by now
    await cache.checkpoint()
    // A checkpoint writes v2 too; what matters is never reading v1: kill the
    // in-memory state by reopening without closing is what the crash tests do.
    await cache.close()
    expect(await afterRestart(layered<string>(dir), ['k'])).toEqual(['v2'])
  })

  for (const wait of [0, 5, 10, 11, 15]) {
    it(`a delete while an older value is on its way to disk (${wait} ms into its batch): deleted once, gone after a restart`, async () => {
      const dir = await tempDir()
      const cache = createCache<string>(layered(dir))
      await cache.ready
      const deletes: string[] = []
      cache.events$.subscribe((e) => e.type === 'delete' && deletes.push(e.key))
      await cache.set('k', 'v1')
      // Push k out of hot and warm: its demotion to disk begins.
      for (let i = 0; i < 8; i++) await cache.set(`x${i}`, `${'x'.repeat(60)}${i}`)
      await sleep(wait)
      await cache.set('k', 'v2')
      expect(await cache.delete('k')).toBe(true)
      await sleep(30)
      expect(await cache.has('k')).toBe(false)
      expect(await cache.get('k')).toBeUndefined()
      expect(await cache.delete('k')).toBe(false)
      expect(deletes.filter((k) => k === 'k')).toHaveLength(1)
      await cache.close()
      expect(await afterRestart(layered<string>(dir), ['k'])).toEqual([undefined])
    })
  }

  it('a tag delete of a newer value over an older, differently tagged disk copy leaves the key absent', async () => {
    const dir = await tempDir()
    const cache = createCache<string>(layered(dir))
    await cache.set('k', 'v1', { tags: ['old'] })
    await cache.checkpoint()
    await cache.set('k', 'v2', { tags: ['new'] })
    expect(await cache.deleteByTag('new')).toBe(1)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.has('k')).toBe(false)
    expect(await cache.deleteByTag('old')).toBe(0)
    await cache.close()
    expect(await afterRestart(layered<string>(dir), ['k'])).toEqual([undefined])
  })

  it('after a reopen, an entry whose time to live had passed is not there', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await first.set('k', 'v', { ttl: 20 })
    await first.close()
    await sleep(40)
    const second = createCache<string>(layered(dir))
    expect(await second.has('k')).toBe(false)
    expect(await second.get('k')).toBeUndefined()
    await second.close()
  })

  it('deleteMany does not count an expired key whose older copy is on disk', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const cache = createCache<string>(layered(dir, { scheduler: clock }))
    for (let i = 0; i < 5; i++) await cache.set(`k${i}`, `v${i}`)
    await cache.checkpoint()
    await cache.set('k0', 'newer', { ttl: 10 })
    clock.advance(20)
    expect(await cache.deleteMany(['k0', 'k1', 'k2', 'k3', 'k4'])).toBe(4)
    await cache.close()
  })
})

describe('nothing leaves without a word', () => {
  it('a value larger than warm goes down to the disk, which can hold it', async () => {
    const dir = await tempDir()
    const events: CacheEvent[] = []
    const cache = createCache<string>({ hot: { maxEntries: 1 }, warm: { maxBytes: 1024 }, cold: { dir, segmentBytes: 1 << 20 } })
    cache.events$.subscribe((e) => events.push(e))
    const big = randomBytes(6 * 1024).toString('base64')
    await cache.set('big', big)
    await cache.set('other', 'o') // big leaves hot
    expect(events.filter((e) => e.type === 'evict')).toEqual([])
    expect(await cache.get('big')).toBe(big)
    await cache.close()
    expect(await afterRestart<string>({ cold: { dir, segmentBytes: 1 << 20 } }, ['big'])).toEqual([big])
  })

  it('close() at the disk budget reports every entry that does not survive it', async () => {
    const dir = await tempDir()
    const options: CacheOptions<string> = { hot: { maxEntries: 1000 }, cold: { dir, segmentBytes: 16 * 1024, maxBytes: 64 * 1024 } }
    const cache = createCache<string>(options)
    await cache.ready
    const evicted = new Set<string>()
    cache.events$.subscribe((e) => e.type === 'evict' && evicted.add(e.key))
    const keys: string[] = []
    for (let i = 0; i < 400; i++) {
      keys.push(`k${i}`)
      await cache.set(`k${i}`, `${i}:${'v'.repeat(500)}`)
    }
    await cache.close()
    const after = await afterRestart(options, keys)
    const missing = keys.filter((_, i) => after[i] === undefined)
    expect(missing.length).toBeGreaterThan(0)
    for (const key of missing) expect(evicted.has(key), key).toBe(true)
    for (let i = 0; i < keys.length; i++) if (after[i] !== undefined) expect(after[i]).toBe(`${i}:${'v'.repeat(500)}`)
  })
})

describe('a crash after the newer value left memory', () => {
  const FIXTURE = fileURLToPath(new URL('./fixtures/overwrite-then-wait.ts', import.meta.url))

  for (const how of ['expired', 'deleted']) {
    it(`brings back no older value when the newer one ${how} before the kill, with no checkpoint after it`, async () => {
      const dir = await tempDir()
      const child = spawnScript(FIXTURE, [dir, how])
      await child.waitFor(/^left$/)
      child.proc.kill('SIGKILL')
      await child.exited
      expect(await afterRestart<string>({ cold: { dir } }, ['k', 'other'])).toEqual([undefined, 'o'])
    }, 20_000)
  }
})

describe('an older value on its way down', () => {
  it('that expires in its batch after a newer write says nothing of the newer value: no expire event, its tags stay', async () => {
    const clock = new VirtualClock()
    const cache = createCache<string>({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir: await tempDir() }, scheduler: clock })
    await cache.ready
    const expired: string[] = []
    cache.events$.subscribe((e) => e.type === 'expire' && expired.push(e.key))
    await cache.set('k', 'old', { ttl: 1 })
    await cache.set('a', 'a')
    await cache.set('b', 'b') // k is staged for the disk, with its expiry
    await cache.set('k', 'new', { tags: ['t'] })
    clock.advance(20) // the batch leaves with the old k expired in it
    expect(expired).not.toContain('k')
    expect(await cache.deleteByTag('t')).toBe(1)
    await cache.close()
  })
})
