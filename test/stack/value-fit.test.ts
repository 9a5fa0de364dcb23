import { randomBytes } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { createCache } from '../../src/index.js'
import { tempDirs } from '../helpers/temp-dirs.js'

// Every value the heap estimate walks.
const walked = vi.hoisted(() => new Set<unknown>())
vi.mock('../../src/tiers/memory/estimate-size.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/tiers/memory/estimate-size.js')>()
  return {
    ...real,
    estimateSize: (value: unknown, ...rest: unknown[]) => {
      walked.add(value)
      return (real.estimateSize as (value: unknown, ...rest: unknown[]) => number)(value, ...rest)
    },
  }
})

const tempDir = tempDirs('strata-cache-fit-')

describe('the disk fit check of a write', () => {
  it('takes its bound from the value check’s survey (default codec): the value is not walked again, and fits as before', async () => {
    const cache = createCache<{ id: number; text: string }>({ hot: { maxEntries: 2 }, cold: { dir: await tempDir() } })
    const values = Array.from({ length: 6 }, (_, i) => ({ id: i, text: `value ${i}`.repeat(20) }))
    await cache.set('k0', values[0])
    await cache.setMany(values.slice(1).map((value, i) => ({ key: `k${i + 1}`, value })))
    for (const value of values) expect(walked.has(value)).toBe(false)
    await cache.checkpoint()
    for (let i = 0; i < values.length; i++) expect(await cache.get(`k${i}`)).toEqual(values[i])
    await cache.close()
  })

  it('still refuses a value larger than a disk entry, by its encoded size', async () => {
    const cache = createCache<string>({ hot: { maxEntries: 2 }, cold: { dir: await tempDir(), segmentBytes: 64 * 1024 } })
    // Random: LZ4 cannot bring it under the segment.
    const big = randomBytes(150 * 1024).toString('base64')
    try {
      await expect(cache.set('big', big)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
      expect(await cache.get('big')).toBeUndefined()
    } finally {
      await cache.close()
    }
  })
})
