import { asyncScheduler, type SchedulerLike } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, prefix, remoteCache, TestTransport } from './helpers.js'

afterEach(closeAll)

describe('while the bus is disconnected', () => {
  it('skips local copies from the moment it disconnects (maxStaleness 0): reads go to the remote tier', async () => {
    const p = prefix('stale0')
    const bus = new TestTransport()
    const writer = remoteCache<string>(p)
    const reader = remoteCache<string>(p, { bus })
    await Promise.all([writer.ready, reader.ready])
    await writer.set('k', 'v1')
    expect(await reader.get('k')).toBe('v1')
    expect(reader.peek('k')).toBe('v1')
    bus.states.next({ state: 'disconnected' })
    // The invalidation of this write never reaches the reader's transport.
    await writer.set('k', 'v2')
    expect(await reader.get('k')).toBe('v2')
    expect(await reader.getMany(['k'])).toEqual(['v2'])
    expect(await reader.getOrSet('k', () => 'from-factory')).toBe('v2')
  })

  it('sees a clear it was not told of: the remote tier is read as its script finds it, not under the generation known before', async () => {
    const p = prefix('stale-clear')
    const bus = new TestTransport()
    const writer = remoteCache<string>(p)
    const reader = remoteCache<string>(p, { bus })
    await Promise.all([writer.ready, reader.ready])
    await writer.set('k', 'v1')
    await reader.set('mine', 'm')
    expect(await reader.get('k')).toBe('v1')
    bus.states.next({ state: 'disconnected' })
    await writer.clear()
    await writer.set('k', 'v2')
    expect(await reader.get('k')).toBe('v2')
    expect(await reader.get('mine')).toBeUndefined()
  })

  it('serves local copies for maxStaleness ms, then skips them', async () => {
    const p = prefix('staleN')
    const bus = new TestTransport()
    // The clock is the test's: the allowance runs out when the test says, however slow the machine.
    let now = 0
    const scheduler = { now: () => now, schedule: asyncScheduler.schedule.bind(asyncScheduler) } as SchedulerLike
    const writer = remoteCache<string>(p)
    const reader = remoteCache<string>(p, { bus, maxStaleness: 150, scheduler })
    await Promise.all([writer.ready, reader.ready])
    await writer.set('k', 'v1')
    expect(await reader.get('k')).toBe('v1')
    bus.states.next({ state: 'disconnected' })
    await writer.set('k', 'v2')
    now = 149
    expect(await reader.get('k')).toBe('v1')
    now = 150
    expect(await reader.get('k')).toBe('v2')
    bus.states.next({ state: 'resynced', replayed: 0, gap: false })
    // Trusted again: what it held is served (a real resync would have replayed the write's invalidation first).
    expect(reader.peek('k')).toBe('v1')
  })

  it('drops every local copy after a resync with a gap, and says how many', async () => {
    const p = prefix('gap')
    const bus = new TestTransport()
    const reader = remoteCache<string>(p, { bus })
    await reader.ready
    await reader.set('a', '1')
    await reader.set('b', '2')
    const events: unknown[] = []
    const subscription = reader.events$.subscribe((event) => event.type === 'bus' && events.push({ ...event, at: 0 }))
    bus.states.next({ state: 'disconnected' })
    bus.states.next({ state: 'resynced', replayed: 0, gap: true })
    subscription.unsubscribe()
    expect(events).toEqual([
      { type: 'bus', state: 'disconnected', at: 0 },
      { type: 'bus', state: 'resynced', replayed: 0, dropped: 2, at: 0 },
    ])
    expect(reader.peek('a')).toBeUndefined()
    // Still in Redis: read from there.
    expect(await reader.get('a')).toBe('1')
  })

  it("publishes each write on a transport of its own when the bus is not the remote tier's Redis", async () => {
    const p = prefix('pub')
    const bus = new TestTransport()
    const cache = remoteCache<string>(p, { bus, instanceId: 'me' })
    await cache.ready
    await cache.set('k', 'v')
    await cache.delete('k')
    expect(bus.published.map((m) => ({ origin: m.origin, keys: m.keys }))).toEqual([
      { origin: 'me', keys: ['k'] },
      { origin: 'me', keys: ['k'] },
    ])
    expect(bus.published[1].version).toBeGreaterThan(bus.published[0].version)
  })

  it('ignores a late invalidation older than its copy, and drops its copy for a newer one', async () => {
    const p = prefix('late')
    const bus = new TestTransport()
    const cache = remoteCache<string>(p, { bus })
    await cache.ready
    await cache.set('k', 'v')
    const version = bus.published[0].version
    bus.incoming.next({ origin: 'other', version: version - 1, keys: ['k'] })
    bus.incoming.next({ origin: 'other', version: version - 1, keys: ['k'] })
    expect(cache.peek('k')).toBe('v')
    bus.incoming.next({ origin: 'other', version: version + 1, keys: ['k'] })
    expect(cache.peek('k')).toBeUndefined()
  })
})
