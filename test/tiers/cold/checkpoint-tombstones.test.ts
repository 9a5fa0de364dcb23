import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCache } from '../../../src/index.js'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import { tempDirs } from '../../helpers/temp-dirs.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const tempDir = tempDirs('strata-cache-checkpoint-')

afterEach(() => vi.restoreAllMocks())

describe('a checkpoint and the tombstones it owes', () => {
  it('writes no tombstone for a key whose newer value it writes: a crash between the two records would leave neither value', async () => {
    const dir = await tempDir()
    const cache = createCache<string>({ hot: { maxEntries: 100 }, cold: { dir, segmentBytes: 4096, fsync: 'always' }, scheduler: new VirtualClock() })
    await cache.set('k', 'older')
    await cache.set('other', 'x')
    await cache.checkpoint()
    await cache.set('k', 'newer') // masks the disk's 'older', and owes it a tombstone

    const written: { key: string; tombstone: boolean }[] = []
    const putMany = ColdStore.prototype.putMany
    vi.spyOn(ColdStore.prototype, 'putMany').mockImplementation(function (this: ColdStore, ops) {
      for (const op of ops) written.push({ key: op.key, tombstone: op.tombstone === true })
      return putMany.call(this, ops)
    })
    await cache.checkpoint()

    expect(written.filter((op) => op.key === 'k')).toEqual([{ key: 'k', tombstone: false }])
    await cache.close()
    const reopened = createCache<string>({ cold: { dir }, scheduler: new VirtualClock() })
    expect(await reopened.get('k')).toBe('newer')
    await reopened.close()
  })

  it('still writes the tombstone a key owes when its newer value left memory without reaching the disk', async () => {
    const clock = new VirtualClock()
    const dir = await tempDir()
    const cache = createCache<string>({ hot: { maxEntries: 100 }, warm: false, cold: { dir, fsync: 'always' }, scheduler: clock })
    await cache.set('k', 'older')
    await cache.checkpoint()
    await cache.set('k', 'newer', { ttl: 10 })
    clock.advance(20)
    expect(await cache.get('k')).toBeUndefined() // expired: its tombstone is owed to the disk
    await cache.checkpoint()
    await cache.close()
    const reopened = createCache<string>({ cold: { dir }, scheduler: new VirtualClock() })
    expect(await reopened.get('k')).toBeUndefined()
    await reopened.close()
  })
})
