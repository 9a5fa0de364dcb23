import { asyncScheduler } from 'rxjs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCache } from '../../src/index.js'
import { ColdStore } from '../../src/tiers/cold/index.js'
import { type SliceRecord, sliceRecorder } from '../helpers/event-loop.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { VirtualClock } from '../helpers/virtual-time.js'

const tempDir = tempDirs('strata-cache-bulk-')
const MANY = 50_000
// What a bulk call may do between two yields to the event loop: keys, and ms of work as the slice measures it.
const MAX_KEYS_PER_SLICE = 4096
const MAX_SLICE_MS = 10

/** The slices that did work. */
const working = (slices: SliceRecord[]): SliceRecord[] => slices.filter((slice) => slice.work > 0)
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]

/**
 * The bulk call's slices hold the loop only briefly: each does at most
 * MAX_KEYS_PER_SLICE keys, and the typical one takes under MAX_SLICE_MS (a
 * slice the OS preempts or the collector stops can take longer: the median
 * ignores those, while a call that does not yield is one long slice).
 */
function expectSliced(slices: SliceRecord[], total: number): void {
  const done = working(slices)
  console.log(
    `${done.length} slices, keys ${Math.max(...done.map((s) => s.work))} at most, ms median ${median(done.map((s) => s.ms)).toFixed(1)}, longest ${Math.max(...done.map((s) => s.ms)).toFixed(1)}`,
  )
  expect(done.reduce((sum, slice) => sum + slice.work, 0)).toBe(total)
  expect(done.length).toBeGreaterThan(1)
  for (const slice of done) expect(slice.work).toBeLessThanOrEqual(MAX_KEYS_PER_SLICE)
  expect(median(done.map((slice) => slice.ms))).toBeLessThan(MAX_SLICE_MS)
}

afterEach(() => vi.restoreAllMocks())

describe('bulk calls yield to the event loop between slices', () => {
  async function filledWithDeletes(tags?: string[]) {
    let deletes = 0
    const recorder = sliceRecorder(asyncScheduler, () => deletes)
    const cache = createCache<number>({ hot: { maxEntries: MANY }, scheduler: recorder.scheduler })
    cache.events$.subscribe((event) => void (event.type === 'delete' && deletes++))
    for (let i = 0; i < MANY; i++) await cache.set(`key:${i}`, i, tags === undefined ? undefined : { tags })
    recorder.slices.length = 0
    return { cache, recorder }
  }

  it(`deleteByTag of ${MANY.toLocaleString('en')} tagged entries`, async () => {
    const { cache, recorder } = await filledWithDeletes(['all'])
    expect(await recorder.sync(() => cache.deleteByTag('all'))).toBe(MANY)
    expectSliced(recorder.slices, MANY)
    expect(cache.stats().tiers.hot.entries).toBe(0)
    await cache.close()
  })

  it(`deleteMany of ${MANY.toLocaleString('en')} keys`, async () => {
    const { cache, recorder } = await filledWithDeletes()
    const keys = Array.from({ length: MANY + 10 }, (_, i) => `key:${i}`) // 10 absent
    expect(await recorder.sync(() => cache.deleteMany(keys))).toBe(MANY)
    expectSliced(recorder.slices, MANY)
    expect(cache.stats().tiers.hot.entries).toBe(0)
    await cache.close()
  })

  it('getMany of 3,000 keys held on disk, with the same values and counts as one get per key', async () => {
    const dir = await tempDir()
    const cold = { dir, maxBytes: 1 << 30 }
    const KEYS = 3000
    const writer = createCache<{ n: number; pad: string }>({ hot: { maxEntries: 10 }, warm: false, cold })
    for (let i = 0; i < KEYS; i++) await writer.set(`key:${i}`, { n: i, pad: 'x'.repeat(200) })
    await writer.close()
    const keys = Array.from({ length: KEYS + 20 }, (_, i) => `key:${i}`) // 20 absent

    // Keys whose disk read has started: one by one (get), or a run of them at once (getMany).
    let diskReads = 0
    const get = ColdStore.prototype.get
    vi.spyOn(ColdStore.prototype, 'get').mockImplementation(function (this: ColdStore, ...args) {
      diskReads++
      return get.apply(this, args)
    })
    const getMany = ColdStore.prototype.getMany
    vi.spyOn(ColdStore.prototype, 'getMany').mockImplementation(function (this: ColdStore, ...args) {
      diskReads += args[0].length
      return getMany.apply(this, args)
    })
    const recorder = sliceRecorder(asyncScheduler, () => diskReads)
    const sliced = createCache<{ n: number; pad: string }>({ hot: { maxEntries: 2 * KEYS }, warm: false, cold, scheduler: recorder.scheduler })
    await sliced.ready
    recorder.slices.length = 0
    const many = await recorder.sync(() => sliced.getMany(keys))
    expectSliced(recorder.slices, KEYS)
    const manyStats = sliced.stats()
    await sliced.close()

    const one = createCache<{ n: number; pad: string }>({ hot: { maxEntries: 2 * KEYS }, warm: false, cold })
    await one.ready
    const each = await Promise.all(keys.map((key) => one.get(key)))
    const eachStats = one.stats()
    await one.close()
    expect(many).toEqual(each)
    expect(many.filter((value) => value !== undefined)).toHaveLength(KEYS)
    const counts = ({ hits, misses, promotions, tiers }: typeof manyStats) => ({ hits, misses, promotions, hot: tiers.hot.entries, cold: tiers.cold.hits })
    expect(counts(manyStats)).toEqual(counts(eachStats))
  }, 30_000)
})

describe('bulk calls in slices, in virtual time', () => {
  const tagged = (clock: VirtualClock, count: number) => {
    const cache = createCache<number>({ hot: { maxEntries: count }, scheduler: clock })
    for (let i = 0; i < count; i++) void cache.set(`key:${i}`, i, { tags: ['t'] })
    return cache
  }

  it('finish a call of one slice without the scheduler', async () => {
    const clock = new VirtualClock()
    const cache = tagged(clock, MAX_KEYS_PER_SLICE)
    expect(await cache.getMany(['key:0', 'key:1', 'none'])).toEqual([0, 1, undefined])
    expect(await cache.deleteByTag('t')).toBe(MAX_KEYS_PER_SLICE)
    expect(clock.pending).toBe(0)
  })

  it('deleteByTag leaves a key written without the tag after the call began', async () => {
    const clock = new VirtualClock()
    const cache = tagged(clock, 10_000)
    const deleted = cache.deleteByTag('t')
    expect(cache.stats().tiers.hot.entries).toBe(10_000 - MAX_KEYS_PER_SLICE) // the first slice, at once
    void cache.set('key:9000', -1, { tags: ['other'] })
    void cache.set('key:9001', -1, { tags: ['t'] })
    clock.advance(0)
    expect(await deleted).toBe(9_999)
    expect(cache.peek('key:9000')).toBe(-1)
    expect(cache.peek('key:9001')).toBeUndefined()
  })

  it('a call that close() overtakes rejects with E_CLOSED and leaves no action on the scheduler', async () => {
    const clock = new VirtualClock()
    const cache = tagged(clock, 10_000)
    const deleted = cache.deleteMany(Array.from({ length: 10_000 }, (_, i) => `key:${i}`))
    const read = cache.getMany(Array.from({ length: 10_000 }, (_, i) => `key:${i}`))
    await cache.close()
    await expect(deleted).rejects.toMatchObject({ code: 'E_CLOSED' })
    await expect(read).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(clock.pending).toBe(0)
  })
})
