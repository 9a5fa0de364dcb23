import { describe, expect, it } from 'vitest'
import { createDefaultCodec } from '../../src/codec/default-codec.js'
import { roundTripProblem } from '../../src/codec/round-trip.js'

const codec = createDefaultCodec()
const roundTrip = (value: unknown): unknown => createDefaultCodec().decode(codec.encode(value))

describe('default codec', () => {
  it.each([
    ['object', { a: 1, b: [1, 'two', { c: null }] }],
    ['array', [1, 2, [3]]],
    ['Date', new Date(1_700_000_000_000)],
    [
      'Map',
      new Map<unknown, unknown>([
        [1, 'a'],
        ['x', { y: 2 }],
      ]),
    ],
    ['Set', new Set([1, 'b'])],
    ['Uint8Array', new Uint8Array([1, 2, 3])],
    ['Float64Array', new Float64Array([1.5, -2])],
    ['BigInt64Array', new BigInt64Array([1n, -1n])],
    ['Buffer', Buffer.from('hello')],
    ['small BigInt', 42n],
    ['huge BigInt', -(2n ** 100n)],
    ['null', null],
    ['string', 'text'],
    ['number', 1.25],
    ['boolean', false],
    ['RegExp', /a+b/gi],
  ])('gives back a %s with its type', (_, value) => {
    const back = roundTrip(value)
    expect(back).toEqual(value)
    expect(Object.prototype.toString.call(back)).toBe(Object.prototype.toString.call(value))
    if (Buffer.isBuffer(value)) expect(Buffer.isBuffer(back)).toBe(true)
    if (value !== null && typeof value === 'object') expect((back as object).constructor).toBe(value.constructor)
  })

  it('keeps shared references and cycles', () => {
    const shared = { n: 1 }
    const value: Record<string, unknown> = { a: shared, b: shared }
    value.self = value
    const back = roundTrip(value) as Record<string, unknown>
    expect(back.a).toBe(back.b)
    expect(back.self).toBe(back)
  })

  it('compresses large compressible values and leaves small ones raw', () => {
    const large = { text: 'abc'.repeat(1000) }
    const encoded = codec.encode(large)
    expect(encoded[0]).toBe(1)
    expect(encoded.length).toBeLessThan(500)
    expect(roundTrip(large)).toEqual(large)
    expect(codec.encode({ a: 1 })[0]).toBe(0)
  })

  // LZ4 cost a quarter of a write for 12 % of a record under 1 KiB (docs/benchmarks.md).
  it('leaves a compressible value under 1 KiB raw by default, and compresses it under a lower threshold', () => {
    const record = { description: 'steel oak linen wireless compact '.repeat(25) }
    const packedBytes = codec.encode(record).byteLength - 1
    expect(packedBytes).toBeGreaterThan(512)
    expect(packedBytes).toBeLessThan(1024)
    expect(codec.encode(record)[0]).toBe(0)
    expect(createDefaultCodec({ compressAbove: 512 }).encode(record)[0]).toBe(1)
  })

  // Frames written before the threshold moved, by the codec of commit b06fa63 (LZ4 above 512 B).
  it.each([
    [
      'an LZ4 frame',
      'AQwDAAD/TNRyQJaiaWSjc2t1q2Rlc2NyaXB0aW9upHdoZW6kdGFnc6doaXN0b3J5B6xTS1UtMDAwMGFiY2TaApRzdGVlbCBvYWsgbGluZW4gd2lyZWxlc3MgY29tcGFjdCAhAP//YvAE1v9lU/EA1HMAkqFhoWKS1HJBk9oC8QSjcXR5pXByaWNlo2gtMQLLP/gAAQDwAEGjaC0yA8tAEgAAAAAAAA==',
      {
        id: 7,
        sku: 'SKU-0000abcd',
        description: 'steel oak linen wireless compact '.repeat(20),
        when: new Date(1_700_000_000_000),
        tags: new Set(['a', 'b']),
        history: [
          { sku: 'h-1', qty: 2, price: 1.5 },
          { sku: 'h-2', qty: 3, price: 4.5 },
        ],
      },
    ],
    ['a raw frame', 'ANRyQJKhYaFiAaN0d28=', { a: 1, b: 'two' }],
  ])('reads %s written by the earlier codec', (_, base64, value) => {
    expect(createDefaultCodec().decode(Buffer.from(base64, 'base64'))).toEqual(value)
  })

  it('keeps an incompressible large value raw', () => {
    const noise = Buffer.alloc(2000)
    let seed = 7
    for (let i = 0; i < noise.length; i++) noise[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24
    expect(codec.encode(noise)[0]).toBe(0)
    expect(roundTrip(noise)).toEqual(noise)
  })

  it('encodes into an exact-size buffer of its own', () => {
    const a = codec.encode({ a: 'x' })
    const b = codec.encode({ b: 'y' })
    expect(a.buffer).not.toBe(b.buffer)
    expect(a.byteLength).toBe(a.buffer.byteLength)
  })

  it('refuses an unknown encoding tag', () => {
    expect(() => codec.decode(new Uint8Array([9, 1, 2]))).toThrow(/unknown encoding tag/)
  })
})

describe('round-trip check', () => {
  class Point {
    constructor(public x = 1) {}
  }
  it.each([
    ['a function', { f: () => 1 }, /function/],
    ['a symbol', [Symbol('s')], /symbol/],
    ['a class instance', { p: new Point() }, /Point/],
    ['a nested class instance in a Map', new Map([['k', new Point()]]), /Point/],
  ])('rejects %s', (_, value, reason) => {
    expect(roundTripProblem(value)).toMatch(reason)
    expect(codec.reject?.(value)).toMatch(reason)
  })

  it('accepts what round-trips, including errors and cycles', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const value of [{ a: [1, { b: new Date() }] }, new Error('x'), new Set([new Map()]), cyclic]) {
      expect(codec.reject?.(value)).toBeUndefined()
    }
  })
})
