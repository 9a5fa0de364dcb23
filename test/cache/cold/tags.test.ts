import { cp, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { compact } from '../../../src/cli/compact.js'
import { scanStore } from '../../../src/cli/store-scan.js'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../../src/index.js'
import { noise } from '../../helpers/noise.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-tags-')

/** hot of 2 entries and warm of a few small entries: nearly every entry is on disk only. */
const layered = (dir: string, extra: Partial<CacheOptions<string>> = {}): CacheOptions<string> => ({
  hot: { maxEntries: 2 },
  warm: { maxBytes: 2000 },
  cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 },
  ...extra,
})

const N = 60
const value = (i: number, v = 1): string => `value-${i}-v${v}`
/** k0, k3, ... carry 'three'; even keys carry 'even'; every fifth none at all. */
const tagsOf = (i: number): string[] | undefined => {
  if (i % 5 === 4) return undefined
  const tags = i % 2 === 0 ? ['even'] : []
  if (i % 3 === 0) tags.push('three')
  return tags.length === 0 ? ['odd'] : tags
}
const has = (i: number, tag: string): boolean => tagsOf(i)?.includes(tag) ?? false
const keysWith = (tag: string): number[] => Array.from({ length: N }, (_, i) => i).filter((i) => has(i, tag))

async function writeAll(cache: Cache<string>): Promise<void> {
  for (let i = 0; i < N; i++) {
    const tags = tagsOf(i)
    await cache.set(`k${i}`, value(i), tags === undefined ? undefined : { tags })
  }
}

/** Whether the cache's disk has opened, as far as its `ready` has told. */
function track(cache: Cache<unknown>): () => boolean {
  let opened = false
  void cache.ready.then(() => (opened = true))
  return () => opened
}

const everyKey = (): string[] => Array.from({ length: N }, (_, i) => `k${i}`)

describe('tags on disk', () => {
  it('survive close and reopen: deleteByTag deletes entries only the disk holds, and they stay deleted', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await writeAll(first)
    await first.close()

    const second = createCache<string>(layered(dir))
    await second.ready
    expect(second.stats().tiers).toMatchObject({ hot: { entries: 0 }, warm: { entries: 0 } })
    const events: CacheEvent[] = []
    second.events$.subscribe((event) => events.push(event))
    const three = keysWith('three')
    expect(await second.deleteByTag('three')).toBe(three.length)
    // As delete would: one 'delete' event and one count per key.
    expect(
      events
        .filter((e) => e.type === 'delete')
        .map((e) => (e as { key: string }).key)
        .sort(),
    ).toEqual(three.map((i) => `k${i}`).sort())
    expect(second.stats().deletes).toBe(three.length)
    expect(await second.deleteByTag('three')).toBe(0)
    const got = await second.getMany(everyKey())
    got.forEach((v, i) => expect(v, `k${i}`).toBe(has(i, 'three') ? undefined : value(i)))
    await second.close()

    // The tombstones are on disk: a third session neither serves nor finds them.
    const third = createCache<string>(layered(dir))
    expect(await third.deleteByTag('three')).toBe(0)
    for (const i of three) expect(await third.has(`k${i}`)).toBe(false)
    const even = keysWith('even').filter((i) => !has(i, 'three'))
    expect(await third.deleteByTag('even')).toBe(even.length)
    const left = await third.getMany(everyKey())
    left.forEach((v, i) => expect(v, `k${i}`).toBe(has(i, 'three') || has(i, 'even') ? undefined : value(i)))
    await third.close()
  })

  it('reach the disk at a checkpoint, with entries still in memory too', async () => {
    const dir = await tempDir()
    const first = createCache<string>({ cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 } }) // all in hot
    await first.set('a', 'A', { tags: ['t'] })
    await first.set('b', 'B', { tags: ['t', 'u'] })
    await first.set('c', 'C')
    await first.checkpoint()
    expect(first.stats().tiers.cold.entries).toBe(3)
    await first.close()
    const second = createCache<string>({ cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 } })
    expect(await second.deleteByTag('u')).toBe(1)
    expect(await second.getMany(['a', 'b', 'c'])).toEqual(['A', undefined, 'C'])
    // 'a' is in hot now (promoted by the read), its tags still known.
    expect(await second.deleteByTag('t')).toBe(1)
    expect(await second.getMany(['a', 'c'])).toEqual([undefined, 'C'])
    await second.close()
  })

  it('an overwrite without tags is not deleted by the old tag after a reopen, in the same session or the next', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await writeAll(first)
    await first.checkpoint()
    await first.set('k0', 'untagged now') // k0 was 'even' and 'three'
    await first.delete('k6') // 'even' and 'three', deleted
    await first.close()

    const second = createCache<string>(layered(dir))
    await second.set('k2', 'untagged in the second session') // 'even', on disk only until now
    await second.set('k4', 'retagged', { tags: ['other'] })
    await second.close()

    const third = createCache<string>(layered(dir))
    const even = keysWith('even').filter((i) => ![0, 2, 4, 6].includes(i))
    expect(await third.deleteByTag('even')).toBe(even.length)
    expect(await third.getMany(['k0', 'k2', 'k4', 'k6'])).toEqual(['untagged now', 'untagged in the second session', 'retagged', undefined])
    expect(await third.deleteByTag('other')).toBe(1)
    expect(await third.get('k4')).toBeUndefined()
    await third.close()
  })

  it('deleteByTag issued before the disk has opened waits for it, and still finds keys only the disk holds', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await writeAll(first)
    await first.close()
    const second = createCache<string>(layered(dir))
    const opened = track(second)
    const deleting = second.deleteByTag('three') // no await of ready
    expect(opened()).toBe(false)
    expect(await deleting).toBe(keysWith('three').length)
    for (const i of keysWith('three')) expect(await second.get(`k${i}`)).toBeUndefined()
    await second.close()
  })

  it('writes and deletes made while the disk opens win over the tags it holds', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await writeAll(first)
    await first.close()
    const second = createCache<string>(layered(dir))
    const opened = track(second)
    // Before the store has opened: k0 ('even', 'three') gets new tags, k3 ('three') none, k9 ('three') is deleted.
    await second.set('k0', 'new', { tags: ['fresh'] })
    await second.set('k3', 'new, untagged')
    const deleted = second.delete('k9')
    expect(opened()).toBe(false)
    await second.ready
    expect(await deleted).toBe(true)
    const three = keysWith('three').filter((i) => ![0, 3, 9].includes(i))
    expect(await second.deleteByTag('three')).toBe(three.length)
    expect(await second.getMany(['k0', 'k3', 'k9'])).toEqual(['new', 'new, untagged', undefined])
    expect(await second.deleteByTag('fresh')).toBe(1)
    await second.close()
  })

  it('a clear while the disk opens leaves none of its tags behind', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await writeAll(first)
    await first.close()
    const second = createCache<string>(layered(dir))
    const opened = track(second)
    const clearing = second.clear()
    await second.set('k1', 'after the clear', { tags: ['three'] })
    expect(opened()).toBe(false)
    await clearing
    // k0 carried 'even' on disk. Were that still known, deleteByTag would delete k0, and so
    // supersede a getOrSet of it in flight: its value would not be stored.
    let load: ((value: string) => void) | undefined
    const loading = second.getOrSet('k0', () => new Promise<string>((resolve) => (load = resolve)))
    for (let i = 0; load === undefined; i++) {
      expect(i).toBeLessThan(100)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    expect(await second.deleteByTag('even')).toBe(0)
    load('loaded')
    expect(await loading).toBe('loaded')
    expect(await second.get('k0')).toBe('loaded')
    expect(await second.deleteByTag('three')).toBe(1)
    await second.close()
  })

  it('compaction keeps them: compact, reopen, deleteByTag', async () => {
    const dir = await tempDir()
    const first = createCache<string>(layered(dir))
    await writeAll(first)
    await first.checkpoint()
    // Overwrite every key a few times with the same tags, each round on disk: most records there are dead.
    for (let v = 2; v <= 4; v++) {
      for (let i = 0; i < N; i++) {
        const tags = tagsOf(i)
        await first.set(`k${i}`, value(i, v), tags === undefined ? undefined : { tags })
      }
      await first.checkpoint()
    }
    await first.close()
    const before = await scanStore(dir, Date.now())
    const lines: string[] = []
    expect(await compact(dir, {}, (line) => lines.push(line))).toBe(0)
    const after = await scanStore(dir, Date.now())
    expect(lines.join('\n')).toMatch(/[1-9]\d* segments? compacted/)
    expect(after.totals.size).toBeLessThan(before.totals.size / 2)
    expect(after.tags).toEqual(before.tags)
    expect(after.tags.three).toBe(keysWith('three').length)

    const second = createCache<string>(layered(dir))
    expect(await second.deleteByTag('three')).toBe(keysWith('three').length)
    const got = await second.getMany(everyKey())
    got.forEach((v, i) => expect(v, `k${i}`).toBe(has(i, 'three') ? undefined : value(i, 4)))
    await second.close()
  })

  it('reads a store written before tags were stored (no flag on any record, version 1 hints) as untagged, and rewrites its hints', async () => {
    const dir = await tempDir()
    await cp(fileURLToPath(new URL('./fixtures/v1-store', import.meta.url)), dir, { recursive: true })
    const hints = (await readdir(dir)).filter((name) => name.endsWith('.hint')).sort()
    expect(hints.length).toBeGreaterThan(1)
    for (const hint of hints) expect((await readFile(join(dir, hint)))[4], hint).toBe(1)

    const cache = createCache<unknown>({ ...layered(dir), cold: { dir, segmentBytes: 1024, maxBytes: 1 << 20 } } as CacheOptions<unknown>)
    const errors: CacheEvent[] = []
    cache.events$.subscribe((event) => event.type === 'error' && errors.push(event))
    // It was written by `fixtures/v1-store` as made at the commit before this change (see the test's name):
    // k0..k39 as objects with tags 'old' and 't0'/'t1' that only memory knew, k3 deleted, k5 overwritten.
    expect(await cache.deleteByTag('old')).toBe(0)
    for (let i = 0; i < 40; i++) {
      const expected = i === 3 ? undefined : i === 5 ? 'overwritten' : { i, name: `value-${i}`, list: [i, i * 2] }
      expect(await cache.get(`k${i}`), `k${i}`).toEqual(expected)
    }
    expect(await cache.get('text')).toBe('plain string')
    await cache.set('k7', 'tagged now', { tags: ['new'] })
    await cache.close()
    expect(errors).toEqual([])
    // Every hint the reopen found (version 1) was ignored and written again as version 2.
    for (const hint of hints) expect((await readFile(join(dir, hint)))[4], hint).toBe(2)

    const again = createCache<unknown>({ ...layered(dir), cold: { dir, segmentBytes: 1024, maxBytes: 1 << 20 } } as CacheOptions<unknown>)
    expect(await again.deleteByTag('new')).toBe(1)
    expect(await again.get('k8')).toEqual({ i: 8, name: 'value-8', list: [8, 16] })
    await again.close()
  })

  it('rejects bad tags at set with E_INVALID_OPTIONS, and leaves the stored value and its tags as they were, on disk too', async () => {
    const dir = await tempDir()
    const cache = createCache<string>(layered(dir))
    await writeAll(cache)
    await cache.checkpoint()
    const bad = [['x'.repeat(70_000)], ['a', 'é'.repeat(33_000)], ['\ud83d'], [''], 'three']
    for (const tags of bad) {
      await expect(cache.set('k3', 'replaced', { tags } as never)).rejects.toMatchObject({
        code: 'E_INVALID_OPTIONS',
        message: expect.stringContaining(`'tags'`),
      })
      await expect(cache.setMany([{ key: 'k1', value: 'replaced' }, { key: 'k3', value: 'replaced', tags } as never])).rejects.toMatchObject({
        code: 'E_INVALID_OPTIONS',
      })
      await expect(cache.getOrSet('k100', () => 'loaded', { tags } as never)).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' })
    }
    expect(await cache.getMany(['k1', 'k3', 'k100'])).toEqual([value(1), value(3), undefined])
    await cache.close()
    const reopened = createCache<string>(layered(dir))
    expect(await reopened.deleteByTag('three')).toBe(keysWith('three').length)
    expect(await reopened.getMany(['k1', 'k3'])).toEqual([value(1), undefined])
    await reopened.close()
  })

  it('a key read back from disk keeps its tags when its disk copy is dropped for room before it moves down again', async () => {
    const dir = await tempDir()
    const cold = { dir, segmentBytes: 4096, maxBytes: 16 * 1024 }
    const first = createCache<unknown>({ cold })
    await first.set('k', 'small', { tags: ['t'] })
    await first.close()
    // Values of 3,000 bytes skip hot (at most 1,000 bytes) for the disk; small ones stay in hot, in LRU order.
    const cache = createCache<unknown>({ hot: { maxBytes: 1000, policy: 'lru' }, cold })
    expect(await cache.get('k')).toBe('small') // promoted to hot; its disk copy stays the current one
    for (let i = 0; i < 12; i++) {
      await cache.set(`big${i}`, noise(3000, i + 1))
      // Written by the demotion flow (not a checkpoint, which would look k up on disk first): past
      // maxBytes + one segment, the oldest segment, k's, is dropped whole.
      await new Promise((resolve) => setTimeout(resolve, 15))
    }
    expect(cache.stats().tiers.cold.diskBytes).toBeLessThanOrEqual(20 * 1024)
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    // Push k out of hot: its demotion finds the disk copy gone (and the store forgets it) before staging k.
    for (let i = 0; events.every((e) => !(e.type === 'demote' && e.key === 'k')); i++) {
      expect(i).toBeLessThan(50)
      await cache.set(`small${i}`, 'x'.repeat(100))
    }
    await cache.checkpoint()
    await cache.close()
    const reopened = createCache<unknown>({ cold })
    expect(await reopened.deleteByTag('t')).toBe(1)
    expect(await reopened.get('k')).toBeUndefined()
    await reopened.close()
  })

  it('stores the tags as they were checked at set, whatever the caller does to its array afterwards', async () => {
    const dir = await tempDir()
    const cache = createCache<string>(layered(dir))
    const errors: CacheEvent[] = []
    cache.events$.subscribe((event) => event.type === 'error' && errors.push(event))
    const tags = ['mine']
    await cache.set('k', 'value', { tags })
    tags.splice(0, 1, 'x'.repeat(70_000)) // no longer a valid list: were it written, its whole batch would fail
    await cache.setMany([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]) // k goes down
    await cache.close()
    expect(errors).toEqual([])
    const reopened = createCache<string>(layered(dir))
    expect(await reopened.getMany(['a', 'b'])).toEqual(['1', '2'])
    expect(await reopened.deleteByTag('mine')).toBe(1)
    await reopened.close()
  })

  it('an entry whose value fits a segment but not with its tags leaves the cache (too-large), and the rest of its batch is written', async () => {
    const dir = await tempDir()
    const cache = createCache<unknown>({ hot: { maxEntries: 1 }, cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 } })
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.set('big', noise(3000), { tags: ['x'.repeat(2000)] })
    await cache.set('small', 'fits', { tags: ['t'] })
    await cache.set('last', 'pushes the others down')
    await cache.checkpoint()
    expect(events).toContainEqual(expect.objectContaining({ type: 'evict', key: 'big', tier: 'cold', reason: 'too-large' }))
    expect(events.filter((e) => e.type === 'error')).toEqual([])
    expect(await cache.get('big')).toBeUndefined()
    await cache.close()
    const reopened = createCache<unknown>({ cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 } })
    expect(await reopened.deleteByTag('t')).toBe(1)
    expect(await reopened.getMany(['big', 'small', 'last'])).toEqual([undefined, undefined, 'pushes the others down'])
    await reopened.close()
  })
})
