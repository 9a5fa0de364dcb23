import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Codec } from '../../src/codec/codec.js'
import { freezingCodec } from '../../src/codec/deep-freeze.js'
import { createDefaultCodec, localCodec } from '../../src/codec/default-codec.js'
import type { RecordShape, SaveShapes, SharedRecords } from '../../src/codec/shared-records.js'

/** A save that resolves or fails when the test says so. */
function heldSaves() {
  const saved: RecordShape[] = []
  const pending: { shapes: readonly RecordShape[]; resolve: () => void; reject: (error: Error) => void }[] = []
  const save: SaveShapes = (shapes) =>
    new Promise<void>((resolve, reject) => {
      pending.push({
        shapes,
        resolve: () => {
          saved.push(...shapes)
          resolve()
        },
        reject,
      })
    })
  return { saved, pending, save }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))
const local = (persisted = true): { codec: Codec; records: SharedRecords } =>
  localCodec(createDefaultCodec(), persisted) as { codec: Codec; records: SharedRecords }
const record = (i: number) => ({ id: i, name: `item ${i}`, vendor: { city: 'Lyon', zip: '69001' }, lines: [{ sku: 'a', qty: i }] })

describe('shared record shapes in the bytes a cache keeps itself', () => {
  it('encode values with shapes saved beside them: shorter, and given back whole', async () => {
    const { codec, records } = local()
    const saves = heldSaves()
    records.adopt([], saves.save)
    const first = codec.encode(record(1))
    expect(first[0]).toBe(0) // its encoding added shapes: self-described until they are saved
    saves.pending[0].resolve()
    await settle()
    const second = codec.encode(record(1))
    expect(second[0]).toBe(2)
    expect(second.length).toBeLessThan(first.length)
    expect(codec.decode(second)).toEqual(record(1))
    expect(codec.decode(first)).toEqual(record(1))
    expect(saves.saved.map((shape) => [...shape])).toEqual(records.shapes.map((shape) => [...shape]))
  })

  it('give back Maps, Sets, Dates, typed arrays, shared references and cycles through shared shapes', () => {
    const { codec } = local(false)
    const inner = { p: 1, q: 'x' }
    const value: Record<string, unknown> = {
      map: new Map<unknown, unknown>([['k', { p: 2, q: 'y' }]]),
      set: new Set([1, { p: 3, q: 'z' }]),
      date: new Date(5),
      bytes: new Uint8Array([1, 2]),
      big: 10n,
      twice: [inner, inner],
    }
    value.self = value
    codec.encode(value)
    const bytes = codec.encode(value)
    expect(bytes[0]).toBe(2)
    const back = codec.decode(bytes) as typeof value
    expect(back.map).toEqual(value.map)
    expect(back.set).toEqual(value.set)
    expect(back.date).toEqual(value.date)
    expect(back.bytes).toEqual(value.bytes)
    expect(back.big).toBe(10n)
    const twice = back.twice as object[]
    expect(twice[0]).toBe(twice[1])
    expect(back.self).toBe(back)
  })

  it('share nothing before the disk has given back its saved shapes', () => {
    const { codec, records } = local()
    expect(records.sharing).toBe(false)
    const bytes = codec.encode(record(1))
    expect(bytes[0]).toBe(0)
    expect(createDefaultCodec().decode(bytes)).toEqual(record(1))
  })

  it('read values written before, under the shapes saved then, after a restart', async () => {
    const before = local()
    const saves = heldSaves()
    before.records.adopt([], saves.save)
    before.codec.encode(record(1))
    saves.pending[0].resolve()
    await settle()
    const stored = before.codec.encode(record(2))
    expect(stored[0]).toBe(2)

    const after = local()
    after.records.adopt(saves.saved, heldSaves().save)
    expect(after.codec.decode(stored)).toEqual(record(2))
  })

  it('stop sharing when the shapes cannot be saved, and still give every value back', async () => {
    const { codec, records } = local()
    const saves = heldSaves()
    records.adopt([], saves.save)
    const first = codec.encode(record(1))
    saves.pending[0].reject(new Error('EIO'))
    await settle()
    expect(records.sharing).toBe(false)
    const later = codec.encode({ another: 'shape' })
    expect(later[0]).toBe(0)
    expect(codec.decode(first)).toEqual(record(1))
    expect(codec.decode(later)).toEqual({ another: 'shape' })
  })

  it('are refused by the codec itself, which cannot know them, with a clear error', async () => {
    const { codec } = local(false)
    codec.encode(record(1))
    const bytes = codec.encode(record(1))
    expect(bytes[0]).toBe(2)
    expect(() => createDefaultCodec().decode(bytes)).toThrow(/shared by the bytes of one cache/)
  })

  it('keep the table small: no shape of a huge object, at most 32 shapes, every value given back', () => {
    const { codec, records } = local(false)
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, i]))
    const long = { ['x'.repeat(2000)]: 1 }
    codec.encode(wide)
    codec.encode(long)
    expect(records.shapes.length).toBe(0)
    const values = Array.from({ length: 50 }, (_, i) => ({ [`only${i}`]: i, shared: true }))
    for (const value of values) codec.encode(value)
    expect(records.shapes.length).toBe(32)
    for (const value of [wide, long, ...values]) expect(codec.decode(codec.encode(value))).toEqual(value)
  })

  it('are used through the freezing codec of `values: data` too, whose decodes are frozen', () => {
    const { codec, records } = localCodec(freezingCodec(createDefaultCodec()), false)
    expect(records).toBeDefined()
    codec.encode(record(1))
    const bytes = codec.encode(record(1))
    expect(bytes[0]).toBe(2)
    expect(Object.isFrozen(codec.decode(bytes))).toBe(true)
  })

  it('leave a codec of the application as it is', () => {
    const custom: Codec = { name: 'json', encode: (v) => Buffer.from(JSON.stringify(v)), decode: (b) => JSON.parse(Buffer.from(b).toString()) }
    expect(localCodec(custom, true)).toEqual({ codec: custom })
  })

  it('never give a value that a restart cannot read: bytes refer only to saved shapes (property)', async () => {
    const shape = fc.integer({ min: 0, max: 40 })
    const step = fc.oneof(
      fc.record({ kind: fc.constant('encode' as const), shape, value: fc.integer() }),
      fc.record({ kind: fc.constant('save' as const), ok: fc.boolean() }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const { codec, records } = local()
        const saves = heldSaves()
        records.adopt([], saves.save)
        const written: { bytes: Uint8Array; value: unknown }[] = []
        for (const s of steps) {
          if (s.kind === 'encode') {
            const value = { [`shape${s.shape}`]: s.value, nested: { [`inner${s.shape % 7}`]: [s.value] } }
            written.push({ bytes: codec.encode(value), value })
          } else {
            const next = saves.pending.shift()
            if (next !== undefined) s.ok ? next.resolve() : next.reject(new Error('EIO'))
            await settle()
          }
          // A crash now: a new process reads only what was saved.
          const restarted = local()
          restarted.records.adopt(saves.saved, heldSaves().save)
          for (const { bytes, value } of written) expect(restarted.codec.decode(bytes)).toEqual(value)
        }
      }),
      { numRuns: 60 },
    )
  })
})
