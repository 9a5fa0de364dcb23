const MAX_DEPTH = 16
const OBJECT_OVERHEAD = 32
const SLOT = 8
const COUNTED_NAIVELY = 32

/**
 * A rough count of the heap bytes a live value holds, for `hot.maxBytes`
 * and, with only a hot tier, `maxValueBytes`. V8 gives no exact figure; this
 * is consistent and cheap, which is what a bound needs. Past its first 32
 * objects, an object reached twice (shared, or a cycle) is counted once, so
 * that shared references cost linear time; anything deeper than 16 levels
 * counts as one object. Past `limit` it stops counting and returns what it has, more
 * than `limit`: a bound needs no more, and a huge value costs no more than it.
 * Throws what reading the value throws (a getter, a revoked Proxy).
 */
export function estimateSize(value: unknown, limit = Infinity): number {
  // Most values are flat: they allocate nothing.
  if (typeof value !== 'object' || value === null) return leafSize(value)
  const count: Count = { root: value, total: 0, limit, objects: 0, seen: undefined }
  add(count, value, 0)
  return count.total
}

interface Count {
  root: object
  total: number
  limit: number
  objects: number
  seen: Set<object> | undefined
}

function leafSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2
    case 'bigint':
      return 16 + Math.ceil(value.toString(16).length / 2)
    case 'symbol':
    case 'function':
      return OBJECT_OVERHEAD
    default:
      return SLOT
  }
}

function add(count: Count, value: unknown, depth: number): void {
  if (typeof value !== 'object' || value === null) {
    count.total += leafSize(value)
    return
  }
  if (depth >= MAX_DEPTH) {
    count.total += OBJECT_OVERHEAD
    return
  }
  // Small values are counted without remembering what was seen (a shared object counts each time): no allocation.
  if (++count.objects > COUNTED_NAIVELY) {
    const seen = (count.seen ??= new Set([count.root]))
    if (seen.has(value)) return
    seen.add(value)
  }
  const object = value as object
  count.total += OBJECT_OVERHEAD
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    count.total += object.byteLength
  } else if (Array.isArray(object)) {
    for (let i = 0; i < object.length && count.total <= count.limit; i++) {
      count.total += SLOT
      add(count, object[i], depth + 1)
    }
  } else if (object instanceof Map) {
    for (const [k, v] of object) {
      if (count.total > count.limit) return
      count.total += 2 * SLOT
      add(count, k, depth + 1)
      add(count, v, depth + 1)
    }
  } else if (object instanceof Set) {
    for (const v of object) {
      if (count.total > count.limit) return
      count.total += SLOT
      add(count, v, depth + 1)
    }
  } else if (!(object instanceof Date)) {
    for (const key in object) {
      if (count.total > count.limit) return
      count.total += SLOT + 16 + key.length * 2
      add(count, (object as Record<string, unknown>)[key], depth + 1)
    }
  }
}
