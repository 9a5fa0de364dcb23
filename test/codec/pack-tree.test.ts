import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import type { Codec } from '../../src/codec/codec.js'
import { deepFreeze, freezingCodec } from '../../src/codec/deep-freeze.js'
import { createDefaultCodec, localCodec } from '../../src/codec/default-codec.js'
import { isFrozenTree } from '../../src/codec/frozen-roots.js'
import { packValue } from '../../src/codec/pack-tree.js'

/** A JSON-like value, built anew (nothing shared) by every call. */
const jsonLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    // msgpackr writes a negative zero as the integer 0, and the value read back is compared too.
    fc.double().map((x) => (Object.is(x, -0) ? 0 : x)),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string().filter((key) => key !== '__proto__'),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true },
    ),
  ),
})).value

describe('a frozen tree: the values deepFreeze found to hold no object twice', () => {
  it('is a root of plain objects and arrays, each met once', () => {
    expect(isFrozenTree(deepFreeze({ a: [1, { b: 'two' }], c: { d: null } }))).toBe(true)
    expect(isFrozenTree(deepFreeze([[1], [2]]))).toBe(true)
  })

  it('is not a value holding an object twice, a cycle, or any other kind of object', () => {
    const shared = { n: 1 }
    const cycle: Record<string, unknown> = { name: 'loop' }
    cycle.self = cycle
    const others: unknown[] = [
      { a: shared, b: shared },
      [shared, [shared]],
      cycle,
      { when: new Date(0) },
      { map: new Map([[1, 2]]) },
      { set: new Set([1]) },
      { error: new Error('x') },
      { bytes: new Uint8Array(2) },
      Object.assign(Object.create(null) as object, { a: 1 }),
    ]
    for (const value of others) expect(isFrozenTree(deepFreeze(value))).toBe(false)
  })

  it('is not a value deepFreeze never froze: unfrozen, or frozen by the application', () => {
    expect(isFrozenTree({ a: 1 })).toBe(false)
    expect(isFrozenTree(Object.freeze({ a: 1 }))).toBe(false)
    expect(isFrozenTree('text')).toBe(false)
    expect(isFrozenTree(null)).toBe(false)
  })
})

describe('packing a frozen tree', () => {
  it('keeps no table of references while it packs the tree, and packs everything else as before', () => {
    const packr = new Packr({ structuredClone: true })
    const mode = packr as unknown as { structuredClone: boolean }
    let during: boolean | undefined
    const tree = deepFreeze({
      get probe() {
        during = mode.structuredClone
        return 1
      },
    })
    during = undefined
    packValue(packr, tree)
    expect(during).toBe(false)
    expect(mode.structuredClone).toBe(true)

    const shared = { n: 1 }
    const notTree = deepFreeze({ a: shared, b: shared })
    const back = packr.unpack(packValue(packr, notTree)) as { a: object; b: object }
    expect(back.a).toBe(back.b)
  })

  it('leaves structured-clone mode on when the packing throws', () => {
    const packr = new Packr({ structuredClone: true })
    let armed = false
    const tree = deepFreeze({
      get boom() {
        if (armed) throw new Error('boom')
        return 1
      },
    })
    armed = true
    expect(() => packValue(packr, tree)).toThrow('boom')
    expect((packr as unknown as { structuredClone: boolean }).structuredClone).toBe(true)
  })

  it('gives the same bytes as a fresh structured-clone encoding, through every codec a cache uses (property)', () => {
    const plain = createDefaultCodec()
    const { codec: shared } = localCodec(plain, false) as { codec: Codec }
    const codecs = [plain, freezingCodec(plain), shared]
    // The same encoder state on both sides: a twin codec per side, fed the same values in the same order.
    const { codec: sharedTwin } = localCodec(createDefaultCodec(), false) as { codec: Codec }
    const twins = [createDefaultCodec(), freezingCodec(createDefaultCodec()), sharedTwin]
    fc.assert(
      fc.property(jsonLike, (value) => {
        const copy = structuredClone(value)
        const frozen = deepFreeze(value)
        if (typeof frozen === 'object' && frozen !== null) expect(isFrozenTree(frozen)).toBe(true)
        for (let i = 0; i < codecs.length; i++) {
          const fresh = twins[i].encode(copy)
          const reused = codecs[i].encode(frozen)
          expect(Buffer.from(reused).equals(Buffer.from(fresh))).toBe(true)
          expect(codecs[i].decode(reused)).toEqual(copy)
        }
      }),
      { numRuns: 300 },
    )
  })
})
