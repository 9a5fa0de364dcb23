import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { VirtualClock } from '../helpers/virtual-time.js'

const run = promisify(execFile)
const tempDir = tempDirs('strata-cache-close-')

describe('close', () => {
  it('makes every operation reject with E_CLOSED', async () => {
    const cache = createCache<number>()
    await cache.set('a', 1)
    await cache.close()
    const operations = [
      cache.get('a'),
      cache.set('a', 2),
      cache.has('a'),
      cache.delete('a'),
      cache.getOrSet('a', () => 1),
      cache.getMany(['a']),
      cache.setMany([{ key: 'a', value: 1 }]),
      cache.deleteMany(['a']),
      cache.deleteByTag('t'),
      cache.clear(),
    ]
    for (const operation of operations) await expect(operation).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(() => cache.peek('a')).toThrow(expect.objectContaining({ code: 'E_CLOSED' }))
    expect(() => cache.watch('a')).toThrow(expect.objectContaining({ code: 'E_CLOSED' }))
  })

  it('is idempotent', async () => {
    const cache = createCache()
    const first = cache.close()
    expect(cache.close()).toBe(first)
    await first
  })

  it('leaves no action on the scheduler', async () => {
    const clock = new VirtualClock()
    const cache = createCache<number>({ scheduler: clock, hot: { maxEntries: 2 }, warm: { maxBytes: 1 << 20 } })
    cache.stats$.subscribe()
    cache.watch('a').subscribe()
    await cache.set('a', 1, { ttl: 10_000 })
    await cache.set('b', 2, { ttl: 10_000 })
    await cache.set('c', 3)
    expect(clock.pending).toBeGreaterThan(0)
    await cache.close()
    expect(clock.pending).toBe(0)
  })

  it('lets a script that used and closed a cache exit by itself', async () => {
    const script = fileURLToPath(new URL('../fixtures/use-and-close.ts', import.meta.url))
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 })
    expect(stdout.trim()).toBe('closed')
  })

  describe('while a read waits for the disk', () => {
    it('rejects a getOrSet with E_CLOSED and never calls its factory', async () => {
      const cache = createCache<string>({ cold: { dir: await tempDir() } })
      await cache.ready
      let calls = 0
      const pending = cache.getOrSet('k', () => (calls++, 'made after close'))
      const closed = cache.close()
      await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' })
      await closed
      expect(calls).toBe(0)
    })

    it('rejects a get with E_CLOSED and never calls the loader', async () => {
      let calls = 0
      const cache = createCache<string>({ cold: { dir: await tempDir() }, loader: () => (calls++, 'loaded after close') })
      await cache.ready
      const pending = cache.get('k')
      const closed = cache.close()
      await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' })
      await closed
      expect(calls).toBe(0)
    })
  })
})
