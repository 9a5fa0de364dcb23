const MAX_DEPTH = 16
const OBJECT_OVERHEAD = 32
const SLOT = 8

/**
 * A rough count of the heap bytes a live value holds, for `hot.maxBytes`.
 * V8 gives no exact figure; this is consistent, cheap and allocation-free,
 * which is what a bound needs. Shared substructures are counted each time
 * they are reached, and anything deeper than 16 levels as one object.
 */
export function estimateSize(value: unknown): number {
  return sizeAt(value, 0)
}

function sizeAt(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2
    case 'number':
    case 'boolean':
    case 'undefined':
      return SLOT
    case 'bigint':
      return 16 + Math.ceil(value.toString(16).length / 2)
    case 'symbol':
    case 'function':
      return OBJECT_OVERHEAD
  }
  if (value === null) return SLOT
  if (depth >= MAX_DEPTH) return OBJECT_OVERHEAD
  const object = value as object
  if (ArrayBuffer.isView(object)) return OBJECT_OVERHEAD + object.byteLength
  if (object instanceof ArrayBuffer) return OBJECT_OVERHEAD + object.byteLength
  let size = OBJECT_OVERHEAD
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) size += SLOT + sizeAt(object[i], depth + 1)
  } else if (object instanceof Map) {
    for (const [k, v] of object) size += 2 * SLOT + sizeAt(k, depth + 1) + sizeAt(v, depth + 1)
  } else if (object instanceof Set) {
    for (const v of object) size += SLOT + sizeAt(v, depth + 1)
  } else if (!(object instanceof Date)) {
    for (const key in object) {
      size += SLOT + 16 + key.length * 2 + sizeAt((object as Record<string, unknown>)[key], depth + 1)
    }
  }
  return size
}
