import { afterEach, describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { closeAll, eventually, nextEvent, prefix, remoteCache } from './helpers.js'

afterEach(closeAll)

describe('the remote tier', () => {
  it("serves another instance's write, moved up into hot and counted as a remote hit", async () => {
    const p = prefix('hit')
    const a = remoteCache<{ n: number }>(p)
    const b = remoteCache<{ n: number }>(p)
    await Promise.all([a.ready, b.ready])
    await a.set('k', { n: 1 })
    const hit = nextEvent(b, 'hit')
    expect(await b.get('k')).toEqual({ n: 1 })
    expect((await hit).tier).toBe('remote')
    const second = nextEvent(b, 'hit')
    await b.get('k')
    expect((await second).tier).toBe('hot')
    expect(b.stats().tiers.remote).toEqual({ hits: 1, state: 'ok' })
    expect(a.stats().tiers.remote).toEqual({ hits: 0, state: 'ok' })
  })

  it("drops the other instances' local copies on a write, a delete, a tag delete and a clear", async () => {
    const p = prefix('inval')
    const a = remoteCache<string>(p)
    const b = remoteCache<string>(p)
    await Promise.all([a.ready, b.ready])
    await a.set('k', 'v1', { tags: ['t'] })
    await a.set('other', 'o1', { tags: ['t'] })
    expect(await b.get('k')).toBe('v1')
    expect(await b.get('other')).toBe('o1')
    expect(b.peek('k')).toBe('v1')

    await a.set('k', 'v2')
    await eventually(() => b.peek('k') === undefined)
    expect(await b.get('k')).toBe('v2')

    await a.delete('k')
    await eventually(() => b.peek('k') === undefined)
    expect(await b.get('k')).toBeUndefined()

    expect(await a.deleteByTag('t')).toBe(1)
    await eventually(() => b.peek('other') === undefined)
    expect(await b.get('other')).toBeUndefined()

    await a.set('x', 'x1')
    expect(await b.get('x')).toBe('x1')
    await a.clear()
    await eventually(() => b.peek('x') === undefined)
    expect(await b.get('x')).toBeUndefined()
  })

  it("reads what another instance wrote after its clear, once the clear's invalidation has come", async () => {
    const p = prefix('after-clear')
    const a = remoteCache<string>(p)
    const b = remoteCache<string>(p)
    await Promise.all([a.ready, b.ready])
    await a.set('x', 'x1')
    expect(await b.get('x')).toBe('x1')
    await a.clear()
    await a.set('x', 'x2')
    // b reads Redis under the generation the clear started, which only the bus told it.
    await eventually(async () => (await b.get('x')) === 'x2')
  })

  it("keeps its own newer value when an older write's invalidation arrives late", async () => {
    const p = prefix('order')
    const a = remoteCache<string>(p)
    const b = remoteCache<string>(p)
    await Promise.all([a.ready, b.ready])
    await a.set('k', 'from-a')
    await b.set('k', 'from-b')
    // a's invalidation (older) reached b before or after b's own write: either way b keeps its own, newer value.
    await eventually(async () => (await a.get('k')) === 'from-b')
    expect(b.peek('k')).toBe('from-b')
    expect(await b.get('k')).toBe('from-b')
  })

  it('shows a watcher on another instance the new value', async () => {
    const p = prefix('watch')
    const a = remoteCache<string>(p)
    const b = remoteCache<string>(p)
    await Promise.all([a.ready, b.ready])
    await a.set('k', 'v1')
    expect(await b.get('k')).toBe('v1')
    const seen: (string | undefined)[] = []
    const subscription = b.watch('k').subscribe((value) => seen.push(value))
    await a.set('k', 'v2')
    await eventually(() => seen.at(-1) === 'v2')
    subscription.unsubscribe()
    expect(seen[0]).toBe('v1')
  })

  it('keeps tags in Redis: a tag delete on one instance reaches keys only another instance wrote', async () => {
    const p = prefix('tags')
    const a = remoteCache<string>(p)
    const b = remoteCache<string>(p)
    await Promise.all([a.ready, b.ready])
    await b.set('u1', 'x', { tags: ['users'] })
    await b.set('u2', 'y', { tags: ['users'] })
    expect(await a.deleteByTag('users')).toBe(2)
    expect(await b.get('u1')).toBeUndefined()
    expect(await a.get('u2')).toBeUndefined()
  })

  it('refuses a bad option with E_INVALID_OPTIONS naming it', () => {
    const attempt = (options: object) => () => createCache(options as never)
    expect(attempt({ remote: { redis: 'http://nope' } })).toThrow(/E_INVALID_OPTIONS: option 'remote\.redis'/)
    expect(attempt({ remote: { redis: 'redis://127.0.0.1:1', whenDown: 'maybe' } })).toThrow(/option 'remote\.whenDown'/)
    expect(attempt({ remote: { redis: 'redis://127.0.0.1:1', nope: 1 } })).toThrow(/option 'remote\.nope'/)
    expect(attempt({ bus: { channel: 'x' } })).toThrow(/option 'bus\.redis'/)
    expect(attempt({ maxStaleness: -1 })).toThrow(/option 'maxStaleness'/)
  })
})
