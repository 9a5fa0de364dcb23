import { describe, expect, it } from 'vitest'
import { freezeDecoded, freezingCodec } from '../../src/codec/deep-freeze.js'
import { createDefaultCodec } from '../../src/codec/default-codec.js'

/** Every plain object, array, Map and Set reachable from `value`, each once. */
function reachable(value: unknown, seen = new Set<object>()): Set<object> {
  if (typeof value !== 'object' || value === null || seen.has(value)) return seen
  seen.add(value)
  if (value instanceof Map) for (const [k, v] of value) reachable(v, reachable(k, seen))
  else if (value instanceof Set) for (const item of value) reachable(item, seen)
  else if (!(value instanceof Date)) for (const item of Object.values(value)) reachable(item, seen)
  return seen
}

const decoded = (value: unknown): unknown => {
  const codec = freezingCodec(createDefaultCodec())
  return codec.decode(codec.encode(value))
}

describe('freezeDecoded: a value read from a tier is frozen through and through', () => {
  it('freezes nested records and arrays, and the Maps and Sets inside them with their contents', () => {
    const value = decoded({
      id: 1,
      lines: [{ sku: 'a', qty: 2 }, [{ deep: { deeper: [1, 2] } }]],
      byName: new Map<string, unknown>([['x', { n: 1 }]]),
      kinds: new Set([{ k: 'a' }]),
      when: new Date(5),
    })
    const objects = [...reachable(value)].filter((o) => !(o instanceof Date))
    expect(objects.length).toBe(11)
    for (const object of objects) expect(Object.isFrozen(object)).toBe(true)
    expect((value as { when: Date }).when.getTime()).toBe(5)
  })

  it('ends on a cycle and on a shared object, freezing each once', () => {
    const shared = { n: 1 }
    const cyclic: Record<string, unknown> = { a: shared, b: shared, list: [shared] }
    cyclic.self = cyclic
    const value = decoded(cyclic) as Record<string, unknown>
    expect(value.self).toBe(value)
    expect(value.a).toBe(value.b)
    for (const object of reachable(value)) expect(Object.isFrozen(object)).toBe(true)
  })

  it('leaves what cannot be frozen as it is, and returns primitives unchanged', () => {
    const bytes = new Uint8Array([1, 2, 3])
    const value = freezeDecoded({ bytes, when: new Date(0) })
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.bytes)).toBe(false)
    expect(freezeDecoded(7)).toBe(7)
    expect(freezeDecoded(null)).toBe(null)
  })
})
