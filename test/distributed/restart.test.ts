import { afterEach, describe, expect, it } from 'vitest'
import { type Cache, type CacheEvent, createCache } from '../../src/index.js'
import { spawnScript } from '../helpers/child-process.js'
import { connectClient, redisUrl } from '../helpers/redis.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { closeAll, nextEvent, prefix, remoteCache, tracked } from './helpers.js'

// Made first, removed last: the caches are closed before their directories go.
const tempDir = tempDirs('strata-restart-')
afterEach(closeAll)
const CHILD = new URL('./fixtures/disk-child.ts', import.meta.url).pathname

/** An instance with a disk tier on `dir`, and the bus events it tells from its start. */
function diskCache(p: string, dir: string): { cache: Cache<string>; bus: Extract<CacheEvent, { type: 'bus' }>[] } {
  const cache = tracked(createCache<string>({ remote: { redis: redisUrl(), prefix: p }, cold: { dir } }))
  const bus: Extract<CacheEvent, { type: 'bus' }>[] = []
  cache.events$.subscribe((event) => {
    if (event.type === 'bus') bus.push(event)
  })
  return { cache, bus }
}

/** A first life of the instance on `dir`: writes `entries`, then closes cleanly (its position saved). */
async function firstLife(p: string, dir: string, entries: Record<string, string>): Promise<void> {
  const first = diskCache(p, dir).cache
  await first.ready
  for (const [key, value] of Object.entries(entries)) await first.set(key, value)
  await first.close()
}

/** The tier that answers `get(key)`, and the value. */
async function readFrom(cache: Cache<string>, key: string): Promise<{ value: string | undefined; tier: string | undefined }> {
  const hit = nextEvent(cache as Cache<unknown>, 'hit', (event) => event.key === key)
  const value = await cache.get(key)
  if (value === undefined) return { value, tier: undefined }
  return { value, tier: (await hit).tier }
}

describe('a disk tier across restarts, with a bus', () => {
  it('keeps the disk copies after a clean close, and drops those written elsewhere while it was down', async () => {
    const p = prefix('restart-kept')
    const dir = await tempDir()
    await firstLife(p, dir, { kept: 'k1', changed: 'c1' })

    const other = remoteCache<string>(p)
    await other.ready
    await other.set('changed', 'c2')

    const { cache: again, bus } = diskCache(p, dir)
    await again.ready
    expect(bus[0]).toMatchObject({ state: 'resynced', dropped: 0 })
    expect(bus[0].replayed).toBeGreaterThanOrEqual(1)
    expect(await readFrom(again, 'kept')).toEqual({ value: 'k1', tier: 'cold' })
    expect(await readFrom(again, 'changed')).toEqual({ value: 'c2', tier: 'remote' })
  })

  it('never brings back a copy whose invalidation it had taken before it closed, a tag delete included', async () => {
    const p = prefix('restart-taken')
    const dir = await tempDir()
    const other = remoteCache<string>(p)
    await other.ready
    for (let round = 0; round < 3; round++) {
      const first = diskCache(p, dir).cache
      await first.ready
      await first.set(`tagged${round}`, 'v1', { tags: [`g${round}`] })
      await first.set(`plain${round}`, 'v1')
      await first.checkpoint()
      const taken = nextEvent(first as Cache<unknown>, 'delete', (event) => event.key === `plain${round}`)
      await other.deleteByTag(`g${round}`)
      await other.set(`plain${round}`, 'v2')
      // Closed as soon as the second invalidation is applied: the tag's, before it, must be applied too.
      await taken
      await first.close()

      const { cache: again } = diskCache(p, dir)
      await again.ready
      expect(await again.get(`tagged${round}`)).toBeUndefined()
      expect(await again.get(`plain${round}`)).toBe('v2')
      await again.close()
    }
  })

  it('drops every disk copy when the invalidations since its position are gone from the stream', async () => {
    const p = prefix('restart-gap')
    const dir = await tempDir()
    await firstLife(p, dir, { kept: 'k1' })

    const other = remoteCache<string>(p)
    await other.ready
    await other.set('elsewhere', 'e1')
    const client = await connectClient()
    await client.sendCommand(['XTRIM', `${p}bus`, 'MAXLEN', '0'])
    await client.close()

    const { cache: again, bus } = diskCache(p, dir)
    await again.ready
    expect(bus[0]).toMatchObject({ state: 'resynced' })
    expect((await readFrom(again, 'kept')).tier).toBe('remote')
  })

  it('drops every disk copy after a crash (kill -9) when no clean close ever saved a position', async () => {
    const p = prefix('restart-crash')
    const dir = await tempDir()
    const child = spawnScript(CHILD, [dir, redisUrl(), p, 'kept=k1', 'changed=c1'])
    await child.waitFor(/^written$/)
    child.proc.kill('SIGKILL')
    await child.exited

    const other = remoteCache<string>(p)
    await other.ready
    await other.set('changed', 'c2')

    const { cache: again, bus } = diskCache(p, dir)
    await again.ready
    expect(bus[0]).toMatchObject({ state: 'connected' })
    expect((await readFrom(again, 'kept')).tier).toBe('remote')
    expect(await readFrom(again, 'changed')).toEqual({ value: 'c2', tier: 'remote' })
  })

  it('after a crash, carries on from the position its last clean close saved: it replays more, and never serves what was invalidated', async () => {
    const p = prefix('restart-crash-after-close')
    const dir = await tempDir()
    await firstLife(p, dir, { kept: 'k1', changed: 'c1' })

    // A second life resumes from that position, writes, and dies without closing.
    const child = spawnScript(CHILD, [dir, redisUrl(), p, 'own=o1'])
    await child.waitFor(/^written$/)
    const other = remoteCache<string>(p)
    await other.ready
    await other.set('changed', 'c2')
    await other.set('own', 'o2')
    child.proc.kill('SIGKILL')
    await child.exited

    const { cache: again, bus } = diskCache(p, dir)
    await again.ready
    expect(bus[0]).toMatchObject({ state: 'resynced', dropped: 0 })
    expect(await readFrom(again, 'kept')).toEqual({ value: 'k1', tier: 'cold' })
    expect(await readFrom(again, 'changed')).toEqual({ value: 'c2', tier: 'remote' })
    expect(await readFrom(again, 'own')).toEqual({ value: 'o2', tier: 'remote' })
  })
})
