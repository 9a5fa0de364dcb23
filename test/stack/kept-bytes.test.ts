import { describe, expect, it } from 'vitest'
import { type Codec, createCache } from '../../src/index.js'
import { createDefaultCodec } from '../../src/codec/default-codec.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-stack-')

/** The default codec, counting its encodes. */
function countingCodec(): Codec & { encodes: number } {
  const inner = createDefaultCodec()
  const codec = {
    name: inner.name,
    encodes: 0,
    encode(value: unknown) {
      codec.encodes++
      return inner.encode(value)
    },
    decode: (bytes: Uint8Array) => inner.decode(bytes),
    reject: inner.reject,
  }
  return codec
}

const record = (i: number) => ({ id: i, name: `value ${i}`, list: [i, i + 1] })

describe('a value read from disk and pushed out of hot', () => {
  it('goes to warm with the bytes it came up with: no encode, and the same values from every tier after', async () => {
    const dir = await tempDir()
    const writer = createCache<ReturnType<typeof record>>({ hot: { maxEntries: 2 }, warm: { maxBytes: 100_000 }, cold: { dir } })
    for (let i = 0; i < 20; i++) await writer.set(`k${i}`, record(i))
    await writer.close()

    const codec = countingCodec()
    const cache = createCache<ReturnType<typeof record>>({ hot: { maxEntries: 2 }, warm: { maxBytes: 100_000 }, cold: { dir }, codec })
    await cache.ready
    const events: string[] = []
    cache.events$.subscribe((e) => (e.type === 'demote' || e.type === 'promote') && events.push(`${e.type} ${e.from}>${e.to}`))
    for (let i = 0; i < 20; i++) expect(await cache.get(`k${i}`)).toEqual(record(i))
    expect(codec.encodes).toBe(0)
    // Each read from disk moved up into hot and pushed an earlier one down into warm.
    expect(events.filter((e) => e === 'promote cold>hot')).toHaveLength(20)
    expect(events.filter((e) => e === 'demote hot>warm')).toHaveLength(18)
    expect(cache.stats().tiers.warm.entries).toBe(18)
    for (let i = 0; i < 18; i++) expect(await cache.get(`k${i}`)).toEqual(record(i))
    expect(cache.stats().tiers.warm.hits).toBeGreaterThan(0)
    await cache.close()
  })

  it('is encoded again when it was written since it came up', async () => {
    const dir = await tempDir()
    const writer = createCache<ReturnType<typeof record>>({ hot: { maxEntries: 2 }, cold: { dir } })
    for (let i = 0; i < 4; i++) await writer.set(`k${i}`, record(i))
    await writer.close()

    const codec = countingCodec()
    const cache = createCache<ReturnType<typeof record>>({ hot: { maxEntries: 2 }, warm: { maxBytes: 100_000 }, cold: { dir }, codec })
    expect(await cache.get('k0')).toEqual(record(0))
    await cache.set('k0', record(100)) // in hot, a newer value than the bytes k0 came up with
    await cache.get('k1')
    await cache.get('k2') // pushes k0 out of hot
    expect(codec.encodes).toBe(1)
    expect(await cache.get('k0')).toEqual(record(100))
    await cache.close()
  })
})
