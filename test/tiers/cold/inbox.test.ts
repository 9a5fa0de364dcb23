import { afterEach, describe, expect, it, vi } from 'vitest'
import { type CacheEvent, createCache } from '../../../src/index.js'
import { ColdTier } from '../../../src/tiers/cold/cold-tier.js'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import type { LowerLeaveReason } from '../../../src/tiers/lower-tier.js'
import { deferred } from '../../helpers/deferred.js'
import { tempDirs } from '../../helpers/temp-dirs.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const tempDir = tempDirs('strata-cache-inbox-')

afterEach(() => vi.restoreAllMocks())

/** Every batch write waits for the returned gate: a disk as slow as the test says. */
function slowDisk() {
  const gate = deferred<void>()
  const putMany = ColdStore.prototype.putMany
  vi.spyOn(ColdStore.prototype, 'putMany').mockImplementation(async function (this: ColdStore, ...args) {
    await gate.promise
    return putMany.apply(this, args)
  })
  return gate
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe("the disk tier's inbox", () => {
  it('holds no more than its capacity through a burst of 100,000 demotions into a slow disk, and refuses the rest at once', async () => {
    const clock = new VirtualClock()
    const left: [string, LowerLeaveReason][] = []
    const options = { dir: await tempDir(), maxBytes: 1 << 30, segmentBytes: 64 << 20, fsync: 'never' as const, fsyncInterval: 1000, compactionThreshold: 0.5 }
    const tier = new ColdTier({ ...options, inbox: { capacity: 1000, whenFull: 'wait' } }, clock, {
      left: (key, reason) => left.push([key, reason]),
      error: () => undefined,
      failed: () => undefined,
    })
    await tier.ready
    const gate = slowDisk()
    const stored = new Uint8Array(100)
    let refused = 0
    let most = 0
    for (let i = 0; i < 100_000; i++) {
      if (tier.demote({ key: `k${i}`, stored, expiresAt: 0 }) !== undefined) refused++
      most = Math.max(most, tier.held)
      if (i % 1000 === 999) clock.advance(10) // batches leave for the disk, and wait there
    }
    expect(most).toBe(1000)
    expect(refused).toBe(99_000)
    expect(tier.stats().entries).toBe(1000) // staged, readable
    expect(await tier.read('k999')).toMatchObject({ key: 'k999' })

    gate.resolve()
    // The batches' writes are real I/O: on a loaded machine they take what they take, within a generous deadline.
    const deadline = performance.now() + 10_000
    while (tier.held > 0 && performance.now() < deadline) {
      clock.advance(10)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    expect(tier.held).toBe(0)
    expect(tier.demote({ key: 'after', stored, expiresAt: 0 })).toBeUndefined()
    expect(left).toEqual([])
    const memory = { entries: () => [], keys: () => [] }
    await tier.close(memory)
  })

  it('reports every entry it refused: each leaves the cache with an evict event', async () => {
    const clock = new VirtualClock()
    const cache = createCache<number>({ hot: { maxEntries: 1 }, cold: { dir: await tempDir(), inbox: { capacity: 100 } }, scheduler: clock })
    await cache.ready
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    const gate = slowDisk()
    let most = 0
    for (let i = 0; i < 100_000; i += 1000) {
      await cache.setMany(Array.from({ length: 1000 }, (_, j) => ({ key: `k${i + j}`, value: i + j })))
      most = Math.max(most, cache.stats().tiers.cold.entries)
      clock.advance(10)
    }
    const evicted = events.filter((e) => e.type === 'evict')
    const demoted = events.filter((e) => e.type === 'demote')
    expect(most).toBe(100)
    expect(demoted).toHaveLength(100)
    expect(evicted).toHaveLength(100_000 - 1 - 100)
    expect(evicted.every((e) => e.type === 'evict' && e.tier === 'hot' && e.reason === 'io')).toBe(true)
    expect(cache.stats().evictions).toBe(100_000 - 1 - 100)
    gate.resolve()
    await cache.close()
  })

  it("makes a read wait for room when full, as 'wait' says, and answers once the disk drains", async () => {
    const clock = new VirtualClock()
    const dir = await tempDir()
    const cache = createCache<string>({ hot: { maxEntries: 1 }, cold: { dir, inbox: { capacity: 2, whenFull: 'wait' } }, scheduler: clock })
    await cache.set('on disk', 'value')
    await cache.checkpoint()
    const gate = slowDisk()
    await cache.set('a', 'a') // 'on disk' leaves hot: the disk holds it already
    await cache.set('b', 'b') // a is staged
    await cache.set('c', 'c') // b is staged: the inbox is full
    let diskReads = 0
    const get = ColdStore.prototype.get
    vi.spyOn(ColdStore.prototype, 'get').mockImplementation(function (this: ColdStore, ...args) {
      diskReads++
      return get.apply(this, args)
    })
    let read: string | undefined = 'pending'
    const reading = cache.get('on disk').then((value) => (read = value))
    await turn()
    clock.advance(10) // the batch leaves, and waits for the disk
    await turn()
    expect([read, diskReads]).toEqual(['pending', 0])
    gate.resolve()
    for (let i = 0; i < 100 && read === 'pending'; i++) await turn()
    await reading
    expect(read).toBe('value')
    await cache.close()
  })

  it("rejects a read and a delete's tombstone with E_BACKPRESSURE when full, as 'reject' says, and changes nothing it was not asked to", async () => {
    const clock = new VirtualClock()
    const dir = await tempDir()
    const cache = createCache<string>({ hot: { maxEntries: 1 }, cold: { dir, inbox: { capacity: 2, whenFull: 'reject' } }, scheduler: clock })
    await cache.set('on disk', 'value')
    await cache.set('other', 'kept')
    await cache.checkpoint()
    const gate = slowDisk()
    await cache.set('a', 'a') // 'other' leaves hot: the disk holds it already
    await cache.set('b', 'b') // a is staged
    await cache.set('c', 'c') // b is staged: the inbox is full
    await expect(cache.get('on disk')).rejects.toMatchObject({ code: 'E_BACKPRESSURE' })
    await expect(cache.delete('on disk')).rejects.toMatchObject({ code: 'E_BACKPRESSURE' })
    // The delete could not write its tombstone: the key reads as deleted, never as its older value.
    expect(cache.peek('c')).toBe('c')
    expect(await cache.get('b')).toBe('b') // staged: read without a request
    gate.resolve()
    for (let i = 0; i < 5; i++) {
      clock.advance(10)
      await turn()
    }
    expect(await cache.get('on disk')).toBeUndefined()
    expect(await cache.get('a')).toBe('a')
    await cache.close()
    const reopened = createCache<string>({ cold: { dir } })
    expect(await reopened.get('on disk')).toBeUndefined()
    await reopened.close()
  })

  it('refuses a bad inbox option with E_INVALID_OPTIONS naming it', () => {
    const dir = '/tmp/never-opened'
    expect(() => createCache({ cold: { dir, inbox: { capacity: 0 } } })).toThrow(/cold\.inbox\.capacity/)
    expect(() => createCache({ cold: { dir, inbox: { whenFull: 'drop' as 'wait' } } })).toThrow(/cold\.inbox\.whenFull/)
    expect(() => createCache({ cold: { dir, inbox: { size: 1 } as never } })).toThrow(/cold\.inbox\.size/)
    expect(() => createCache({ cold: { dir, inbox: { capacity: 0 } } })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTIONS' }))
  })
})
