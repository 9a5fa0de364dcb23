import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../src/index.js'
import { spawnScript } from '../helpers/child-process.js'
import { redisUrl } from '../helpers/redis.js'
import { closeAll, eventually, prefix, tracked } from './helpers.js'

afterEach(closeAll)

const make = (options: Parameters<typeof createCache<string>>[0]): Cache<string> => tracked(createCache<string>(options))

describe('a bus without a remote tier', () => {
  it('over a BroadcastChannel: a write on one cache drops the copy another holds', async () => {
    const channel = `strata-test-${Math.random()}`
    const a = make({ bus: { broadcastChannel: channel } })
    const b = make({ bus: { broadcastChannel: channel } })
    await Promise.all([a.ready, b.ready])
    // Each write comes after its writer has seen the other's: a clock that has observed a version makes greater ones.
    await a.set('k', 'a0')
    await b.set('k', 'old')
    await eventually(() => a.peek('k') === undefined)
    await a.set('k', 'new')
    await eventually(() => b.peek('k') === undefined)
    await b.set('t1', 'y0')
    await a.set('t1', 'x', { tags: ['t'] })
    await eventually(() => b.peek('t1') === undefined)
    await b.set('t1', 'y', { tags: ['t'] })
    await eventually(() => a.peek('t1') === undefined)
    await a.set('z', 'z')
    await b.clear()
    await eventually(() => a.peek('z') === undefined)
  })

  it('over a Redis stream: a delete on one cache drops the copy another holds', async () => {
    const channel = prefix('bus')
    const a = make({ bus: { redis: redisUrl(), channel } })
    const b = make({ bus: { redis: redisUrl(), channel } })
    await Promise.all([a.ready, b.ready])
    await b.set('k', 'held')
    await a.delete('k')
    await eventually(() => b.peek('k') === undefined)
    await b.set('k', 'again')
    await a.set('k', 'newer')
    await eventually(() => b.peek('k') === undefined)
    expect(a.peek('k')).toBe('newer')
  })
})

describe('closing', () => {
  it('a script using a remote tier and a bus exits by itself once it has closed the cache', async () => {
    const child = spawnScript(fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url)), [redisUrl(), prefix('exit')])
    await child.waitFor(/^closed$/)
    const exited = await Promise.race([child.exited, new Promise((resolve) => setTimeout(() => resolve('hung'), 10_000))])
    if (exited === 'hung') child.proc.kill('SIGKILL')
    expect(exited).toBe(0)
    expect(child.lines).toContain('got v')
  }, 30_000)
})
