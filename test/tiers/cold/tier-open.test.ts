import { describe, expect, it } from 'vitest'
import { ColdTier } from '../../../src/tiers/cold/cold-tier.js'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import { openFilesUnder } from '../../helpers/open-files.js'
import { tempDirs } from '../../helpers/temp-dirs.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const tempDir = tempDirs('strata-cache-tier-open-')

describe("the disk tier's open", () => {
  it('closes the store it opened when a later step of the open fails: no file left open, the directory free', async () => {
    const dir = await tempDir()
    const options = {
      dir,
      maxBytes: 1 << 20,
      segmentBytes: 64 << 10,
      fsync: 'never' as const,
      fsyncInterval: 1000,
      compactionThreshold: 0.5,
      inbox: { capacity: 1000, whenFull: 'wait' as const },
    }
    const seeded = await ColdStore.open({ dir, now: () => 0, onError: () => undefined })
    await seeded.putMany([{ key: 'k', value: new Uint8Array([1]), expiresAt: 0, tags: ['t'] }])
    await seeded.close()

    // Handing the recovered tags to the tag index fails, after the store is open.
    const tags = {
      of: () => undefined,
      restore: () => {
        throw new Error('the tag index refused')
      },
    }
    const tier = new ColdTier(options, new VirtualClock(), { left: () => undefined, error: () => undefined, failed: () => undefined }, tags)
    await expect(tier.ready).rejects.toThrow('the tag index refused')
    expect(tier.isOpen).toBe(false)
    expect(await openFilesUnder(dir)).toEqual([])
    await tier.close({ entries: () => [], keys: () => [] })
    expect(await openFilesUnder(dir)).toEqual([])
    // The lock went with the store.
    const again = await ColdStore.open({ dir, now: () => 0, onError: () => undefined })
    await again.close()
  })
})
