import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { deepFreeze } from '../../src/codec/deep-freeze.js'
import { createDefaultCodec } from '../../src/codec/default-codec.js'
import { MAX_DEPTH, roundTripProblem, surveyValue } from '../../src/codec/round-trip.js'

const codec = createDefaultCodec()
const roundTrip = (value: unknown): unknown => codec.decode(codec.encode(value))

/** A DAG `levels` deep whose every node holds the node below twice: 2^levels paths, `levels` objects. */
function sharedDag(levels: number): unknown {
  let node: unknown = { leaf: true }
  for (let i = 0; i < levels; i++) node = { a: node, b: node }
  return node
}

function cpuMs(work: () => void): number {
  const start = process.cpuUsage()
  work()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

class Point {
  x = 1
}

describe('round-trip check: cost', () => {
  it.each([26, 40])('walks a %i-level DAG of shared references once per object, in well under 50 ms of CPU', (levels) => {
    const dag = sharedDag(levels)
    let problem: string | undefined = 'not run'
    const used = cpuMs(() => (problem = codec.reject?.(dag)))
    expect(problem).toBeUndefined()
    expect(used).toBeLessThan(50)
    expect(surveyValue(dag).objects).toBe(levels + 1)
    // Shared as it was (a deep comparison would take 2^levels steps).
    const back = roundTrip(dag) as { a: unknown; b: unknown }
    expect(back.a).toBe(back.b)
  })

  it('refuses a value nested deeper than the codec can recurse, without overflowing its own stack', () => {
    let deep: unknown = []
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(codec.reject?.(deep)).toMatch(new RegExp(`^value\\[0\\]\\[0\\].*…: a value nested more than ${MAX_DEPTH} levels deep`))
    // The codec would have overflowed the stack on it.
    expect(() => codec.encode(deep)).toThrow(RangeError)
  })

  it('accepts a value nested exactly as deep as the limit, which encodes and decodes', () => {
    let deep: unknown = 1
    for (let i = 0; i < MAX_DEPTH + 1; i++) deep = new Set([deep])
    expect(codec.reject?.(deep)).toBeUndefined()
    expect(roundTrip(deep)).toEqual(deep)
    expect(codec.reject?.(new Set([deep]))).toMatch(/nested more than/)
  })

  it('keeps cycles, which it walks once', () => {
    const cyclic: Record<string, unknown> = { list: [] }
    cyclic.self = cyclic
    ;(cyclic.list as unknown[]).push(cyclic, new Map([[cyclic, cyclic]]))
    expect(codec.reject?.(cyclic)).toBeUndefined()
    const back = roundTrip(cyclic) as Record<string, unknown>
    expect(back.self).toBe(back)
  })
})

describe('round-trip check: values that would come back changed are refused, saying what and where', () => {
  // biome-ignore lint/suspicious/noSparseArray: a hole is what this test is about.
  const sparse = [1, , 3]
  const nullPrototype = Object.assign(Object.create(null) as object, { a: 1 })
  const withSymbol = { a: 1, [Symbol('s')]: 2 }
  const protoKey = JSON.parse('{"__proto__": 1}') as unknown
  const mapWithProperty = Object.assign(new Map(), { extra: 1 })
  const errorWithCode = Object.assign(new Error('x'), { code: 'E_X' })
  const misnamedError = Object.assign(new Error('x'), { name: 'TypeError' })
  const regExp = /a/g
  regExp.lastIndex = 1
  it.each<[string, unknown, RegExp]>([
    ['a string holding a lone surrogate', 'a\ud800', /^value: .*lone surrogate/],
    ['a lone surrogate deep inside', { users: [{ name: 'x\udc00' }] }, /^value\.users\[0\]\.name: .*lone surrogate/],
    ['a lone surrogate in a Map key', new Map([['k\ud800', 1]]), /^value\.keys\(\)\[0\]: .*lone surrogate/],
    ['a lone surrogate in a property name', { ok: { 'k\ud800': 1 } }, /^value\.ok\["k\\ud800"\]: a property name holding a lone surrogate/],
    ['a lone surrogate in an Error message', new Error('\ud800'), /^value\.message: .*lone surrogate/],
    ['a null-prototype object', { inner: nullPrototype }, /^value\.inner: .*null prototype/],
    ['symbol-keyed properties', [withSymbol], /^value\[0\]: .*symbol-keyed/],
    ['a sparse array', { list: sparse }, /^value\.list\[1\]: .*hole in a sparse array/],
    ['a property named __proto__', protoKey, /^value\.__proto__: .*__proto__/],
    ['a class instance', { p: new Point() }, /^value\.p: .*instance of Point/],
    ['a Map subclass', new (class Registry extends Map {})(), /instance of Registry/],
    ['an Array subclass', [new (class List extends Array {})()], /^value\[0\]: .*instance of List/],
    ['an Error subclass', new (class NotFound extends Error {})(), /instance of NotFound/],
    ['a boxed primitive', [new Number(1)], /instance of Number/],
    ['a Map with a property of its own', mapWithProperty, /Map with a property 'extra'/],
    ['an Error with a property of its own', errorWithCode, /property 'code'/],
    ['an Error named after another type', misnamedError, /named 'TypeError', which comes back as a TypeError/],
    ['a RegExp with lastIndex set', regExp, /lastIndex/],
    ['a function', { f: () => 1 }, /^value\.f: .*function/],
    ['a symbol', [Symbol('s')], /^value\[0\]: .*symbol/],
    ['a value in a Map', new Map([['k', new Point()]]), /^value\.get\("k"\): .*Point/],
  ])('refuses %s', (_, value, reason) => {
    expect(roundTripProblem(value)).toMatch(reason)
    expect(codec.reject?.(value)).toMatch(reason)
    // Refused rightly: the codec would not give it back as it was.
    let back: unknown
    try {
      back = roundTrip(value)
    } catch {
      return
    }
    expect(isDeepStrictEqual(back, value) && Object.getPrototypeOf(back) === Object.getPrototypeOf(value)).toBe(false)
  })

  it.each<[string, unknown]>([
    ['a plain object with nested values', { a: [1, { b: new Date(5) }], c: 'é😀' }],
    [
      'a shared object',
      (() => {
        const s = { n: 1 }
        return { a: s, b: [s, s] }
      })(),
    ],
    [
      'built-in errors, with a cause and a name of their own',
      [new TypeError('t', { cause: new RangeError('r') }), Object.assign(new Error('e'), { name: 'Custom' })],
    ],
    ['an AggregateError', new AggregateError([new Error('a')], 'all')],
    ['byte arrays', [Buffer.from('hi'), new Uint16Array([1, 2]), new Float64Array([-0, 1.5]), new DataView(new ArrayBuffer(2)), new ArrayBuffer(3)]],
    ['Maps and Sets holding objects', new Map<unknown, unknown>([[{ k: 1 }, new Set([[1], { a: 1 }])]])],
    ['a RegExp', /a+b/gi],
    ['an invalid Date', new Date(Number.NaN)],
    ['undefined inside', { a: undefined, b: [undefined] }],
  ])('accepts %s, which comes back as it was', (_, value) => {
    expect(codec.reject?.(value)).toBeUndefined()
    const back = roundTrip(value)
    expect(back).toEqual(value)
    expect(Object.getPrototypeOf(back)).toBe(Object.getPrototypeOf(value))
  })
})

describe('round-trip check: property', () => {
  // Strings of units that may be lone surrogates; -0 is left out: the codec documents that it comes back 0.
  const unit = fc.oneof(
    fc.constantFrom('a', 'é', '€', '😀'),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
  )
  const text = fc.string({ unit, maxLength: 6 })
  const leaf = fc.oneof(
    text,
    fc.double().map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    fc.bigInt(),
    fc.boolean(),
    fc.constantFrom(null, undefined),
    fc.date({ noInvalidDate: true }),
  )
  const value = fc.anything({
    key: fc.oneof(text, fc.constant('__proto__')),
    values: [leaf],
    maxDepth: 4,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withSparseArray: true,
    withBoxedValues: true,
    withTypedArray: true,
    withBigInt: true,
  })
  const packr = new Packr({ structuredClone: true })

  it('accepts exactly the values the default codec gives back deep-equal, and bounds their packed size', () => {
    fc.assert(
      fc.property(value, (v) => {
        const survey = surveyValue(v)
        const back = roundTrip(v)
        if (survey.problem === undefined) {
          expect(isDeepStrictEqual(back, v)).toBe(true)
          expect(packr.pack(v).length).toBeLessThanOrEqual(survey.maxPackedBytes)
        } else {
          expect(isDeepStrictEqual(back, v)).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('round-trip check: a value frozen through and through is walked no more', () => {
  it('surveys a root deepFreeze froze once more, then answers from memory', () => {
    let reads = 0
    const value = deepFreeze({
      list: [1, 'two', { three: 3 }],
      get counted() {
        reads++
        return 'x'
      },
    })
    const first = surveyValue(value)
    const readsAfterFirst = reads
    expect(readsAfterFirst).toBeGreaterThan(0)
    expect(surveyValue(value)).toBe(first)
    expect(reads).toBe(readsAfterFirst)
    expect(first).toMatchObject({ problem: undefined, objects: 3 })
  })

  it('walks a root the application froze itself every time: what it holds may still change', () => {
    const list: unknown[] = [1]
    const value = Object.freeze({ list })
    expect(surveyValue(value).problem).toBeUndefined()
    expect(surveyValue(value).problem).toBeUndefined()
    list.push(() => 1)
    expect(surveyValue(value).problem).toMatch(/^value\.list\[1\]: a function/)
  })

  it('walks a frozen root holding a Date every time: a freeze leaves a Date changeable', () => {
    const value = deepFreeze({ when: new Date(0) })
    expect(surveyValue(value).problem).toBeUndefined()
    expect(surveyValue(value).problem).toBeUndefined()
    ;(value.when as unknown as Record<string, unknown>).note = 'added'
    expect(surveyValue(value).problem).toMatch(/^value\.when: a Date with a property 'note'/)
  })
})
