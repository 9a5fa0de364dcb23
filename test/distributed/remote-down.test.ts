import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isCacheError } from '../../src/index.js'
import { type PrivateRedis, startPrivateRedis, testPrefix } from '../helpers/redis.js'
import { closeAll, eventually, nextEvent, remoteCache } from './helpers.js'

let server: PrivateRedis

beforeAll(async () => {
  server = await startPrivateRedis()
})
afterAll(async () => {
  await server.stop()
})
afterEach(async () => {
  await closeAll()
  await server.start()
})

describe('a remote tier that goes down', () => {
  it('degrades: local tiers keep serving, writes reject E_REMOTE changing nothing, and it recovers when Redis is back', async () => {
    const p = testPrefix('down')
    const cache = remoteCache<string>(p, { remote: { redis: server.url, prefix: p, commandTimeout: 200 }, bus: false }, server.url)
    await cache.ready
    await cache.set('k', 'v1')
    const degraded = nextEvent(cache, 'degraded')
    await server.shutdown()
    const write = cache.set('k', 'v2')
    await expect(write).rejects.toSatisfy((error: unknown) => isCacheError(error, 'E_REMOTE'))
    expect((await degraded).tier).toBe('remote')
    expect(cache.stats().tiers.remote.state).toBe('degraded')
    // Not taken: the key's copy was dropped, since whether Redis applied the write is unknown.
    expect(cache.peek('k')).not.toBe('v2')
    await cache.set('fresh', 'x').then(
      () => expect.unreachable('a write while degraded must reject'),
      (error: unknown) => expect(isCacheError(error, 'E_REMOTE')).toBe(true),
    )
    const recovered = nextEvent(cache, 'recovered')
    await server.start()
    expect((await recovered).tier).toBe('remote')
    expect(cache.stats().tiers.remote.state).toBe('ok')
    await cache.set('k', 'v3')
    expect(await cache.get('k')).toBe('v3')
  }, 60_000)

  it("with whenDown 'local', keeps writes in this instance's tiers while Redis is down", async () => {
    const p = testPrefix('local')
    const cache = remoteCache<string>(p, { remote: { redis: server.url, prefix: p, commandTimeout: 200, whenDown: 'local' }, bus: false }, server.url)
    await cache.ready
    await server.shutdown()
    await cache.set('k', 'v1')
    await eventually(async () => {
      await cache.set('k', 'v2')
      return cache.peek('k') === 'v2'
    })
    expect(await cache.get('k')).toBe('v2')
  }, 60_000)

  it("reads that miss locally while Redis is down are misses (or the loader's), never a hang past the command timeout", async () => {
    const p = testPrefix('miss')
    const cache = remoteCache<string>(
      p,
      { remote: { redis: server.url, prefix: p, commandTimeout: 200 }, bus: false, loader: (key) => `loaded-${key}` },
      server.url,
    )
    await cache.ready
    await server.shutdown()
    const started = performance.now()
    expect(await cache.get('nothing')).toBe('loaded-nothing')
    expect(performance.now() - started).toBeLessThan(5000)
  }, 60_000)

  it('recovers as soon as its bus, on the same server, connects again, not at its next probe', async () => {
    const p = testPrefix('back')
    const cache = remoteCache<string>(p, { remote: { redis: server.url, prefix: p, commandTimeout: 200 } }, server.url)
    await cache.ready
    const degraded = nextEvent(cache, 'degraded')
    await server.shutdown()
    await cache.set('k', 'v1').catch(() => undefined)
    await degraded
    const since = performance.now()
    // Down for 8 s: the probes came at 1, 3 and 7 s and failed; the next is due at 15 s.
    await new Promise((resolve) => setTimeout(resolve, 8000))
    const recovered = nextEvent(cache, 'recovered')
    await server.start()
    const back = performance.now()
    expect((await recovered).tier).toBe('remote')
    const took = performance.now() - back
    console.log(`recovered ${took.toFixed(0)} ms after Redis was back (${(back - since).toFixed(0)} ms after degrading)`)
    expect(took).toBeLessThan(4000)
    await cache.set('k', 'v2')
    expect(await cache.get('k')).toBe('v2')
  }, 60_000)
})
