import { describe, expect, it } from 'vitest'
import type { Codec } from '../../src/codec/codec.js'
import { freezingCodec } from '../../src/codec/deep-freeze.js'
import { createDefaultCodec, encodedBound } from '../../src/codec/default-codec.js'

const record = (i: number): unknown => ({
  id: i,
  sku: `SKU-${i.toString(16).padStart(8, '0')}`,
  description: 'steel oak linen wireless compact '.repeat(1 + (i % 20)),
  price: i / 7,
  active: i % 3 === 0,
  when: new Date(1_700_000_000_000 + i),
  history: Array.from({ length: i % 12 }, (_, j) => ({ sku: `h-${j}`, qty: j, price: j * 1.5 })),
  tags: new Set(['a', `t${i % 5}`]),
})

// A write checks its value, then its fit in the tiers: the fit check reads the check's survey instead of walking again.
describe('encodedBound: the bound a check just found, without a second walk', () => {
  it('bounds the encoding of every value the default codec just checked', () => {
    const codec = createDefaultCodec()
    for (let i = 0; i < 200; i++) {
      const value = record(i)
      expect(codec.check?.(value, 1 << 20)).toBeUndefined()
      const bound = encodedBound(codec, value)
      expect(bound).toBeDefined()
      expect(codec.encode(value).byteLength).toBeLessThanOrEqual(bound as number)
    }
  })

  it('is taken once, and only for the value last checked', () => {
    const codec = createDefaultCodec()
    const [a, b] = [record(1), record(2)]
    codec.check?.(a, 1 << 20)
    expect(encodedBound(codec, b)).toBeUndefined()
    expect(encodedBound(codec, a)).toBeDefined()
    expect(encodedBound(codec, a)).toBeUndefined()
  })

  it('trusts the freezing wrapper of a default codec, and no codec of its own', () => {
    const value = record(3)
    const freezing = freezingCodec(createDefaultCodec())
    freezing.check?.(value, 1 << 20)
    expect(encodedBound(freezing, value)).toBeDefined()

    // A codec of the application's may encode larger than the default codec's survey says.
    const own: Codec = { name: 'own', encode: () => new Uint8Array(1 << 16), decode: () => value, check: () => undefined }
    createDefaultCodec().check?.(value, 1 << 20)
    expect(encodedBound(own, value)).toBeUndefined()
    expect(encodedBound(freezingCodec(own), value)).toBeUndefined()
  })
})
