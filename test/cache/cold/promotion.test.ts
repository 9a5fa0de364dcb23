import { describe, expect, it } from 'vitest'
import { type Codec, createCache } from '../../../src/index.js'
import { createDefaultCodec } from '../../../src/codec/default-codec.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-promotion-')

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

describe('reads from disk', () => {
  it('push out of hot what the disk still holds without encoding it again', async () => {
    const codec = countingCodec()
    const cache = createCache<string>({ hot: { maxEntries: 2 }, cold: { dir: await tempDir() }, codec })
    await cache.ready
    for (let i = 0; i < 20; i++) await cache.set(`k${i}`, `v${i}`)
    await cache.checkpoint()
    const before = codec.encodes
    for (let round = 0; round < 2; round++) for (let i = 0; i < 20; i++) expect(await cache.get(`k${i}`)).toBe(`v${i}`)
    expect(codec.encodes).toBe(before)
    expect(cache.stats().evictions).toBe(0)
    await cache.close()
  })
})
