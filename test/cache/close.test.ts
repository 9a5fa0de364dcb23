import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Observable, lastValueFrom } from 'rxjs'
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
  })

  describe('streams subscribed after close complete at once, leaving no timer', () => {
    const afterClose = async (stream: (cache: ReturnType<typeof createCache<number>>) => Observable<unknown>) => {
      const clock = new VirtualClock()
      const cache = createCache<number>({ scheduler: clock, statsInterval: 10 })
      await cache.set('a', 1, { ttl: 1000 })
      await cache.close()
      const seen: string[] = []
      stream(cache).subscribe({ next: () => seen.push('next'), error: () => seen.push('error'), complete: () => seen.push('complete') })
      expect(seen).toEqual(['complete'])
      expect(clock.pending).toBe(0)
    }

    it('events$', () => afterClose((cache) => cache.events$))
    it('stats$', () => afterClose((cache) => cache.stats$))
    it('watch(key), called after close', () => afterClose((cache) => cache.watch('a')))

    it('watch(key), called before close and subscribed after', async () => {
      const cache = createCache<number>()
      const watch = cache.watch('a')
      await cache.close()
      await expect(lastValueFrom(watch, { defaultValue: 'none' })).resolves.toBe('none')
    })

    it('stats$ subscribed again after close, once it had subscribers before', async () => {
      const clock = new VirtualClock()
      const cache = createCache<number>({ scheduler: clock, statsInterval: 10 })
      cache.stats$.subscribe()
      await cache.close()
      let completed = false
      cache.stats$.subscribe({ complete: () => (completed = true) })
      expect(completed).toBe(true)
      expect(clock.pending).toBe(0)
    })
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

  it('stops the expiry sweep’s timer, while entries that can expire remain', async () => {
    const clock = new VirtualClock()
    const cache = createCache<number>({ scheduler: clock, hot: { maxEntries: 2 }, warm: { maxBytes: 1 << 20 } })
    for (let i = 0; i < 4; i++) await cache.set(`k${i}`, i, { ttl: 60_000 })
    clock.advance(5000) // sweeps that find nothing due leave the timer armed
    expect(clock.pending).toBe(1)
    await cache.close()
    expect(clock.pending).toBe(0)
  })

  it('lets a script that used and closed a cache exit by itself', async () => {
    const script = fileURLToPath(new URL('../fixtures/use-and-close.ts', import.meta.url))
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 })
    expect(stdout.trim()).toBe('closed')
  })

  it('lets a script exit by itself that subscribes to stats$ after closing the cache', async () => {
    const script = fileURLToPath(new URL('../fixtures/stats-after-close.ts', import.meta.url))
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 })
    expect(stdout.trim()).toBe('completed')
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
