import type { Codec } from './codec.js'
import { encodesLike } from './default-codec.js'
import { addFrozenRoot, isFrozenRoot } from './frozen-roots.js'

/** Objects walked before the walk starts remembering them in a Set: a few, for most values. */
const LISTED_OBJECTS = 32

/**
 * Freezes a value that is data (what `values: 'data'` accepts) through and
 * through: plain objects, arrays, Maps, Sets and Errors are frozen and their
 * contents walked. A frozen Map or Set still takes `set` and `add`, and Dates
 * and typed arrays cannot be frozen at all: those stay as they are. Shared
 * objects and cycles are walked once.
 */
export function deepFreeze<T>(value: T): T {
  // A root frozen through and through already: setting the same value again costs one lookup.
  if (typeof value !== 'object' || value === null || isFrozenRoot(value)) return value
  const walked: object[] = []
  let walkedSet: Set<object> | undefined
  const stack: object[] = [value]
  // Plain objects and arrays, each met once: the codec then packs the value without tracking references.
  let tree = true
  while (stack.length > 0) {
    const object = stack.pop() as object
    if (walkedSet !== undefined ? walkedSet.has(object) : walked.includes(object)) {
      tree = false
      continue
    }
    if (walked.length < LISTED_OBJECTS) walked.push(object)
    else (walkedSet ??= new Set(walked)).add(object)
    if (!freezeBranches(object, stack)) tree = false
  }
  addFrozenRoot(value, tree)
  return value
}

/**
 * `deepFreeze` for a value just decoded, which nothing else holds yet: none
 * of its objects is frozen before this walk, so a frozen one has been walked
 * (a shared object, a cycle) and the walk needs no list of what it saw. Its
 * root is not remembered as frozen: a value read is rarely stored again, and
 * one that is gets the ordinary walk then.
 */
export function freezeDecoded<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  const stack: object[] = [value]
  while (stack.length > 0) {
    const object = stack.pop() as object
    if (!Object.isFrozen(object)) freezeBranches(object, stack)
  }
  return value
}

/**
 * One step of both walks: freezes `object` if it is a plain object, array,
 * Map, Set or Error, and pushes the objects it holds. Returns false when it
 * is anything but a plain object or array of the usual prototype: no longer
 * a tree the codec may pack without tracking references.
 */
function freezeBranches(object: object, stack: object[]): boolean {
  const prototype: unknown = Object.getPrototypeOf(object)
  if (prototype === Object.prototype || prototype === null) {
    Object.freeze(object)
    const record = object as Record<string, unknown>
    for (const name in record) push(stack, record[name])
    return prototype !== null
  }
  if (Array.isArray(object)) {
    Object.freeze(object)
    for (let i = 0; i < object.length; i++) push(stack, object[i])
    return prototype === Array.prototype
  }
  freezeContainer(object, stack)
  return false
}

/** Maps, Sets and Errors (rare in data): frozen, with what they hold pushed; anything else stays as it is. */
function freezeContainer(object: object, stack: object[]): void {
  if (object instanceof Map) {
    Object.freeze(object)
    for (const [k, v] of object) {
      push(stack, k)
      push(stack, v)
    }
  } else if (object instanceof Set) {
    Object.freeze(object)
    for (const item of object) push(stack, item)
  } else if (object instanceof Error) {
    Object.freeze(object)
    push(stack, object.cause)
    if (object instanceof AggregateError) push(stack, object.errors)
  }
}

function push(stack: object[], value: unknown): void {
  if (typeof value === 'object' && value !== null) stack.push(value)
}

/** The codec, with every value it decodes frozen as a stored value is: a value reads the same from any tier. */
export function freezingCodec(codec: Codec): Codec {
  const freezing: Codec = {
    name: codec.name,
    encode: (value) => codec.encode(value),
    decode: (bytes) => freezeDecoded(codec.decode(bytes)),
    ...(codec.reject === undefined ? {} : { reject: (value: unknown) => (codec.reject as NonNullable<Codec['reject']>)(value) }),
    ...(codec.check === undefined ? {} : { check: (value: unknown, maxBytes: number) => (codec.check as NonNullable<Codec['check']>)(value, maxBytes) }),
  }
  encodesLike(freezing, codec, freezingCodec)
  return freezing
}
