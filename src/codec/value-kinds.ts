/*
 * Which objects the default codec (msgpackr in structured-clone mode) gives
 * back as they were, and what it changes in the others: the type rules of
 * the value check in round-trip.ts, apart from its walk.
 */

const plainErrors: [string, { prototype: unknown }][] = [
  ['Error', Error],
  ['EvalError', EvalError],
  ['RangeError', RangeError],
  ['ReferenceError', ReferenceError],
  ['SyntaxError', SyntaxError],
  ['TypeError', TypeError],
  ['URIError', URIError],
  ['AggregateError', AggregateError],
]
/** The errors msgpackr rebuilds by name; any other name comes back on an Error. */
export const ERROR_PROTOTYPES = new Map<unknown, string>(plainErrors.map(([name, type]) => [type.prototype, name]))
const ERROR_NAMES = new Set(plainErrors.map(([name]) => name))
/** What msgpackr keeps of an Error, besides its type: own properties of other names are dropped. */
const ERROR_FIELDS = new Set(['name', 'message', 'cause'])

const BYTE_PROTOTYPES = new Set<unknown>([
  Buffer.prototype,
  DataView.prototype,
  ArrayBuffer.prototype,
  ...[
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ].map((type) => type.prototype),
])

/** What is wrong with the object itself, its contents aside: undefined when the codec gives it back as it is. */
export function objectProblem(object: object, prototype: unknown): string | undefined {
  if (Object.getOwnPropertySymbols(object).length !== 0) return 'an object with symbol-keyed properties, which are not encoded'
  if (prototype === Object.prototype || prototype === Array.prototype) return undefined
  if (prototype === null) return 'an object with a null prototype, which comes back with Object.prototype'
  const errorName = ERROR_PROTOTYPES.get(prototype)
  if (errorName !== undefined) return errorProblem(object as Error, errorName)
  const known = prototype === Map.prototype || prototype === Set.prototype || prototype === Date.prototype || prototype === RegExp.prototype
  if (!known && !BYTE_PROTOTYPES.has(prototype)) {
    const name = ((prototype as { constructor?: { name?: string } }).constructor?.name ?? '') || 'a class'
    return `an instance of ${name}, which comes back as another type (only plain objects, arrays, Map, Set, Date, RegExp, Error, typed arrays, ArrayBuffer and DataView are kept)`
  }
  if (prototype === RegExp.prototype && (object as RegExp).lastIndex !== 0) return 'a RegExp whose lastIndex is set, which comes back 0'
  // A byte array's properties cannot be listed without listing every index: those are not checked.
  if (!ArrayBuffer.isView(object)) {
    const type = (prototype as { constructor: { name: string } }).constructor.name
    for (const name in object) return `a ${type} with a property '${name}', which is not encoded`
  }
  return undefined
}

function errorProblem(error: Error, typeName: string): string | undefined {
  const name: unknown = error.name
  if (typeof name !== 'string' || typeof error.message !== 'string') return 'an Error whose name or message is not a string'
  // msgpackr rebuilds an error by its name: a built-in name gives that type back, any other a plain Error.
  if (ERROR_NAMES.has(name) ? name !== typeName : typeName !== 'Error') {
    return `a ${typeName} named '${name}', which comes back as ${ERROR_NAMES.has(name) ? `a ${name}` : 'an Error'}`
  }
  for (const field in error) {
    if (!ERROR_FIELDS.has(field)) return `an Error with a property '${field}', which is not encoded (only name, message and cause are)`
  }
  return undefined
}

export function byteLength(object: object): number {
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return object.byteLength
  return 0
}
