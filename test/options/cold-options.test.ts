import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { ColdStore } from '../../src/tiers/cold/cold-store.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cold-options-')

// Each bad `cold` setting, with the words its refusal must hold: the option's path and the rule it breaks.
const BAD: [string, Record<string, unknown>, string][] = [
  ['cold.dir', { dir: '' }, `option 'cold.dir' must be a non-empty string`],
  ['cold.maxBytes', { maxBytes: -1 }, `option 'cold.maxBytes' must be a positive integer, got -1`],
  ['cold.segmentBytes', { segmentBytes: 100 }, `option 'cold.segmentBytes' must be an integer in [256, 1 GiB], got 100`],
  [
    'cold.segmentBytes',
    { maxBytes: 1 << 20, segmentBytes: 1 << 20 },
    `option 'cold.segmentBytes' must be at most half of cold.maxBytes (1048576), got 1048576`,
  ],
  ['cold.fsync', { fsync: 'sometimes' }, `option 'cold.fsync' must be 'always', 'interval' or 'never', got sometimes`],
  ['cold.compactionThreshold', { compactionThreshold: 2 }, `option 'cold.compactionThreshold' must be in (0, 1], got 2`],
]

describe('cold options', () => {
  it.each(BAD)('refuses a bad %s with the same E_INVALID_OPTIONS from the cache and from the store opened alone (%o)', async (_, bad, words) => {
    // A directory that must never come to exist: a store that took the options would create it.
    const parent = await tempDir()
    const options = { dir: join(parent, 'never-created'), ...bad }
    const refusal = expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: `E_INVALID_OPTIONS: ${words}` })
    expect(() => createCache({ cold: options as never })).toThrow(refusal)
    await expect(ColdStore.open({ ...(options as { dir: string }), now: () => 0 })).rejects.toEqual(refusal)
    expect(await readdir(parent)).toEqual([])
  })

  it('names the store-only options the same way', async () => {
    const dir = join(await tempDir(), 'never-created')
    await expect(ColdStore.open({ dir, now: 0 as never })).rejects.toMatchObject({
      message: `E_INVALID_OPTIONS: option 'cold.now' must be a function returning ms since epoch`,
    })
    await expect(ColdStore.open({ dir, now: () => 0, readConcurrency: 0 })).rejects.toMatchObject({
      message: `E_INVALID_OPTIONS: option 'cold.readConcurrency' must be a positive integer, got 0`,
    })
  })
})
